"""Workshops, piece by piece: records, sheets, passwords, limits, archives, the spawn queue,
CPU priority and work markers. The whole lifecycle against a running workspace is in
test_workshop_lifecycle.py; culling in test_workshop_culling.py.
"""

from __future__ import annotations

import asyncio
import csv
import json
import os
import stat
import subprocess
import sys
import tarfile
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from soc_workspace.config import load_settings
from soc_workspace.hub.gateway import limits_for, workers_that_fit
from soc_workspace.hub.workshops import (
    LIMITS_KEY,
    WORKSHOP_KEY,
    hash_password,
    is_workshop_group,
    lab_path,
    login_url,
    new_password,
    verify_password,
)
from soc_workspace.workshop.end import ArchiveError, verify_archive
from soc_workspace.workshop.record import (
    Workshop,
    WorkshopError,
    check_name,
    parse_limits,
    parse_time,
)
from soc_workspace.workshop.sheet import write_sheet

GIB = 2**30


def test_passwords_are_hashed_and_checked():
    password = new_password()
    assert len(password) == 14
    assert password.count("-") == 2
    stored = hash_password(password)
    assert password not in stored
    assert verify_password(password, stored)
    assert not verify_password(password + "x", stored)
    assert not verify_password(password, "md5$whatever")
    assert hash_password(password) != stored  # salted


def test_names_times_and_limits_are_checked():
    assert check_name("intro-2026") == "intro-2026"
    for bad in ("Intro", "1intro", "intro_x", "x" * 25):
        with pytest.raises(WorkshopError, match="workshop name"):
            check_name(bad)
    assert parse_time("2026-05-04T09:00+02:00", "--starts") == datetime(2026, 5, 4, 7, tzinfo=UTC)
    assert parse_time("2026-05-04T09:00", "--starts").tzinfo == UTC  # local time, in UTC
    with pytest.raises(WorkshopError, match="--ends 'tomorrow'"):
        parse_time("tomorrow", "--ends")
    assert parse_limits("workers=2, cores=3,memory=6G") == {
        "max_workers": 2,
        "max_cores": 3.0,
        "max_memory": "6G",
    }
    with pytest.raises(WorkshopError, match="gpus=1"):
        parse_limits("gpus=1")
    with pytest.raises(WorkshopError, match="memory"):
        parse_limits("memory=lots")


def test_record_round_trips_through_group_properties():
    record = Workshop(
        name="intro",
        ends="2026-05-04T11:00:00+00:00",
        participants=["intro-01"],
        passwords={"intro-01": hash_password("p")},
        limits={"max_workers": 2},
        content={"source": "/srv/course", "path": "/state/workshops/intro/materials"},
    )
    properties = record.properties({"other": 1})
    assert properties["other"] == 1
    assert properties[LIMITS_KEY] == {"max_workers": 2}
    assert "name" not in properties[WORKSHOP_KEY]
    group = {"name": "intro", "properties": properties, "users": ["intro-01"]}
    assert is_workshop_group(group)
    assert not is_workshop_group({"name": "team", "properties": {}})
    again = Workshop.from_group(group)
    assert again == record
    assert again.mode == "accounts"
    assert again.everyone(["someone-who-joined"]) == ["intro-01", "someone-who-joined"]
    with pytest.raises(WorkshopError, match="no workshop"):
        Workshop.from_group({"name": "team", "properties": {}})


def test_hub_limits_replace_the_defaults_for_a_workshops_members():
    settings = load_settings(
        gateway={"group_limits": {"helio": {"max_workers": 16, "max_memory": "64 G"}}}
    )
    small = {"intro": {"max_workers": 2, "max_cores": 3, "max_memory": "6 G"}}
    participant = limits_for(settings, ["intro"], small)
    assert (participant.max_workers, participant.max_memory) == (2, 6 * GIB)  # below defaults
    assert limits_for(settings, ["other"], small).max_workers == 4  # the defaults
    both = limits_for(settings, ["intro", "helio"], small)
    assert (both.max_workers, both.max_memory) == (16, 64 * GIB)  # a team's limits still apply
    bad = limits_for(settings, ["intro"], {"intro": {"max_workers": -1}})
    assert bad.max_workers == 4  # invalid limits from the hub are ignored (and logged)
    # dask-gateway's own rule: the scheduler takes 1 core and 2 GiB of the cluster's limits
    assert workers_that_fit(settings, participant) == 2
    assert workers_that_fit(settings, limits_for(settings, ["x"], {"x": {"max_cores": 1}})) == 0


def test_sign_in_sheet(tmp_path):
    record = Workshop(name="intro", ends="2026-05-04T11:00:00+00:00", first_notebook="01 a.ipynb")
    passwords = {"intro-02": "bbbb-bbbb-bbbb", "intro-01": "aaaa-<b>-aaaa"}
    sheet = write_sheet(tmp_path / "sheet", record, "https://hub.example.org", passwords)
    rows = list(csv.DictReader(sheet.csv.open()))
    assert [r["user"] for r in rows] == ["intro-01", "intro-02"]
    assert rows[0]["password"] == "aaaa-<b>-aaaa"
    assert rows[0]["login_url"] == login_url(
        "https://hub.example.org", username="intro-01", next_path=lab_path("intro", "01 a.ipynb")
    )
    assert "username=intro-01" in rows[0]["login_url"]
    assert "%2Fhub%2Fuser-redirect%2Flab%2Ftree%2Fintro%2F01%2520a.ipynb" in rows[0]["login_url"]
    page = sheet.html.read_text()
    assert page.count('class="card"') == 2
    assert "aaaa-&lt;b&gt;-aaaa" in page  # escaped
    for path in (sheet.csv, sheet.html):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    shared = write_sheet(tmp_path / "shared", record, "https://h", {}, shared="cccc-cccc-cccc")
    only = list(csv.DictReader(shared.csv.open()))
    assert len(only) == 1
    assert only[0]["password"] == "cccc-cccc-cccc"
    assert "username=" not in only[0]["login_url"]


def _pack(home: Path) -> dict:
    """Run pack_home as a participant's kernel would (its HOME), in a child process."""
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "from soc_workspace.workshop.inkernel import pack_home; pack_home('intro')",
        ],
        env={**os.environ, "HOME": str(home), "JUPYTER_RUNTIME_DIR": str(home / ".rt")},
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout.splitlines()[-1])


def test_a_home_is_packed_with_a_manifest_and_checked(tmp_path):
    home = tmp_path / "home"
    files = {
        "notes.txt": b"my notes",
        ".hidden": b"hidden",
        "deep/er/data.bin": os.urandom(200_000),
        "intro/01.ipynb": b"{}",
    }
    for name, data in files.items():
        (home / name).parent.mkdir(parents=True, exist_ok=True)
        (home / name).write_bytes(data)
    (home / "link").symlink_to("/etc")
    (home / ".rt").mkdir()
    (home / ".rt" / "kernel-1.json").write_text("{}")  # Jupyter's runtime files: left out
    out = _pack(home)
    assert out["files"] == len(files)
    manifest = json.loads((home / out["manifest"]).read_text())
    assert {f["path"] for f in manifest["files"]} == set(files)
    assert manifest["links"] == [{"path": "link", "target": "/etc"}]
    archive = home / out["archive"]
    assert verify_archive(archive, manifest) == len(files)
    with tarfile.open(archive) as tar:
        assert tar.extractfile("deep/er/data.bin").read() == files["deep/er/data.bin"]

    wrong = json.loads(json.dumps(manifest))
    wrong["files"][0]["sha256"] = "0" * 64
    with pytest.raises(ArchiveError, match="differ"):
        verify_archive(archive, wrong)
    missing = json.loads(json.dumps(manifest))
    missing["files"].append({"path": "gone.txt", "size": 1, "sha256": "0"})
    with pytest.raises(ArchiveError, match=r"missing: gone\.txt"):
        verify_archive(archive, missing)


def test_spawn_queue_lets_a_few_start_at_once():
    from soc_workspace.local.spawnqueue import SpawnQueue

    queue = SpawnQueue(2, first_guess=1.0)
    running, most = 0, 0

    async def start() -> None:
        nonlocal running, most
        async with queue.turn():
            running += 1
            most = max(most, running)
            await asyncio.sleep(0.05)
            running -= 1

    async def storm() -> float:
        tasks = [asyncio.create_task(start()) for _ in range(6)]
        await asyncio.sleep(0.01)
        waited = queue.expected_wait()  # 4 waiting + 2 starting, 2 slots, 1 s each
        await asyncio.gather(*tasks)
        return waited

    assert asyncio.run(storm()) == pytest.approx(3.0)
    assert most == 2
    assert queue.start_seconds < 1.0  # learnt: starts take 0.05 s here


@pytest.mark.skipif(not Path("/proc/self/autogroup").exists(), reason="no autogroups here")
def test_users_processes_yield_the_cpu():
    from soc_workspace.local.priority import lower, nice_of

    child = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(30)"], start_new_session=True
    )
    same_session = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        assert lower(child.pid, 10)
        assert nice_of(child.pid) == (10, 10)
        # a process in our own session: its nice value, never our session's autogroup
        ours = nice_of(os.getpid())[1]
        assert lower(same_session.pid, 10)
        assert nice_of(same_session.pid) == (10, ours)
    finally:
        child.kill()
        same_session.kill()
        child.wait()
        same_session.wait()
    assert not lower(child.pid, 10)  # gone


def test_processes_of_the_root_group_keep_only_their_nice_value(tmp_path, monkeypatch):
    """In a container whose first process never started a session, the kernel prints an empty
    autogroup file for the processes of the root group (CI runs there)."""
    from soc_workspace.local import priority

    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        for pid, text in ((os.getpid(), ""), (child.pid, "")):
            (tmp_path / str(pid)).mkdir()
            (tmp_path / str(pid) / "autogroup").write_text(text)
        monkeypatch.setattr(priority, "PROC", tmp_path)
        assert priority.lower(child.pid, 10)
        assert priority.nice_of(child.pid) == (10, None)
        assert (tmp_path / str(child.pid) / "autogroup").read_text() == ""  # root group untouched
        # a process with a session of its own while we are in the root group: its autogroup
        (tmp_path / str(child.pid) / "autogroup").write_text("/autogroup-7 nice 0\n")
        assert priority.lower(child.pid, 10)
        assert (tmp_path / str(child.pid) / "autogroup").read_text() == "10"
    finally:
        child.kill()
        child.wait()


def test_running_work_is_marked_while_it_runs(tmp_path, monkeypatch):
    from soc_workspace.activity.markers import FOLDER_VARIABLE, running_work, working

    monkeypatch.setenv(FOLDER_VARIABLE, str(tmp_path))
    assert running_work() == []
    with working("rerun of 3 file(s)"):
        found = running_work()
        assert [m["what"] for m in found] == ["rerun of 3 file(s)"]
        assert found[0]["pid"] == os.getpid()
    assert running_work() == []
    # a marker whose process is gone counts for nothing and is removed
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    stale = tmp_path / "stale.json"
    stale.write_text(json.dumps({"pid": int(dead.stdout), "what": "x", "since": time.time()}))
    assert running_work() == []
    assert not stale.exists()
