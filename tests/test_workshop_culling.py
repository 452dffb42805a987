"""Culling that respects work, for real, on the one-machine workspace (personal mode).

Idle servers stop after ``hub.server_idle_timeout`` (30 s here), idle kernels are culled,
idle Dask clusters stop after ``gateway.idle_timeout`` (45 s here: dask-gateway counts a
cluster still waiting for its first worker as idle, and workers start slowly on 2 busy
cores). Running work counts as activity (soc_workspace.activity, in every user's server):
four people, one situation each, so each is seen on its own:

- A: a kernel busy with a long computation that prints nothing;
- B: an idle kernel whose Dask cluster has a task running;
- C: an idle kernel, and a long job outside it that marks itself as work (as reruns do);
- D: nothing running: an idle kernel and an idle cluster.

Kernels are looked at with ``no_track_activity`` (the look itself must not count), and A's
server's activity is read from the hub, where Kubernetes' idle culler reads it.

The module ends with a one-participant workshop in personal mode (create, write, end), whose
server the idle timeout stops before ``end`` (which starts it again to archive the home).
"""

from __future__ import annotations

import hashlib
import json
import os
import tarfile
import textwrap
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests
from workspace_support import (
    admin_session,
    cli,
    gateway_clusters,
    hub_api,
    new_user,
    public_dir,
    running_workspace,
    write_config,
)

from soc_workspace.local.client import BrowserSession, HubError
from soc_workspace.local.paths import StatePaths
from soc_workspace.workshop.service import INTERVAL_VARIABLE

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(1500)]

PASSWORD = "a-long-test-password-42"
IDLE = 30
CLUSTER_IDLE = 45


@pytest.fixture(scope="module")
def workspace():
    import shutil

    state = public_dir("socws-culling-")
    config = write_config(
        state.parent / f"{state.name}.toml",
        textwrap.dedent(
            f"""
            [workspace]
            port = 0
            demo_days = 0
            [hub]
            server_idle_timeout = {IDLE}
            [gateway]
            idle_timeout = {CLUSTER_IDLE}
            """
        ),
    )
    # The workshop-end service looks every 5 s instead of every minute (its test waits for it).
    os.environ[INTERVAL_VARIABLE] = "5"
    try:
        with running_workspace(state, config) as connection:
            yield connection
    finally:
        os.environ.pop(INTERVAL_VARIABLE, None)
        shutil.rmtree(state, ignore_errors=True)
        config.unlink()


def kernels(workspace, user):
    """The user's kernels, asked so that asking does not count as activity; None when their
    server no longer runs."""
    response = requests.get(
        f"{workspace.hub_url}/user/{user}/api/kernels?no_track_activity=1",
        headers={"Authorization": f"token {workspace.api_token}"},
        timeout=30,
    )
    if response.status_code in (424, 503):
        # the server is gone; the hub may still be stopping it (the culler's request is on its way)
        deadline = time.monotonic() + 30
        while hub_api(workspace).user(user).get("servers") and time.monotonic() < deadline:
            time.sleep(1)
        if not hub_api(workspace).user(user).get("servers"):
            return None
    response.raise_for_status()
    return response.json()


def start(session, code, timeout=300):
    kernel = session.start_kernel()
    result = session.run_code(kernel, textwrap.dedent(code), timeout=timeout)
    assert result.ok, f"{session.username}: {result.error}\n{result.stderr}"
    return kernel


def test_work_counts_as_activity_idleness_does_not(workspace):
    admin = admin_session(workspace)
    people = {who: new_user(workspace, admin, f"cull{who}", PASSWORD) for who in "abcd"}
    # Each server gets its work as soon as it runs: an idle one would stop after 30 s.

    # A: busy and silent for 300 s (run in a thread: it does not return meanwhile)
    a = people["a"]
    a.start_server()
    busy = a.start_kernel()
    threading.Thread(
        target=a.run_code,
        args=(busy, "import time\ntime.sleep(300)"),
        kwargs={"timeout": 400},
        daemon=True,
    ).start()
    # B: a task running on its Dask cluster; the kernel then sits idle
    people["b"].start_server()
    start(
        people["b"],
        """
        import time
        from dask_gateway import Gateway
        gateway = Gateway()
        cluster = gateway.new_cluster(shutdown_on_close=False)
        cluster.scale(1)
        client = cluster.get_client()
        client.wait_for_workers(1, timeout=240)
        task = client.submit(time.sleep, 300, pure=False)
        """,
    )
    # C: a job outside the kernel that marks itself as work, as a rerun does
    people["c"].start_server()
    start(
        people["c"],
        """
        import subprocess, sys
        job = ("from soc_workspace.activity.markers import working\\nimport time\\n"
               "with working('a rerun in a terminal'):\\n    time.sleep(300)")
        subprocess.Popen([sys.executable, "-c", job], start_new_session=True)
        """,
    )
    # D: an idle cluster and an idle kernel
    people["d"].start_server()
    start(
        people["d"],
        """
        from dask_gateway import Gateway
        cluster = Gateway().new_cluster(shutdown_on_close=False)
        """,
    )
    set_up = datetime.now(UTC)
    assert len(gateway_clusters(workspace, "cullb")) == 1
    assert len(gateway_clusters(workspace, "culld")) == 1

    # past the idle timeouts, a few looks for work, and dask-gateway's idle check (each
    # quarter of its timeout)
    time.sleep(max(IDLE, CLUSTER_IDLE * 1.25) + 15)

    # The hub saw A's server active while its kernel was silently busy (asked before anything
    # reaches A's server): Kubernetes' idle culler reads exactly this.
    server = hub_api(workspace).user("culla")["servers"][""]
    last = datetime.fromisoformat(server["last_activity"].replace("Z", "+00:00"))
    assert last > set_up + timedelta(seconds=IDLE / 2)
    assert [k["execution_state"] for k in kernels(workspace, "culla")] == ["busy"]
    assert len(kernels(workspace, "cullb")) == 1
    assert len(gateway_clusters(workspace, "cullb")) == 1  # its task counts as activity
    assert len(kernels(workspace, "cullc")) == 1
    assert gateway_clusters(workspace, "culld") == {}  # the idle cluster was stopped
    assert not kernels(workspace, "culld")  # the idle kernel was culled (or its server stopped)
    # what each server's look for work found (users' servers log into the hub's log)
    log = Path(workspace.state_dir, "logs", "hub.log").read_text()
    counted = [line for line in log.splitlines() if "soc-workspace: counted as activity" in line]
    assert any("of culla: kernel" in line and "is busy" in line for line in counted)
    assert any("of cullb: Dask cluster" in line and "has 1 task(s)" in line for line in counted)
    assert any("of cullc: a rerun in a terminal" in line for line in counted)

    # D's server, idle, stops by itself (the server checks once a minute)
    api = hub_api(workspace)
    deadline = time.monotonic() + IDLE + 120
    while api.user("culld").get("servers") and time.monotonic() < deadline:
        time.sleep(2)
    assert not api.user("culld").get("servers")
    for who in "abc":  # the others' work kept them running
        assert api.user(f"cull{who}").get("servers")


def test_a_participants_home_is_archived_in_personal_mode_too(workspace, tmp_path):
    state = Path(workspace.state_dir)
    ends = (datetime.now(UTC) + timedelta(hours=1)).isoformat(timespec="seconds")
    cli(
        "workshop", "create", "solo", "--users", "1", "--ends", ends,
        "--sheet", str(tmp_path), "--state-dir", str(state),
    )  # fmt: skip
    password = (tmp_path / "sign-in.csv").read_text().splitlines()[1].split(",")[2]
    session = BrowserSession(workspace.hub_url, timeout=300)
    session.login("solo-01", password, page="/hub/workshop-login")
    session.spawn(timeout=300)
    kernel = session.start_kernel()
    result = session.run_code(
        kernel,
        "import hashlib, pathlib\np = pathlib.Path.home() / 'result.csv'\n"
        "p.write_text('a,b\\n1,2\\n')\nprint(hashlib.sha256(p.read_bytes()).hexdigest())",
    )
    assert result.ok, result.error
    written = result.stdout.strip()
    session.stop_server()  # as the idle timeout would: `end` starts it again to archive

    out = cli("workshop", "end", "solo", "--state-dir", str(state), timeout=600).stdout
    print(out)
    archive = StatePaths(state).workshops / "solo" / "archive"
    with tarfile.open(archive / "solo-01.tar.gz") as tar:
        assert hashlib.sha256(tar.extractfile("result.csv").read()).hexdigest() == written
    assert json.loads((archive / "index.json").read_text())["participants"][0]["files"] >= 1
    with pytest.raises(HubError, match="404"):
        hub_api(workspace).user("solo-01")
    assert not (StatePaths(state).homes / "solo-01").exists()


def test_a_workshop_ends_by_itself_at_its_end_time(workspace, tmp_path):
    """The hub's service `soc-workspace-workshops` ends workshops whose time is up."""
    state = Path(workspace.state_dir)
    ends = datetime.now(UTC) + timedelta(seconds=40)
    cli(
        "workshop", "create", "auto", "--users", "1", "--ends", ends.isoformat(),
        "--sheet", str(tmp_path), "--state-dir", str(state),
    )  # fmt: skip
    password = (tmp_path / "sign-in.csv").read_text().splitlines()[1].split(",")[2]
    session = BrowserSession(workspace.hub_url, timeout=300)
    session.login("auto-01", password, page="/hub/workshop-login")
    session.spawn(timeout=300)
    kernel = session.start_kernel()
    assert session.run_code(kernel, "open('kept.txt', 'w').write('kept')").ok
    api = hub_api(workspace)
    deadline = time.monotonic() + 240
    while "auto" in {g["name"] for g in api.request("GET", "/groups")}:
        assert time.monotonic() < deadline, "the workshop was not ended at its end time"
        time.sleep(5)
    assert datetime.now(UTC) >= ends
    archive = StatePaths(state).workshops / "auto" / "archive"
    with tarfile.open(archive / "auto-01.tar.gz") as tar:
        assert tar.extractfile("kept.txt").read() == b"kept"
    log = Path(workspace.state_dir, "logs", "hub.log").read_text()
    assert "Workshop auto ended at" in log
    with pytest.raises(HubError, match="404"):
        api.user("auto-01")
