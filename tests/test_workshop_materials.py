"""Workshop materials in a home: read-only copies, a participant's edits never overwritten.

Folders and real git repositories (``git`` on this machine, ``file://`` URLs), pulled by the
real module, also through its command line as the servers run it.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from soc_workspace.workshop.materials import (
    MANIFEST,
    SKIPPED_NOTE,
    first_notebook,
    parse_source,
    pull,
    pull_git,
)


def write(folder: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.exists():
            path.chmod(0o644)
        path.write_text(text)


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-C", str(repo), *args],
        capture_output=True,
        text=True,
        check=True,
        env={
            **os.environ,
            "GIT_AUTHOR_NAME": "t",
            "GIT_AUTHOR_EMAIL": "t@x",
            "GIT_COMMITTER_NAME": "t",
            "GIT_COMMITTER_EMAIL": "t@x",
        },
    )
    return done.stdout.strip()


def commit(repo: Path, files: dict[str, str], message: str) -> str:
    write(repo, files)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)
    return git(repo, "rev-parse", "HEAD")


@pytest.fixture
def materials(tmp_path):
    source = tmp_path / "materials"
    write(
        source,
        {
            "01-intro.ipynb": "{}",
            "02-dask.ipynb": "{}",
            "data/readme.md": "v1",
            ".ipynb_checkpoints/01-intro-checkpoint.ipynb": "{}",
        },
    )
    return source


def test_first_pull_places_every_file_read_only(materials, tmp_path):
    home = tmp_path / "home" / "intro"
    report = pull(materials, home)
    assert sorted(report.added) == ["01-intro.ipynb", "02-dask.ipynb", "data/readme.md"]
    assert not (home / ".ipynb_checkpoints").exists()
    for name in report.added:
        assert stat.S_IMODE((home / name).stat().st_mode) == 0o444
    assert (home / "data/readme.md").read_text() == "v1"
    assert first_notebook(home) == "01-intro.ipynb"
    assert not (home / SKIPPED_NOTE).exists()


def test_an_edit_survives_a_re_pull_and_is_named(materials, tmp_path):
    home = tmp_path / "intro"
    pull(materials, home)
    # the participant edits a material file (JupyterLab's save replaces the file)
    write(home, {"01-intro.ipynb": '{"mine": true}'})
    # the trainer fixes both notebooks
    write(materials, {"01-intro.ipynb": '{"fixed": 1}', "02-dask.ipynb": '{"fixed": 2}'})
    report = pull(materials, home)
    assert report.skipped == ["01-intro.ipynb"]
    assert report.updated == ["02-dask.ipynb"]
    assert (home / "01-intro.ipynb").read_text() == '{"mine": true}'
    assert (home / "02-dask.ipynb").read_text() == '{"fixed": 2}'
    assert "01-intro.ipynb" in (home / SKIPPED_NOTE).read_text()
    assert any("skipped 01-intro.ipynb" in line for line in report.lines())
    # and it stays the participant's on every later pull
    again = pull(materials, home)
    assert again.skipped == ["01-intro.ipynb"]
    assert (home / "01-intro.ipynb").read_text() == '{"mine": true}'


def test_deleted_files_come_back_removed_files_go_unless_changed(materials, tmp_path):
    home = tmp_path / "intro"
    pull(materials, home)
    (home / "02-dask.ipynb").unlink()
    write(home, {"data/readme.md": "my notes"})
    (materials / "data" / "readme.md").unlink()
    (materials / "01-intro.ipynb").unlink()
    report = pull(materials, home)
    assert report.restored == ["02-dask.ipynb"]
    assert report.removed == ["01-intro.ipynb"]
    assert report.kept == ["data/readme.md"]
    assert not (home / "01-intro.ipynb").exists()
    assert (home / "data/readme.md").read_text() == "my notes"


def test_a_participants_own_file_of_that_name_is_never_replaced(materials, tmp_path):
    home = tmp_path / "intro"
    write(home, {"01-intro.ipynb": "written before the workshop"})
    (home / "02-dask.ipynb").symlink_to(tmp_path / "elsewhere")
    report = pull(materials, home)
    assert sorted(report.skipped) == ["01-intro.ipynb", "02-dask.ipynb"]
    assert (home / "01-intro.ipynb").read_text() == "written before the workshop"
    assert (home / "02-dask.ipynb").is_symlink()


def test_git_source_at_a_ref(tmp_path):
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    first = commit(repo, {"01-a.ipynb": "{}", "notes.md": "one"}, "first")
    git(repo, "tag", "v1")
    commit(repo, {"notes.md": "two"}, "second")
    home = tmp_path / "intro"
    url = f"file://{repo}"
    report = pull_git(url, "v1", home)
    assert report.commit == first
    assert (home / "notes.md").read_text() == "one"
    assert not (home / ".git").exists()
    write(home, {"01-a.ipynb": '{"edited": 1}'})
    commit(repo, {"01-a.ipynb": '{"new": 1}'}, "third")
    report = pull_git(url, "main", home)
    assert report.updated == ["notes.md"]
    assert report.skipped == ["01-a.ipynb"]
    assert json.loads((home / MANIFEST).read_text())["commit"] == git(repo, "rev-parse", "HEAD")


PULL = [sys.executable, "-m", "soc_workspace.workshop.materials"]


def test_command_line_as_servers_run_it(tmp_path):
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    commit(repo, {"01-a.ipynb": "{}"}, "first")
    home = tmp_path / "intro"
    done = subprocess.run(
        [*PULL, f"file://{repo}@main", str(home)],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.splitlines()[-1])["added"] == ["01-a.ipynb"]
    bad = subprocess.run(
        [*PULL, f"file://{repo}@nope", str(home)],
        capture_output=True,
        text=True,
    )
    assert bad.returncode == 1
    assert "nope" in bad.stderr
    assert str(repo) in bad.stderr


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("https://github.com/org/course@v2", ("https://github.com/org/course", "v2")),
        ("https://github.com/org/course", ("https://github.com/org/course", None)),
        ("git@github.com:org/course.git@main", ("git@github.com:org/course.git", "main")),
        ("git@github.com:org/course.git", ("git@github.com:org/course.git", None)),
        ("https://h/r@feature/x", ("https://h/r", "feature/x")),
        ("/srv/course", ("/srv/course", None)),
    ],
)
def test_parse_source(text, expected):
    assert parse_source(text) == expected
