"""A candidate calibration, end to end: `env create --from --with`, a rerun of a day in it with
`--compare`, and `review`, which must name exactly the variable the candidate changes.

The candidate is the test instrument with a different dead time, which changes the calibrated
rate (``hermes_eea_rate``) and nothing else: the raw counts, their sums, the energies and the
times stay as archived.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import nbformat
import papermill
import pytest

from soc_workspace.calibration.candidates import candidate_spec
from soc_workspace.calibration.review import review

from .rerun_helpers import ENV_NAME, HERE, SOC, put_raw_and_products

pytestmark = [pytest.mark.integration, pytest.mark.slow]
TEMPLATES = Path(__file__).parents[2] / "notebooks" / "templates"
TEMPLATE = TEMPLATES / "review-candidate-calibration.ipynb"
CANDIDATE = "eea-deadtime"


def git(folder: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(folder), "-c", "user.email=t@example.org", "-c", "user.name=t", *args],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()


def soc(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(SOC), *args], capture_output=True, text=True, env={**os.environ, "COLUMNS": "200"}
    )


@pytest.fixture(scope="module")
def candidate_source(tmp_path_factory) -> Path:
    """A working copy of the instrument package with another dead time, committed in git."""
    folder = tmp_path_factory.mktemp("candidate") / "soc_test_instrument"
    shutil.copytree(HERE / "instrument", folder)
    code = folder / "soc_test_instrument" / "calibration" / "calibration.py"
    text = code.read_text()
    assert "DEAD_TIME_S = 2.0e-6" in text
    code.write_text(text.replace("DEAD_TIME_S = 2.0e-6", "DEAD_TIME_S = 2.6e-6"))
    git(folder, "init", "-q", "-b", "dead-time")
    git(folder, "add", ".")
    git(folder, "commit", "-qm", "dead time measured again")
    return folder


@pytest.fixture(scope="module")
def candidate_run(rerun_env, s3, instrument_env, candidate_source, tmp_path_factory):
    folder = tmp_path_factory.mktemp("day200")
    day = put_raw_and_products(s3, folder, instrument_env, hours=(0, 1, 2), packets=90, day=200)
    built = soc("env", "create", CANDIDATE, "--from", ENV_NAME, "--with", str(candidate_source))
    assert built.returncode == 0, built.stdout + built.stderr
    done = soc(
        "rerun", "--mission", "hermes", "--instrument", "eea",
        "--start", "2025-07-19", "--stop", "2025-07-20",
        "--environment", CANDIDATE, "--compare", "--workers", "1", "--json",
        "--list-bucket",  # the test bucket has no catalog index
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr  # no file failed
    rows = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    run_id = rows[0]["provenance"].split("/reruns/", 1)[1].split("/", 1)[0]
    return {"day": day, "rows": rows, "run_id": run_id, "built": built.stdout}


def test_the_candidate_environment_replaces_one_package(
    candidate_run, candidate_source, environments_dir
):
    marker = json.loads((environments_dir / CANDIDATE / "soc-workspace-env.json").read_text())
    assert marker["candidate"] == {
        "base": ENV_NAME,
        "package": "soc-test-instrument",
        "source": candidate_source.resolve().as_uri(),
    }
    # the rest of the spec is the base's
    assert "numpy==2.4.6" in marker["spec"]
    assert "cdflib==1.3.16" in marker["spec"]
    # a git working copy: its commit is recorded with the environment
    head = git(candidate_source, "rev-parse", "HEAD")
    assert marker["sources"]["soc-test-instrument"]["commit"] == head
    assert marker["sources"]["soc-test-instrument"]["dirty"] is False
    assert f"commit {head}" in candidate_run["built"]
    python = environments_dir / CANDIDATE / "bin" / "python"
    probe = "import soc_test_instrument.calibration.calibration as c; print(c.DEAD_TIME_S)"
    found = subprocess.run([python, "-c", probe], capture_output=True, text=True)
    assert found.stdout == "2.6e-06\n", found.stderr


def test_every_product_differs_from_the_archive_and_the_provenance_names_the_commit(
    candidate_run, candidate_source, s3
):
    rows = candidate_run["rows"]
    assert sorted(r["input"] for r in rows) == sorted(candidate_run["day"]["raw"])
    assert {r["status"] for r in rows} == {"ok"}
    assert {r["verdict"] for r in rows} == {"different"}
    assert all("hermes_eea_rate" in r["differences"] for r in rows)
    record = json.loads(s3.cat_file(rows[0]["provenance"]))
    head = git(candidate_source, "rev-parse", "HEAD")
    assert record["environment"]["name"] == CANDIDATE
    assert record["environment"]["candidate"]["base"] == ENV_NAME
    assert record["environment"]["sources"]["soc-test-instrument"]["commit"] == head
    assert record["package_version"] == f"1.0.0 ({candidate_source.resolve().as_uri()}@{head})"


def test_review_names_exactly_the_changed_variable(candidate_run):
    result = review(candidate_run["run_id"])
    assert result.changed == ["hermes_eea_rate"]
    assert result.verdicts == {"different": 3}
    assert result.attributes.empty  # generation dates and versions are ignored
    row = result.variables.set_index("variable").loc["hermes_eea_rate"]
    assert row["files"] == 3
    assert row["records"] == 3 * 90  # every packet's spectrum moves with the dead time
    assert 0 < row["values"] <= row["values_compared"]
    assert row["max_rel_diff"] > 0
    assert row["max_abs_diff"] > 0
    assert result.histograms["hermes_eea_rate"].sum() == row["values"]
    largest = result.largest["hermes_eea_rate"]
    assert largest.abs_diff == row["max_abs_diff"]
    assert abs(largest.rerun_value - largest.archived_value) == pytest.approx(largest.abs_diff)
    assert result.environment["candidate"]["package"] == "soc-test-instrument"


def test_review_from_the_command_line(candidate_run):
    done = soc("review", candidate_run["run_id"], "--json")
    assert done.returncode == 1  # something changed
    found = json.loads(done.stdout)
    assert [v["variable"] for v in found["variables"]] == ["hermes_eea_rate"]
    assert found["files"] == 3
    text = soc("review", candidate_run["run_id"])
    assert "hermes_eea_rate" in text.stdout
    assert "hermes_eea_accum" not in text.stdout
    assert "Traceback" not in text.stderr


def test_the_review_template_plots_the_largest_changes(candidate_run, tmp_path, monkeypatch):
    monkeypatch.delenv("MPLBACKEND", raising=False)
    executed = tmp_path / "review.ipynb"
    papermill.execute_notebook(
        str(TEMPLATE),
        str(executed),
        parameters={"run_id": candidate_run["run_id"]},
        kernel_name="python3",
        cwd=str(tmp_path),
        progress_bar=False,
    )
    notebook = nbformat.read(executed, as_version=4)
    cells = {tag: cell for cell in notebook.cells for tag in cell.metadata.get("tags", [])}
    summary = "".join(
        o.get("text", "") + o.get("data", {}).get("text/plain", "")
        for o in cells["summary"].outputs
    )
    assert "changed: hermes_eea_rate" in summary
    for tag in ("histograms", "largest"):
        assert any("image/png" in o.get("data", {}) for o in cells[tag].outputs), tag


def test_a_branch_of_a_git_repository_is_pinned_to_its_commit(
    rerun_env, candidate_source, instrument_env, tmp_path
):
    head = git(candidate_source, "rev-parse", "HEAD")
    url = candidate_source.resolve().as_uri()
    spec = candidate_spec(ENV_NAME, f"{url}@dead-time")
    assert spec.package == "soc-test-instrument"
    assert spec.source == f"git+{url}@{head}"
    assert f"soc-test-instrument @ git+{url}@{head}" in spec.text
    assert "numpy==2.4.6" in spec.text
    # a package the base does not have: the error says which packages it could replace
    other = tmp_path / "hermes_eea"
    other.mkdir()
    (other / "pyproject.toml").write_text('[project]\nname = "hermes_eea"\nversion = "0"\n')
    with pytest.raises(ValueError, match=r"'hermes-eea' is not in its spec; .*soc-test-instrument"):
        candidate_spec(ENV_NAME, str(other))
    with pytest.raises(Exception, match="cannot find 'no-such-branch'"):
        candidate_spec(ENV_NAME, f"{url}@no-such-branch")
