"""What a scientist met rerunning real products: product names the registry cannot parse,
`compare(product)` finding the archive itself, a quiet `rerun` whose "error" column holds
errors only."""

from __future__ import annotations

import os
import subprocess

import pytest
from rich.console import Console

from soc_workspace.calibration import compare, rerun
from soc_workspace.calibration.cli import _print_table

from .rerun_helpers import PIPELINE_BUCKET, SOC, packet_start, pipeline, raw_name, simulate

pytestmark = [pytest.mark.integration, pytest.mark.slow]
DAY = "2025/07/21"  # day of year 202: this module's own
CUSTOM = "eea_custom_{time}_v{version}.cdf"  # no mission, no level: the registry cannot parse it


@pytest.fixture(scope="module")
def custom_day(s3, instrument_env, tmp_path_factory):
    """Two raw files; the pipeline archived the product of the first under its custom name."""
    folder = tmp_path_factory.mktemp("custom")
    raws = [
        simulate(folder / raw_name(h, day=202), packets=40, start=packet_start(h, 202), seed=h)
        for h in (0, 1)
    ]
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SOC_TEST_INSTRUMENT_PRODUCT_NAME", CUSTOM)
        products = pipeline(folder, instrument_env)
    first = next(p for p in products if p.name.startswith("eea_custom_20250721T00"))
    if not s3.exists(PIPELINE_BUCKET):
        s3.mkdir(PIPELINE_BUCKET)
    s3.put_file(str(first), f"{PIPELINE_BUCKET}/l1/unknown/{DAY}/{first.name}")
    urls = []
    for raw in raws:
        s3.put_file(str(raw), f"{PIPELINE_BUCKET}/l0/{DAY}/{raw.name}")
        urls.append(f"s3://{PIPELINE_BUCKET}/l0/{DAY}/{raw.name}")
    return {"raw": urls, "archived": f"s3://{PIPELINE_BUCKET}/l1/unknown/{DAY}/{first.name}"}


def test_products_the_registry_cannot_parse_are_compared_by_the_inputs_convention(
    custom_day, monkeypatch
):
    monkeypatch.setenv("SOC_TEST_INSTRUMENT_PRODUCT_NAME", CUSTOM)
    table = rerun(
        custom_day["raw"],
        cluster=False,
        compare=True,
        pass_env=["SOC_TEST_INSTRUMENT_PRODUCT_NAME"],
        progress=False,
    )
    rows = table.set_index("input")
    archived, missing = (rows.loc[url] for url in custom_day["raw"])
    # a rerun that produced files is never reported as failed
    for row in (archived, missing):
        assert row["status"] == "ok", row["error"]
        assert row["error"] is None
        (product,) = row["products"]
        assert "/unsorted/eea_custom_20250721T" in product
    # the first one's archived product is found where the pipeline puts the input's products
    assert archived["archived"] == [custom_day["archived"]]
    assert archived["verdict"] == "identical", archived["differences"]
    # the second has none: "not compared", and why
    assert missing["archived"] == [None]
    assert missing["verdict"] == "not compared"
    assert "not a file name the mission registry can place" in missing["differences"]
    assert (
        f"no archived product of that name is in s3://{PIPELINE_BUCKET}" in (missing["differences"])
    )


def test_compare_finds_the_archived_product_itself(custom_day, s3, instrument_env, tmp_path):
    raw = tmp_path / raw_name(3, day=202)
    simulate(raw, packets=30, start=packet_start(3, 202), seed=3)
    (product,) = pipeline(tmp_path, instrument_env)
    s3.put_file(str(product), f"{PIPELINE_BUCKET}/l1/unknown/{DAY}/{product.name}")
    report = compare(product)  # a local copy: the archive is found by its name
    assert report.archived == f"s3://{PIPELINE_BUCKET}/l1/unknown/{DAY}/{product.name}"
    assert report.verdict == "identical"


def test_rerun_is_quiet_unless_asked(custom_day):
    env = {**os.environ, "COLUMNS": "200"}
    command = [str(SOC), "rerun", custom_day["raw"][1], "--workers", "1", "--no-compare"]
    quiet = subprocess.run(command, capture_output=True, text=True, env=env)
    assert quiet.returncode == 0, quiet.stdout + quiet.stderr
    assert "1 ok" in quiet.stdout
    assert "distributed." not in quiet.stderr  # a Dask cluster ran, silently
    loud = subprocess.run([*command, "-v"], capture_output=True, text=True, env=env)
    assert loud.returncode == 0, loud.stdout + loud.stderr
    assert "INFO - distributed." in loud.stderr or "distributed.scheduler" in loud.stderr


def test_the_error_column_holds_errors_only():
    import pandas as pd

    table = pd.DataFrame(
        [
            {"input": "a.bin", "status": "ok", "seconds": 1.0, "verdict": "different",
             "differences": "different: hermes_eea_rate", "error": None},
            {"input": "b.bin", "status": "failed", "seconds": 0.5, "verdict": None,
             "differences": "", "error": "ValueError: truncated"},
        ]
    )  # fmt: skip
    table.attrs.update(run_id="r", run_url="s3://x/r", note=None)
    console = Console(record=True, width=200)
    import soc_workspace.calibration.cli as cli

    original = cli.Console
    cli.Console = lambda: console
    try:
        _print_table(table)
    finally:
        cli.Console = original
    lines = console.export_text().splitlines()
    header = next(line for line in lines if "error" in line and "input" in line)
    error_at = header.index("error")
    row_a = next(line for line in lines if "a.bin" in line)
    row_b = next(line for line in lines if "b.bin" in line)
    assert "different: hermes_eea_rate" in row_a[:error_at]  # in its own column
    assert row_a[error_at:].strip(" │") == ""
    assert "ValueError: truncated" in row_b[error_at:]
