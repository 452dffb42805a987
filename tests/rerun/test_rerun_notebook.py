"""The rerun template runs from top to bottom against a store with SOC data (papermill).

It runs here against the embedded store and a local Dask cluster, with the test instrument
standing in for HERMES EEA; the settings and store variables of this process reach the kernel
and its Dask workers through the environment, as the workspace's server environment does.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import papermill
import pytest

from .rerun_helpers import catalog_built, put_raw_and_products

pytestmark = [pytest.mark.integration, pytest.mark.slow]
TEMPLATE = Path(__file__).parents[2] / "notebooks" / "templates" / "rerun-calibration.ipynb"


def outputs(cell) -> str:
    text = []
    for output in cell.get("outputs", []):
        text.append(output.get("text", ""))
        data = output.get("data", {})
        text.append(data.get("text/plain", ""))
        text.append(data.get("text/html", ""))
    return "\n".join(text)


def test_the_template_reruns_and_compares_a_day(s3, instrument_env, tmp_path, monkeypatch):
    monkeypatch.delenv("MPLBACKEND", raising=False)  # the kernel's own inline backend
    day = put_raw_and_products(
        s3, tmp_path / "day", instrument_env, hours=(0, 1), packets=80, day=185
    )
    executed = tmp_path / "executed.ipynb"
    with catalog_built(s3):  # the template finds its inputs through the catalog
        papermill.execute_notebook(
            str(TEMPLATE),
            str(executed),
            parameters={"start": "2025-07-04", "stop": "2025-07-05", "workers": 2},
            kernel_name="python3",
            cwd=str(tmp_path),
            progress_bar=False,
        )
    notebook = nbformat.read(executed, as_version=4)
    cells = {tag: cell for cell in notebook.cells for tag in cell.metadata.get("tags", [])}
    rerun_output = outputs(cells["rerun"])
    assert "statuses: {'ok': 2}" in rerun_output
    comparison = outputs(cells["comparison"])
    assert "IDENTICAL" in comparison
    assert any(
        o.get("output_type") == "display_data" and "image/png" in o.get("data", {})
        for o in cells["plot"].outputs
    )
    # the products are in the run folder of the scratch bucket, one per input
    run = next(
        line.split(": ", 1)[1]
        for line in rerun_output.splitlines()
        if line.startswith("run folder: ")
    )
    products = [p for p in s3.find(run) if p.endswith(".cdf")]
    assert sorted(Path(p).name for p in products) == sorted(Path(u).name for u in day["products"])
