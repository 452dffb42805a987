"""Part 3 of the half-day course (rerun and compare) runs, exercises and solutions alike.

As test_rerun_notebook.py runs the rerun template: against the embedded store with raw files
and the "pipeline's" products, the test instrument standing in for HERMES EEA, a local Dask
cluster.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import papermill
import pytest

from .rerun_helpers import catalog_built, put_raw_and_products

pytestmark = [pytest.mark.integration, pytest.mark.slow]
COURSE = Path(__file__).parents[2] / "notebooks" / "workshops" / "intro-half-day"
PART = "03-rerun-and-compare.ipynb"


@pytest.mark.parametrize("version", ["exercises", "solutions"])
def test_part_3_reruns_and_compares(version, s3, instrument_env, tmp_path, monkeypatch):
    monkeypatch.delenv("MPLBACKEND", raising=False)
    put_raw_and_products(s3, tmp_path / "day", instrument_env, hours=(0, 1), packets=60, day=200)
    notebook = COURSE / PART if version == "exercises" else COURSE / "solutions" / PART
    executed = tmp_path / "executed.ipynb"
    with catalog_built(s3):  # the course finds its inputs through the catalog, as in a workshop
        papermill.execute_notebook(
            str(notebook),
            str(executed),
            parameters={"start": "2025-07-19T00:00", "stop": "2025-07-19T02:00", "workers": 2},
            kernel_name="python3",
            cwd=str(tmp_path),
            progress_bar=False,
        )
    ran = nbformat.read(executed, as_version=4)
    cells = {tag: cell for cell in ran.cells for tag in cell.metadata.get("tags", [])}
    text = "".join(o.get("text", "") for o in cells["rerun"].outputs)
    assert "statuses: {'ok': 2}" in text
    assert "IDENTICAL" in "".join(o.get("text", "") for o in cells["comparison"].outputs)
    if version == "solutions":
        solved = [c for c in ran.cells if "solution" in c.metadata.get("tags", [])]
        printed = [o.get("text", "") for c in solved for o in c.outputs]
        assert printed[0].strip() == "0"  # no variable differs from the archive
        assert "soc_test_instrument" in printed[1]
