"""soc_workspace.repro against the embedded store: record a notebook that opens a real HERMES
product from S3, check it unchanged ("same"), upload a new version of the product and check
again (the input and the output that changed are named, the unchanged cell is not), show and
share the record. (The same in a running workspace: tests/test_workspace_teams.py.)"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from soc_workspace.repro import ReproError, check, describe, opened, read_record, record, share

pytestmark = [pytest.mark.integration, pytest.mark.slow]
HERMES_L1 = "hermes/eea/l1/hermes_eea_l1_20000101T170901_v1.0.0.cdf"
URL = "s3://hermes-eea/l1/unknown/2000/01/01/hermes_eea_l1_20000101T170901_v1.0.0.cdf"


def notebook(path: Path) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nb.cells = [
        nbformat.v4.new_code_cell("import soc_workspace as soc"),
        nbformat.v4.new_code_cell(
            f'ds = soc.open_dataset("{URL}")\n'
            'print("stats total", float(ds["hermes_eea_stats"].sum()))'
        ),
        nbformat.v4.new_code_cell('print("a cell that does not read data")'),
        nbformat.v4.new_code_cell("ds  # a rich output: its HTML has random ids"),
    ]
    nbformat.write(nb, path)
    return path


@pytest.fixture
def product(store_env, shared_data):
    import s3fs

    s3 = s3fs.S3FileSystem(**store_env.storage_options(), skip_instance_cache=True)
    if not s3.exists("hermes-eea"):
        s3.mkdir("hermes-eea")
    s3.put_file(str(shared_data / HERMES_L1), URL)
    return s3


def altered(tmp_path: Path, original: Path) -> Path:
    from spacepy import pycdf

    tmp_path.mkdir(parents=True, exist_ok=True)
    copy = tmp_path / original.name
    shutil.copyfile(original, copy)
    copy.chmod(0o644)
    with pycdf.CDF(str(copy), readonly=False) as cdf:
        cdf["hermes_eea_stats"][0] = cdf["hermes_eea_stats"][0] + 5
    return copy


def test_record_check_then_a_new_version_of_the_input(product, shared_data, tmp_path):
    nb = notebook(tmp_path / "analysis.ipynb")
    entry = record(nb)
    saved = read_record(nb)
    assert saved == json.loads(json.dumps(entry))
    assert saved["kernel"]["name"] == "python3"
    assert saved["kernel"]["packages"]["xarray"]
    assert len(saved["kernel"]["lock_sha256"]) == 64
    assert saved["settings"]["store_endpoint"].startswith("http://127.0.0.1:")
    assert saved["settings"]["buckets"] == "prod"
    (source,) = saved["inputs"]
    info = product.info(URL)
    assert source == {
        "url": URL,
        "etag": info["ETag"].strip('"'),
        "version_id": info.get("VersionId"),
        "size": info["size"],
        "last_modified": source["last_modified"],
    }
    assert [o["cell"] for o in saved["outputs"]] == [0, 1, 2, 3]
    executed = nbformat.read(nb, as_version=4)
    assert "stats total 372.0" in executed.cells[1].outputs[0]["text"]

    same = check(nb)
    assert same.same, str(same)
    assert str(same).startswith("same: ")

    product.put_file(str(altered(tmp_path / "new", shared_data / HERMES_L1)), URL)
    changed = check(nb)
    assert not changed.same
    assert [c["url"] for c in changed.inputs_changed] == [URL]
    assert "etag" in changed.inputs_changed[0]["why"]
    # the cells that show the data differ (the printed total; the Dataset, whose text shows
    # its first values); the one that does not read data does not. (The unchanged check
    # above already showed that the HTML's random ids do not count.)
    assert [c["cell"] for c in changed.outputs_changed] == [1, 3]
    text = str(changed)
    assert f"input changed: {URL}" in text
    assert "output differs: cell 1 (ds = soc.open_dataset(" in text
    assert changed.environment_changed == {}
    # the notebook itself was not rewritten by the check
    assert read_record(nb) == saved


def test_the_command_line_says_same_and_exits_1_on_changes(product, shared_data, tmp_path):
    nb = notebook(tmp_path / "cli.ipynb")

    def soc(*args):
        return subprocess.run(
            [sys.executable, "-m", "soc_workspace", "repro", *args], capture_output=True, text=True
        )

    done = soc("record", str(nb))
    assert done.returncode == 0, done.stderr
    assert "1 input(s)" in done.stdout
    done = soc("check", str(nb))
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.startswith("same: ")
    shown = soc("show", str(nb))
    assert URL in shown.stdout
    assert "ETag" in shown.stdout
    assert "kernel: Python 3 (ipykernel) (python3)" in shown.stdout
    assert shown.stdout == describe(nb) + "\n"
    product.put_file(str(altered(tmp_path / "new", shared_data / HERMES_L1)), URL)
    done = soc("check", str(nb), "--json")
    assert done.returncode == 1
    found = json.loads(done.stdout)
    assert found["same"] is False
    assert [c["url"] for c in found["inputs_changed"]] == [URL]


def test_share_copies_into_the_team_folder_only_with_a_record(product, tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    (tmp_path / "home" / "teams" / "eea").mkdir(parents=True)
    nb = notebook(tmp_path / "to-share.ipynb")
    with pytest.raises(ReproError, match="has no reproducibility record"):
        share(nb, "eea")
    record(nb)
    copy = share(nb, "eea")
    assert copy == tmp_path / "home" / "teams" / "eea" / "to-share.ipynb"
    assert read_record(copy) == read_record(nb)
    with pytest.raises(FileExistsError, match="--replace"):
        share(nb, "eea")
    with pytest.raises(ReproError, match=r"not in team 'nem' \(your teams: eea"):
        share(nb, "nem")


def test_the_readers_note_what_they_open(shared_data):
    import soc_workspace as soc

    path = shared_data / HERMES_L1
    soc.open_dataset(path)
    assert str(path.resolve()) in opened()


def test_a_missing_kernel_is_named():
    from soc_workspace.repro.recorder import spec_of

    with pytest.raises(ReproError, match=r"no Jupyter kernel 'hermes-nope'.*env create"):
        spec_of("hermes-nope")


def test_a_run_that_fails_leaves_the_notebook_and_a_check_names_the_failure(
    product, shared_data, tmp_path
):
    nb = notebook(tmp_path / "fragile.ipynb")
    before = nb.read_text()
    product.rm(URL)
    with pytest.raises(ReproError, match=r"failed in cell 1 .*repro-failed\.ipynb"):
        record(nb)
    assert nb.read_text() == before  # the notebook is replaced only by a run that finished
    assert (tmp_path / "fragile.repro-failed.ipynb").is_file()
    # recorded while the input is there; then it goes away: the check says both
    product.put_file(str(shared_data / HERMES_L1), URL)
    record(nb)
    product.rm(URL)
    result = check(nb)
    assert not result.same
    assert result.inputs_changed[0]["url"] == URL
    assert "missing None -> True" in result.inputs_changed[0]["why"]
    assert result.failed[0].startswith("fragile.ipynb failed in cell 1 (FileNotFoundError")
    assert "now fails: fragile.ipynb failed in cell 1" in str(result)
