"""``soc-workspace check`` against a real workspace (``soc-workspace up``): it passes, and when
the gateway is stopped it fails and names that step, leaving no temporary user behind.

One workspace for the module; ``down`` at the end.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import psutil
import pytest
from workspace_support import hub_api, personal_demo_workspace

from soc_workspace.local.paths import StatePaths

pytestmark = [pytest.mark.integration, pytest.mark.timeout(900)]


@pytest.fixture(scope="module")
def workspace():
    with personal_demo_workspace("socws-check-") as connection:
        yield connection


def _check(*args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, "-m", "soc_workspace", "check", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "COLUMNS": "200"},
    )
    print(result.stdout, result.stderr)
    return result


def _check_users(connection) -> list[str]:
    return [u["name"] for u in hub_api(connection).request("GET", "/users") if "check" in u["name"]]


def _gateway_process(connection) -> psutil.Process:
    """The dask-gateway-server the hub runs for this workspace (by its config file)."""
    config = str(StatePaths(Path(connection.state_dir)).gateway_config)
    hub = psutil.Process(connection.pids["hub"])
    # Not the gateway's front door, which names the same config file for its child.
    found = [
        p
        for p in hub.children(recursive=True)
        if p.cmdline()[1:3] == ["-m", "dask_gateway_server"] and config in p.cmdline()
    ]
    assert len(found) == 1, found
    return found[0]


def test_check_passes_on_a_working_workspace(workspace):
    result = _check("--state-dir", workspace.state_dir)
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    for step in (
        "hub API",
        "create a temporary user",
        "start their server",
        "search the catalog",
        "open a file",
        "gateway cluster (2 workers)",
        "stop the server (and its clusters)",
        "remove the user",
    ):
        line = next(line for line in out.splitlines() if step in line and "│" in line)
        assert "passed" in line, line
    assert "2 workers read the file" in out
    assert "All steps passed." in out
    assert _check_users(workspace) == []


def test_check_names_the_failed_step_when_the_gateway_is_stopped(workspace):
    gateway = _gateway_process(workspace)
    gateway.send_signal(signal.SIGSTOP)  # stopped, not dead: the hub does not restart it
    # 40 s: the same limit bounds the server start before it (about 10 s on a quiet machine)
    try:
        result = _check("--state-dir", workspace.state_dir, "--timeout", "40")
    finally:
        gateway.send_signal(signal.SIGCONT)
    assert result.returncode == 1, result.stdout + result.stderr
    failed = [line for line in result.stdout.splitlines() if line.startswith("FAILED:")]
    assert len(failed) == 1, result.stdout
    assert failed[0].startswith("FAILED: gateway cluster (2 workers):"), failed
    assert "did not finish within 40 s" in failed[0]
    # the steps before it passed, the cleanup ran, and no temporary user is left
    lines = result.stdout.splitlines()
    for step in ("search the catalog", "open a file", "remove the user"):
        assert "passed" in next(line for line in lines if step in line and "│" in line)
    assert _check_users(workspace) == []


def test_check_of_another_hub_needs_a_token():
    result = _check("--hub", "http://127.0.0.1:9")
    assert result.returncode == 2
    assert "--hub needs --token" in result.stderr
