"""A rerun with no object store configured (a laptop, a first try): the calibration's products,
log and provenance go to a local folder, which the result names with the setting to set; the
command line prints no traceback. (No store fixture in this module: nothing reachable.)"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from soc_workspace.calibration import rerun_file

from .rerun_helpers import SOC, packet_start, raw_name, routing, simulate

pytestmark = pytest.mark.integration


@pytest.fixture
def no_store(instrument_env, environments_dir, monkeypatch):
    """The test instrument's routing and nothing else: no endpoint, no credentials."""
    for name in list(os.environ):
        if name.startswith("AWS_") and name not in (
            "AWS_CONFIG_FILE",
            "AWS_SHARED_CREDENTIALS_FILE",
        ):
            monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    for name, value in routing(environments_dir).items():
        monkeypatch.setenv(name, value)
    return environments_dir


def test_outputs_go_to_a_local_folder_and_say_why(no_store, tmp_path):
    raw = simulate(tmp_path / raw_name(2, day=203), packets=30, start=packet_start(2, 203))
    result = rerun_file(raw)
    assert result.status == "ok", result.error
    local = Path.home() / "soc-workspace-reruns" / result.run_id
    assert result.run_url == str(local)
    (product,) = result.products
    assert Path(product).is_file()
    assert product.startswith(f"{local}/l1/unknown/2025/07/22/hermes_eea_l1_")
    assert Path(result.log_url).is_file()
    record = json.loads(Path(result.provenance_url).read_text())
    assert record["outputs"][0]["url"] == product
    note = result.warnings[0]
    assert str(local) in note
    assert "scratch.url" in note
    assert "store.endpoint_url" in note


def test_a_store_that_fails_after_the_calibration_loses_nothing(no_store, tmp_path):
    raw = simulate(tmp_path / raw_name(3, day=203), packets=30, start=packet_start(3, 203))
    result = rerun_file(raw, output="s3://soc-workspace-scratch/me/reruns/explicit")
    assert result.status == "ok", result.error
    local = Path.home() / "soc-workspace-reruns" / result.run_id
    assert result.run_url == str(local)
    assert Path(result.products[0]).is_file()
    assert "could not be written: NoCredentialsError" in result.warnings[0]


def test_the_command_line_prints_the_folder_not_a_traceback(no_store, tmp_path):
    raw = simulate(tmp_path / raw_name(4, day=203), packets=30, start=packet_start(4, 203))
    done = subprocess.run(
        [str(SOC), "rerun", str(raw), "--no-compare"],
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    assert "1 ok" in done.stdout
    assert "soc-workspace-reruns" in done.stdout
    assert "scratch.url" in done.stdout
    # a time range needs the store: a clear error, exit 1, no traceback
    done = subprocess.run(
        [str(SOC), "rerun", "--mission", "hermes", "--instrument", "eea",
         "--start", "2025-07-22", "--stop", "2025-07-23"],
        capture_output=True, text=True,
    )  # fmt: skip
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert "store" in done.stderr
