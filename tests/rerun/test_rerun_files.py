"""One file through the full path: store -> mission environment subprocess -> scratch -> compare.

The inputs are HERMES EEA level-0 files in the real bucket and key layout; the test instrument
package (in its own venv, built by `soc-workspace env create`) calibrates them. Its products,
made once by "the pipeline", are archived in the same bucket.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from soc_workspace.calibration import MissionEnvironmentError, archived_url, compare, rerun_file
from soc_workspace.calibration.outputs import current_user
from soc_workspace.store import PipelineBucketError

from .rerun_helpers import (
    ENV_NAME,
    PACKAGE,
    PIPELINE_BUCKET,
    bucket_checksums,
    packet_start,
    put_raw_and_products,
    raw_name,
    simulate,
)

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def archive(s3, instrument_env, tmp_path_factory):
    """Two raw files and their l1 products in hermes-eea, plus damaged inputs beside them."""
    folder = tmp_path_factory.mktemp("pipeline")
    urls = put_raw_and_products(s3, folder, instrument_env, hours=(0, 1), packets=120)
    bad = tmp_path_factory.mktemp("bad")
    truncated = simulate(bad / raw_name(5), packets=50, start=packet_start(5))
    truncated.write_bytes(truncated.read_bytes()[:-30])
    hk_only = simulate(bad / raw_name(6), packets=20, start=packet_start(6))
    data = bytearray(hk_only.read_bytes())
    for offset in range(0, len(data), 72):  # APID 260 -> 261: housekeeping only
        data[offset + 1] = 261 & 0xFF
    hk_only.write_bytes(bytes(data))
    unknown_sensor = simulate(bad / raw_name(7), packets=20, start=packet_start(7), sensor=7)
    for path in (truncated, hk_only, unknown_sensor):
        s3.put_file(str(path), f"{PIPELINE_BUCKET}/l0/2025/07/01/{path.name}")
    urls["bad"] = {
        name: f"s3://{PIPELINE_BUCKET}/l0/2025/07/01/{path.name}"
        for name, path in (("truncated", truncated), ("hk", hk_only), ("sensor", unknown_sensor))
    }
    # The pipeline ran earlier than any rerun: its products' Generation_date (in seconds) differs.
    time.sleep(1.1)
    return urls


@pytest.fixture(scope="module")
def first(archive):
    """A rerun of the first raw file (shared by the assertions below)."""
    return rerun_file(archive["raw"][0])


def test_rerun_of_an_unchanged_input_is_identical_to_the_archive(first, archive, s3):
    assert first.status == "ok", first.log
    assert len(first.products) == 1
    product = first.products[0]
    run = f"s3://soc-workspace-scratch/{current_user()}/reruns/{first.run_id}"
    assert first.run_url == run
    # the SOC key layout below the run folder, and the archived product has the same key
    assert product.startswith(f"{run}/l1/unknown/2025/07/01/hermes_eea_l1_20250701T")
    assert archived_url(product) == archive["products"][0]
    report = compare(product, archive["products"][0])
    assert report.verdict == "identical", str(report)
    # the generation date differs and is listed, but ignored
    ignored = report.attributes[report.attributes["ignored"]]
    assert list(ignored["attribute"]) == ["Generation_date"]


def test_rerun_writes_log_and_provenance_beside_the_products(first, archive, s3):
    record = json.loads(s3.cat_file(first.provenance_url))
    assert record == json.loads(json.dumps(first.provenance, default=str))
    source = record["input"]
    assert source["url"] == archive["raw"][0]
    info = s3.info(archive["raw"][0])
    assert source["etag"] == info["ETag"].strip('"')
    assert source["size"] == info["size"]
    assert len(source["sha256"]) == 64
    assert record["package"] == PACKAGE
    assert record["package_version"].startswith("1.0.0 (file:")
    env = record["environment"]
    assert env["name"] == ENV_NAME
    assert env["packages"]["numpy"] == "2.4.6"
    assert env["packages"]["cdflib"] == "1.3.16"
    assert "numpy==2.4.6" in env["spec"]
    assert record["command"][0].endswith(f"{ENV_NAME}/bin/python")
    assert record["started"] < record["finished"]
    assert [o["url"] for o in record["outputs"]] == first.products
    log = s3.cat_file(first.log_url).decode()
    assert "calling soc_test_instrument.calibration.calibration.process_file" in log
    assert "wrote hermes_eea_l1_" in log
    # the instrument's logger prints through a handler of its own and propagates, as swxsoc's
    # does: each of its lines is in the log once
    assert log.count("Processing file") == 1, log
    assert log.count("wrote hermes_eea_l1_") == 1, log


def test_mission_code_sees_no_credentials_and_no_home_of_ours(first, archive, monkeypatch):
    # The store's credentials are in this process's environment (store_env): none may pass.
    assert os.environ.get("AWS_SECRET_ACCESS_KEY")
    monkeypatch.setenv("LAMBDA_ENVIRONMENT", "PRODUCTION")
    monkeypatch.setenv("GITHUB_TOKEN", "ghp_not-for-mission-code")
    result = rerun_file(archive["raw"][1])
    assert result.status == "ok", result.log
    assert "no credentials: housekeeping not recorded" in result.log
    variables = result.provenance["environment"]["variables"]
    for secret in (
        "AWS_SECRET_ACCESS_KEY",
        "AWS_ACCESS_KEY_ID",
        "LAMBDA_ENVIRONMENT",
        "GITHUB_TOKEN",
        "SOC_WORKSPACE__STORE__ENDPOINT_URL",
    ):
        assert secret not in variables
    assert "AWS_EC2_METADATA_DISABLED" in variables
    # the instrument writes ~/.config/soc_test_instrument: into scratch, not into our HOME
    assert not (Path.home() / ".config" / "soc_test_instrument").exists()


def test_credentials_pass_only_when_explicitly_allowed(archive):
    result = rerun_file(archive["raw"][1], pass_env=["AWS_ACCESS_KEY_ID", "AWS_SECRET_*"])
    assert result.status == "ok"
    assert "credentials in the environment (['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY'])" in (
        result.log
    )
    assert result.provenance["environment"]["passed_from_caller"].count("AWS_ACCESS_KEY_ID") == 1


@pytest.mark.parametrize(
    ("case", "status", "error"),
    [
        (
            "truncated",
            "failed",
            "ValueError: hermes_EEA_l0_2025182-050000_v0.bin: 3570 bytes is "
            "not a whole number of 72-byte packets",
        ),
        ("hk", "no product", None),
        ("sensor", "failed", "unexpected KeyError: 'no calibration table for sensor id(s) [7]'"),
    ],
)
def test_bad_inputs_are_reported_by_the_contract(archive, case, status, error):
    result = rerun_file(archive["bad"][case])
    assert result.status == status, result.log
    if error:
        assert result.error.startswith(error)
        assert "Traceback" in result.provenance["traceback"]
    assert result.products == []
    assert result.log_url
    assert result.provenance_url


def test_inputs_that_cannot_run_raise_clear_errors(archive):
    with pytest.raises(ValueError, match=r"hermes_XYZ_l0_2025152-000000_v0\.bin"):
        rerun_file("hermes_XYZ_l0_2025152-000000_v0.bin")
    with pytest.raises(FileNotFoundError, match=r"hermes-eea/l0/2025/07/01/.*_2025182-230000"):
        rerun_file(raw_name(23))  # a bare name is looked up at its key in the bucket
    with pytest.raises(MissionEnvironmentError, match="'hermes' does not exist"):
        # only EEA is routed to the test environment; NEMISIS goes to "hermes", not built here
        rerun_file("hermes_NEM_l0_2025152-000000_v0.bin")


def test_missing_calibration_package_is_a_failed_file(archive, s3, tmp_path):
    path = tmp_path / "hermes_NEM_l0_2025152-000000_v0.bin"
    path.write_bytes(b"\0" * 72)
    result = rerun_file(path, environment=ENV_NAME)
    assert result.status == "failed"
    assert result.error.startswith("cannot import hermes_nemisis.calibration: ModuleNotFoundError")


def test_outputs_never_go_to_a_pipeline_bucket(archive, s3):
    before = bucket_checksums(s3)
    with pytest.raises(PipelineBucketError, match="hermes-eea"):
        rerun_file(archive["raw"][0], output="s3://hermes-eea/reruns/mine")
    with pytest.raises(PipelineBucketError, match="dev-padre-meddea"):
        rerun_file(archive["raw"][0], output="s3://dev-padre-meddea/x")
    assert bucket_checksums(s3) == before


def test_a_calibration_that_runs_too_long_is_stopped(s3, tmp_path):
    slow = simulate(tmp_path / raw_name(9), packets=1500, start=packet_start(9))
    result = rerun_file(slow, timeout=0.2)
    assert result.status == "failed"
    assert result.error.startswith("timed out after")
    assert result.products == []


def test_without_warm_interpreters_each_file_starts_its_own(archive, monkeypatch):
    monkeypatch.setenv("SOC_WORKSPACE__CALIBRATION__REUSE_INTERPRETERS", "false")
    result = rerun_file(archive["raw"][0])
    assert result.status == "ok", result.log
    assert result.provenance["command"][4:6] == ["run", PACKAGE]
    assert compare(result.products[0], archive["products"][0]).verdict == "identical"


def test_the_test_instrument_calibrates_the_demo_data_eea_level_0(s3, tmp_path):
    """The demo generator's EEA l0 packets decode to exactly the demo's own l1 counts."""
    from datetime import UTC, datetime

    from soc_workspace.demo import hermes

    for name, data in hermes.hour_products("eea", datetime(2025, 6, 1, 13, tzinfo=UTC), 0, False):
        (tmp_path / name).write_bytes(data)
    result = rerun_file(tmp_path / "hermes_EEA_l0_2025152-130000_v0.bin")
    assert result.status == "ok", result.log
    product = result.products[0]
    assert product.endswith("/l1/unknown/2025/06/01/hermes_eea_l1_20250601T130000_v1.0.0.cdf")
    archived = tmp_path / "hermes_eea_l1_20250601T130000_v1.0.0.cdf"
    report = compare(product, archived)
    rows = report.variables.set_index("variable")
    status = rows["status"]
    assert status["Epoch"] == "identical"
    # v1.0.0 of the demo marks some records fill; the rerun has their counts (as v1.0.1 does)
    import cdflib

    fill_records = int(
        (cdflib.CDF(str(archived)).varget("hermes_eea_accum") == 65535)
        .reshape(-1, 41 * 4 * 32)
        .all(axis=1)
        .sum()
    )
    assert fill_records == 2  # hour 13 of the demo's first day (seed 0)
    assert rows.loc["hermes_eea_accum", "n_different"] == fill_records * 41 * 4 * 32
    assert rows.loc["hermes_eea_stats", "n_different"] == fill_records
    assert report.added == ["hermes_eea_rate"]
    assert "hermes_eea_energy_profile" in report.removed
