"""The half-day course (notebooks/workshops/intro-half-day): its shape, and its solutions run.

Exercise notebooks and their solutions must stay the same course: same cells in the same
order, only the exercise cells differ. The solutions of parts 1 and 2 run top to bottom
(papermill) against an embedded store with a day of demo data and its catalog, with a local
Dask cluster; part 3 (reruns) runs in tests/rerun/test_rerun_course.py, and every rehearsal
in test_workshop_lifecycle.py runs part 1 in participants' servers on the gateway.
"""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import papermill
import pytest

COURSE = Path(__file__).parents[1] / "notebooks" / "workshops" / "intro-half-day"
PARTS = sorted(p.name for p in COURSE.glob("*.ipynb"))


def test_the_course_has_three_parts_with_exercises_and_solutions():
    assert PARTS == [
        "01-find-and-plot.ipynb",
        "02-dask-at-scale.ipynb",
        "03-rerun-and-compare.ipynb",
    ]
    for name in PARTS:
        exercises = nbformat.read(COURSE / name, as_version=4)
        solutions = nbformat.read(COURSE / "solutions" / name, as_version=4)
        nbformat.validate(exercises)
        assert len(exercises.cells) == len(solutions.cells), name
        asked = 0
        for mine, theirs in zip(exercises.cells, solutions.cells, strict=True):
            tags = mine.metadata.get("tags", [])
            if "exercise" in tags:
                asked += 1
                assert theirs.metadata["tags"] == ["solution"]
                assert mine.source != theirs.source
            else:
                assert (mine.cell_type, mine.source) == (theirs.cell_type, theirs.source)
        assert asked >= 2, f"{name} has {asked} exercise(s)"


def test_the_first_part_has_the_dask_step_rehearsals_run():
    first = nbformat.read(COURSE / PARTS[0], as_version=4)
    dask = [c for c in first.cells if "dask" in c.metadata.get("tags", [])]
    assert len(dask) == 1
    assert "dask_cluster(" in dask[0].source


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory):
    """A store of its own (a process: moto keeps one state per process) with a day of
    HERMES demo data and its catalog."""
    from soc_workspace.catalog import build
    from soc_workspace.demo import write_demo_data
    from soc_workspace.store.process import serve_in_subprocess

    store = serve_in_subprocess(tmp_path_factory.mktemp("course-store"))
    try:
        options = store.storage_options()
        write_demo_data(options, days=1, progress=False, missions=["hermes"])
        build(mission="hermes", storage_options=options, progress=False)
        yield store
    finally:
        store.stop()


@pytest.mark.integration
@pytest.mark.slow
@pytest.mark.parametrize("part", PARTS[:2])
def test_solutions_run_top_to_bottom(part, demo_store, tmp_path, monkeypatch):
    for name, value in demo_store.environment().items():
        monkeypatch.setenv(name, value)
    out = tmp_path / part
    papermill.execute_notebook(
        str(COURSE / "solutions" / part),
        str(out),
        kernel_name="python3",
        cwd=str(tmp_path),
        progress_bar=False,
    )
    ran = nbformat.read(out, as_version=4)
    errors = [o for c in ran.cells for o in c.get("outputs", []) if o.output_type == "error"]
    assert errors == []
    solved = [c for c in ran.cells if "solution" in c.metadata.get("tags", [])]
    assert all(c.outputs for c in solved)  # every solution printed or drew something
    # BokehJS is in the notebook itself: the plots draw offline, also in an HTML export
    assert "cdn.bokeh.org" not in json.dumps([c.get("outputs", []) for c in ran.cells])
