"""Every notebook template runs from top to bottom with its default parameters against the demo
data of a local workspace (papermill), and each wrong parameter ends in one clear message.

The demo data (one day, what ``soc-workspace up`` seeds) are written into an embedded store of
this module; the kernel and its Dask workers reach it through the environment, as a
workspace's user servers do. Each executed notebook is also written as HTML for review
(``$SOC_TEST_ARTIFACTS/templates``, default ``tests/artifacts/templates``).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import nbformat
import papermill
import pytest
from artifacts import artifacts_dir
from conftest import PROJECT_ROOT
from nbconvert import HTMLExporter

pytestmark = [pytest.mark.integration, pytest.mark.slow]
TEMPLATES = PROJECT_ROOT / "notebooks" / "templates"
# templates run with their defaults here; the others need what this module does not make
RUN_HERE = [
    "quickstart",
    "data-availability",
    "hermes-time-series-and-spectrograms",
    "padre-meddea-photons-and-spectra",
    "month-on-a-dask-cluster",
    "instrument-trending",
]
TESTED_ELSEWHERE = {
    # a mission environment with the calibration code: the test instrument stands in for it
    "rerun-calibration": "tests/rerun/test_rerun_notebook.py",
    "review-candidate-calibration": "tests/rerun/test_rerun_candidate.py",
}


def test_every_template_is_run_by_a_test():
    shipped = {path.stem for path in TEMPLATES.glob("*.ipynb")}
    assert shipped == set(RUN_HERE) | set(TESTED_ELSEWHERE)
    for test in TESTED_ELSEWHERE.values():
        assert (PROJECT_ROOT / test).is_file(), test


@pytest.fixture(scope="module")
def demo_workspace(tmp_path_factory) -> Iterator[None]:
    """One demo day in a store of its own (a process: moto keeps one state per process, and
    other modules' stores run in this one), reached through the environment."""
    from soc_workspace.demo import write_demo_data
    from soc_workspace.store.process import serve_in_subprocess

    store = serve_in_subprocess(tmp_path_factory.mktemp("templates-store"))
    before = dict(os.environ)
    try:
        write_demo_data(store.storage_options(), days=1, progress=False)
        os.environ.update(store.environment())
        os.environ.pop("MPLBACKEND", None)  # the kernel's own inline backend
        yield
    finally:
        os.environ.clear()
        os.environ.update(before)
        store.stop()


def run(name: str, tmp_path: Path, **parameters) -> nbformat.NotebookNode:
    executed = tmp_path / f"{name}.ipynb"
    try:
        papermill.execute_notebook(
            str(TEMPLATES / f"{name}.ipynb"),
            str(executed),
            parameters=parameters,
            kernel_name="python3",
            cwd=str(tmp_path),
            progress_bar=False,
        )
    finally:
        if executed.is_file():
            notebook = nbformat.read(executed, as_version=4)
            suffix = (
                "" if not parameters else "-" + "-".join(f"{k}={v}" for k, v in parameters.items())
            )
            html, _ = HTMLExporter().from_notebook_node(notebook)
            (artifacts_dir("templates") / f"{name}{suffix}.html").write_text(html)
    return nbformat.read(executed, as_version=4)


def tagged(notebook: nbformat.NotebookNode) -> dict[str, nbformat.NotebookNode]:
    return {tag: cell for cell in notebook.cells for tag in cell.metadata.get("tags", [])}


def text(cell: nbformat.NotebookNode) -> str:
    parts = []
    for output in cell.get("outputs", []):
        parts.append(output.get("text", ""))
        data = output.get("data", {})
        parts += [data.get("text/plain", ""), data.get("text/html", "")]
    return "\n".join(parts)


def drew(cell: nbformat.NotebookNode) -> bool:
    """The cell's output embeds a bokeh document with a plot in it (holoviews' rendering)."""
    html = "".join(o.get("data", {}).get("text/html", "") for o in cell.get("outputs", []))
    return "docs_json" in html and '"name":"Figure"' in html.replace(" ", "")


@pytest.mark.parametrize("name", RUN_HERE)
def test_template_runs_with_its_defaults(demo_workspace, tmp_path, name):
    notebook = run(name, tmp_path)
    cells = tagged(notebook)
    assert not [o for c in notebook.cells for o in c.get("outputs", []) if o.output_type == "error"]
    # BokehJS is in the notebook itself: its plots draw offline, also in an HTML export
    assert "cdn.bokeh.org" not in json.dumps([c.get("outputs", []) for c in notebook.cells])
    if name == "hermes-time-series-and-spectrograms":
        found = text(cells["find"])
        for instrument in ("eea", "nemisis", "merit", "spani"):
            assert f"24 files of hermes {instrument} l1" in found
        kinds = text(cells["kinds"])
        for kind in ("time series", "components", "spectrogram", "(log scale)"):
            assert kind in kinds  # (log scale): MERIT fluxes and SPANI counts are SCALETYP log
        assert drew(cells["plot"])
    if name == "data-availability":
        assert drew(cells["plot"])  # the heat strip
    if name == "padre-meddea-photons-and-spectra":
        assert drew(cells["events"])
        assert drew(cells["light-curves"])
        assert drew(cells["spectra"])
    if name == "month-on-a-dask-cluster":
        assert "Dask dashboard of this cluster" in text(cells["statistics"])
        assert "2025-06-01" in text(cells["daily"])
        assert drew(cells["plot"])
    if name == "instrument-trending":
        summary = text(cells["summary"])
        assert "hit_rate" in summary
        assert "FLAGGED" in summary  # the demo day's flare exceeds the hit-rate limit
        assert "changes too fast" in text(cells["flags"])
        assert drew(cells["plot"])


WRONG = [
    (
        "hermes-time-series-and-spectrograms",
        {"instruments": ["merit", "sharp"]},
        "unknown instrument 'sharp'",
    ),
    (
        "hermes-time-series-and-spectrograms",
        {"start": "2025-06-01", "stop": "2025-06-01"},
        "the time range is empty",
    ),
    (
        "hermes-time-series-and-spectrograms",
        {"start": "2024-01-01", "stop": "2024-01-02"},
        "no hermes eea l1 files between 2024-01-01 and 2024-01-02",
    ),
    (
        "padre-meddea-photons-and-spectra",
        {"start": "2025-06-02", "stop": "2025-06-01"},
        "is before start",
    ),
    ("month-on-a-dask-cluster", {"variable": "hermes_nem_b_max"}, "hermes_nem_b_max"),
    (
        "instrument-trending",
        {"mission": "hermes", "instrument": "eea"},
        "no housekeeping limits for hermes eea",
    ),
]


@pytest.mark.parametrize(("name", "parameters", "message"), WRONG)
def test_a_wrong_parameter_gives_one_clear_message(
    demo_workspace, tmp_path, name, parameters, message
):
    with pytest.raises(papermill.PapermillExecutionError) as raised:
        run(name, tmp_path, **parameters)
    assert raised.value.ename == "TemplateParameterError"
    assert message in raised.value.evalue
    notebook = nbformat.read(tmp_path / f"{name}.ipynb", as_version=4)
    errors = [o for c in notebook.cells for o in c.get("outputs", []) if o.output_type == "error"]
    assert len(errors) == 1
    # one line in the cell, not a traceback wall
    assert len(errors[0].traceback) == 1
    assert message in errors[0].traceback[0]
