"""A workshop's whole life on the one-machine workspace in multi-user mode (as root): the mode
in which participants' isolation matters, with a system account and a private home each.

`soc-workspace workshop create` (5 accounts, the half-day course as materials, small Dask
limits), participants log in with the passwords of the sign-in sheet and write files, one
edits a material file that the trainer then updates, `status`, a 2-participant `rehearse`,
then `end`: every file each participant wrote must be in their archive with the checksum it
had when written, and no account, server, cluster or process of theirs may be left.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import pwd
import secrets
import shutil
import tarfile
import textwrap
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from workspace_support import (
    admin_session,
    cli,
    hub_api,
    public_dir,
    running_workspace,
    write_config,
)

from soc_workspace.hub.workshops import LIMITS_KEY, WORKSHOP_KEY
from soc_workspace.local import accounts
from soc_workspace.local.client import BrowserSession, HubError
from soc_workspace.local.paths import StatePaths
from soc_workspace.local.processes import workspace_processes

pytestmark = [
    pytest.mark.integration,
    pytest.mark.slow,
    pytest.mark.timeout(1800),
    pytest.mark.skipif(
        os.geteuid() != 0, reason="multi-user mode creates system users: needs root"
    ),
]

COURSE = Path(__file__).parents[1] / "notebooks" / "workshops" / "intro-half-day"
PARTICIPANTS = 5


@pytest.fixture(scope="module")
def name():
    return f"ws{secrets.token_hex(3)}"


@pytest.fixture(scope="module")
def state_dir(name):
    state = public_dir("socws-workshop-")
    yield state
    leftovers = [f"{name}-{i:02d}" for i in range(1, PARTICIPANTS + 1)]
    leftovers += [f"{name}-r{i:02d}" for i in range(3)]
    for user in leftovers:
        if accounts.is_workspace_account(user):
            accounts.retire_account(user)
    shutil.rmtree(state, ignore_errors=True)
    state.parent.joinpath(f"{state.name}.toml").unlink(missing_ok=True)


@pytest.fixture(scope="module")
def workspace(state_dir):
    config = write_config(
        state_dir.parent / f"{state_dir.name}.toml",
        textwrap.dedent(
            """
            [workspace]
            port = 0
            demo_days = 1
            isolation = "multi-user"
            compute_nice = 15  # a class's setting (docs/workshops.md): kernels below servers
            """
        ),
    )
    with running_workspace(state_dir, config) as connection:
        yield connection


@pytest.fixture(scope="module")
def sheet(workspace, state_dir, name, tmp_path_factory):
    """`workshop create`, as a trainer runs it; returns the sign-in sheet's rows."""
    folder = tmp_path_factory.mktemp("sheet")
    ends = (datetime.now(UTC) + timedelta(hours=3)).isoformat(timespec="seconds")
    result = cli(
        "workshop", "create", name, "--users", str(PARTICIPANTS), "--content", str(COURSE),
        "--limits", "workers=1,cores=2,memory=4G", "--ends", ends, "--title", "Intro",
        "--sheet", str(folder), "--state-dir", str(state_dir),
    )  # fmt: skip
    print(result.stdout)
    return {row["user"]: row for row in csv.DictReader((folder / "sign-in.csv").open())} | {
        "_html": (folder / "sign-in.html").read_text()
    }


def participants(name):
    return [f"{name}-{i:02d}" for i in range(1, PARTICIPANTS + 1)]


written: dict[str, dict[str, str]] = {}
"""Files each participant wrote: path in the home -> SHA-256 computed when written."""
sessions: dict[str, BrowserSession] = {}


def run(session, code, timeout=300):
    kernel = session.start_kernel()
    try:
        result = session.run_code(kernel, textwrap.dedent(code), timeout=timeout)
    finally:
        session.delete_kernel(kernel)
    assert result.ok, f"{session.username}: {result.error}\n{result.stderr}"
    return result.stdout.strip()


def test_create_makes_the_group_accounts_materials_and_sheet(workspace, sheet, name, state_dir):
    api = hub_api(workspace)
    group = api.request("GET", f"/groups/{name}")
    record = group["properties"][WORKSHOP_KEY]
    assert sorted(group["users"]) == participants(name)
    assert record["participants"] == participants(name)
    assert record["first_notebook"] == "01-find-and-plot.ipynb"
    assert group["properties"][LIMITS_KEY] == {
        "max_workers": 1,
        "max_cores": 2.0,
        "max_memory": "4G",
    }
    # only hashes in the hub; the passwords are on the sheet
    for user in participants(name):
        assert sheet[user]["password"] not in json.dumps(record)
        assert record["passwords"][user].startswith("pbkdf2_sha256$")
        assert f"username={user}" in sheet[user]["login_url"]
    assert sheet["_html"].count('class="card"') == PARTICIPANTS
    materials = StatePaths(state_dir).workshops / name / "materials"
    assert (materials / "01-find-and-plot.ipynb").stat().st_mode & 0o777 == 0o644
    assert (materials / "solutions").is_dir()


def test_only_the_workshop_password_logs_a_participant_in(workspace, sheet, name):
    user = participants(name)[0]
    for page in ("/hub/workshop-login", "/hub/login"):
        with pytest.raises(HubError, match="refused"):
            BrowserSession(workspace.hub_url).login(user, "not-the-password", page=page)
    # someone signs up under a participant's name and gets approved: still refused
    intruder = BrowserSession(workspace.hub_url)
    try:
        intruder.signup(user, "an-intruders-password-7")
        admin_session(workspace).approve(user)
    except HubError:
        pass  # refused at sign-up: also fine
    with pytest.raises(HubError, match="refused"):
        BrowserSession(workspace.hub_url).login(user, "an-intruders-password-7")
    for page in ("/hub/workshop-login", "/hub/login"):
        BrowserSession(workspace.hub_url).login(user, sheet[user]["password"], page=page)


def _participant(workspace, sheet, user, index):
    folder = user.rsplit("-", 1)[0]  # the workshop's folder in the home
    session = BrowserSession(workspace.hub_url, timeout=300)
    session.login(user, sheet[user]["password"], page="/hub/workshop-login")
    session.spawn(timeout=600)
    assert session.is_jupyterlab(session.open_lab())
    out = run(
        session,
        f"""
        import hashlib, json, os, pathlib, pwd, shutil
        home = pathlib.Path.home()
        files = {{
            "results/run-{index}.bin": os.urandom(50_000 + {index}),
            "notes.md": "# my notes\\n".encode() * {index + 1},
            ".config/mine/settings.json": b'{{"participant": {index}}}',
        }}
        for path, data in files.items():
            (home / path).parent.mkdir(parents=True, exist_ok=True)
            (home / path).write_bytes(data)
        # a copy of the first notebook, as "Save As" makes it
        shutil.copyfile(home / "{folder}" / "01-find-and-plot.ipynb", home / "my-01.ipynb")
        files["my-01.ipynb"] = (home / "my-01.ipynb").read_bytes()
        material = home / "{folder}" / "01-find-and-plot.ipynb"
        print(json.dumps({{
            "user": pwd.getpwuid(os.getuid()).pw_name,
            "material_mode": oct(material.stat().st_mode & 0o777),
            "autogroup": open("/proc/self/autogroup").read().split()[-1],
            "nice": os.getpriority(os.PRIO_PROCESS, 0),
            "server_nice": os.getpriority(os.PRIO_PROCESS, os.getppid()),
            "written": {{p: hashlib.sha256(d).hexdigest() for p, d in files.items()}},
        }}))
        """,
    )
    return session, json.loads(out.splitlines()[-1])


def test_participants_log_in_and_write_files(workspace, sheet, name):
    users = participants(name)
    with ThreadPoolExecutor(max_workers=PARTICIPANTS) as pool:
        done = list(
            pool.map(lambda i: _participant(workspace, sheet, users[i], i), range(PARTICIPANTS))
        )
    for user, (session, report) in zip(users, done, strict=True):
        sessions[user] = session
        written[user] = report["written"]
        assert report["user"] == user  # each runs as their own system user
        assert report["material_mode"] == "0o444"  # materials read-only
        # kernels yield the CPU to the hub and to servers (workspace.compute_nice)
        assert (report["nice"], report["autogroup"]) == (15, "15")
        assert report["server_nice"] == 10  # JupyterLab before computations (workspace.user_nice)
    hub_pid = int(Path(workspace.state_dir, "run", "hub.pid").read_text())
    assert Path(f"/proc/{hub_pid}/autogroup").read_text().split()[-1] == "0"
    assert os.getpriority(os.PRIO_PROCESS, hub_pid) == 0


def test_participants_dask_clusters_get_the_workshops_limits(name):
    session = sessions[participants(name)[0]]
    out = run(
        session,
        """
        from dask_gateway import Gateway
        gateway = Gateway()
        try:
            gateway.new_cluster(worker_cores=3)
        except Exception as err:
            print("refused:", err)
        cluster = gateway.new_cluster(shutdown_on_close=False)  # left running: `end` stops it
        cluster.scale(1)
        client = cluster.get_client()
        client.wait_for_workers(1, timeout=300)

        def priority():
            import os
            group = open("/proc/self/autogroup").read().split()[-1]
            return os.getpriority(os.PRIO_PROCESS, 0), group

        print(client.run_on_scheduler(priority), *client.run(priority).values())
        client.close()
        print(cluster.name)
        """,
    )
    refused, priorities, cluster = out.splitlines()[-3:]
    assert "worker_cores must be <= 2" in refused  # the workshop's cores=2, not the default 4
    # the scheduler at the servers' priority (it must answer in time), the worker below it
    assert priorities == "(10, '10') (15, '15')"
    written["_cluster"] = {"name": cluster}


def test_an_edit_survives_a_re_pull_and_the_pull_names_it(workspace, state_dir, name):
    user = participants(name)[1]
    session = sessions[user]
    edited = run(
        session,
        f"""
        import hashlib, os, pathlib
        p = pathlib.Path.home() / "{name}" / "02-dask-at-scale.ipynb"
        os.chmod(p, 0o644)  # the participant saves their changes over the material
        p.write_text(p.read_text().replace("Scale out with Dask", "My own notes"))
        print(hashlib.sha256(p.read_bytes()).hexdigest())
        """,
    )
    written[user][f"{name}/02-dask-at-scale.ipynb"] = edited
    # the trainer fixes two files of the materials
    materials = StatePaths(state_dir).workshops / name / "materials"
    for file in ("02-dask-at-scale.ipynb", "README.md"):
        (materials / file).write_text((materials / file).read_text() + "\n")
    session.stop_server()
    session.spawn(timeout=600)  # the next start pulls again
    out = run(
        session,
        f"""
        import pathlib
        folder = pathlib.Path.home() / "{name}"
        print("My own notes" in (folder / "02-dask-at-scale.ipynb").read_text())
        print((folder / "README.md").read_text().endswith("\\n\\n"))
        print((folder / "SKIPPED-UPDATES.txt").read_text())
        """,
    )
    kept, updated, *note = out.splitlines()
    assert (kept, updated) == ("True", "True")
    assert "02-dask-at-scale.ipynb" in "\n".join(note)
    log = Path(workspace.state_dir, "logs", "hub.log").read_text()
    assert f"{user}: skipped 02-dask-at-scale.ipynb" in log


def test_status_says_who_is_in_and_what_runs(state_dir, name):
    out = cli("workshop", "status", name, "--state-dir", str(state_dir)).stdout
    assert f"{PARTICIPANTS} of {PARTICIPANTS} logged in" in out
    assert f"{PARTICIPANTS} server(s) running" in out
    found = json.loads(
        cli("workshop", "status", name, "--json", "--state-dir", str(state_dir)).stdout
    )
    rows = {row["user"]: row for row in found["participants"]}
    assert all(row["server"] == "running" for row in rows.values())
    assert rows[participants(name)[0]]["clusters"] == [written["_cluster"]["name"]]
    assert all(row["memory_mb"] > 50 for row in rows.values())  # measured on this machine


def test_a_rehearsal_reports_capacity_and_cleans_up(workspace, state_dir, name):
    result = cli(
        "workshop", "rehearse", name, "--participants", "2", "--json",
        "--state-dir", str(state_dir), timeout=1200, codes=(0, 1),
    )  # fmt: skip
    print(result.stdout)
    report = json.loads(result.stdout.splitlines()[-1])
    assert report["failures"] == 0, result.stdout
    for key in ("ready_p95_s", "notebook_p95_s", "api_p95_ms", "ready_p95_vs_limit"):
        assert report[key] > 0, key
    assert report["start_cpu_s"] > 0
    assert report["verdict"] in ("ready", "not ready")
    assert "Verdict:" in result.stdout
    api = hub_api(workspace)
    for user in (f"{name}-r00", f"{name}-r01", f"{name}-r02"):
        with pytest.raises(HubError, match="404"):
            api.user(user)
        with pytest.raises(KeyError):
            pwd.getpwnam(user)
    assert api.request("GET", f"/groups/{name}")["properties"][WORKSHOP_KEY]["rehearsal"] == []


def test_end_archives_every_file_and_leaves_nothing(workspace, state_dir, name):
    users = participants(name)
    uids = {pwd.getpwnam(u).pw_uid for u in users}
    cluster = written["_cluster"]["name"]
    result = cli("workshop", "end", name, "--state-dir", str(state_dir), timeout=1200)
    print(result.stdout)
    archive = StatePaths(state_dir).workshops / name / "archive"
    index = json.loads((archive / "index.json").read_text())
    assert {p["user"]: p["status"] for p in index["participants"]} == dict.fromkeys(
        users, "archived"
    )
    for user in users:
        manifest = json.loads((archive / f"{user}.manifest.json").read_text())
        listed = {f["path"]: f["sha256"] for f in manifest["files"]}
        with tarfile.open(archive / f"{user}.tar.gz") as tar:
            inside = {
                m.name: hashlib.sha256(tar.extractfile(m).read()).hexdigest()
                for m in tar
                if m.isreg()
            }
        assert inside == listed  # the manifest describes the archive exactly
        for path, checksum in written[user].items():  # every file they wrote, as written
            assert inside.get(path) == checksum, f"{user}: {path}"
    # nothing of the participants is left: hub users, group, system accounts, processes
    api = hub_api(workspace)
    for user in users:
        with pytest.raises(HubError, match="404"):
            api.user(user)
        with pytest.raises(KeyError):
            pwd.getpwnam(user)
        assert not (StatePaths(state_dir).homes / user).exists()
    with pytest.raises(HubError, match="404"):
        api.request("GET", f"/groups/{name}")
    time.sleep(2)
    left = []
    for pid in workspace_processes(Path(state_dir)):
        try:
            owner = Path(f"/proc/{pid}").stat().st_uid
            environ = Path(f"/proc/{pid}/environ").read_bytes()
        except OSError:
            continue
        if owner in uids or f"DASK_GATEWAY_CLUSTER_NAME={cluster}".encode() in environ:
            left.append(pid)
    assert left == []
    assert "Removed the group" in result.stdout
