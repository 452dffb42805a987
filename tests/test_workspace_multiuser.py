"""Multi-user mode for real: system users, team folders, the gateway's safe backend, restart.

What users must not reach is in the isolation matrix (test_isolation.py).

One workspace for the module (``soc-workspace up`` as root). Users A and B sign up and are
approved by the admin; A is in a team, B is not. B must not reach anything of A's.
"""

from __future__ import annotations

import os
import secrets
import shutil
import textwrap

import pytest
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

from soc_workspace.local import accounts
from soc_workspace.local.client import BrowserSession

pytestmark = [
    pytest.mark.integration,
    pytest.mark.timeout(600),
    pytest.mark.skipif(
        os.geteuid() != 0, reason="multi-user mode creates system users: needs root"
    ),
]

PASSWORD = "a-long-test-password-42"


@pytest.fixture(scope="module")
def names():
    tag = secrets.token_hex(3)
    return {"a": f"ta{tag}", "b": f"tb{tag}", "team": f"team{tag}"}


@pytest.fixture(scope="module")
def state_dir(names):
    state = public_dir("socws-multi-")
    yield state
    accounts.remove_accounts([names["a"], names["b"], "admin"])
    accounts.remove_groups([accounts.team_group(names["team"])])
    shutil.rmtree(state, ignore_errors=True)
    state.parent.joinpath(f"{state.name}.toml").unlink(missing_ok=True)


@pytest.fixture(scope="module")
def config(state_dir):
    return write_config(
        state_dir.parent / f"{state_dir.name}.toml",
        textwrap.dedent(
            """
            [workspace]
            port = 0
            demo_days = 0
            isolation = "multi-user"
            """
        ),
    )


@pytest.fixture(scope="module")
def workspace(state_dir, config, names):
    with running_workspace(state_dir, config) as connection:
        admin = admin_session(connection)
        a = new_user(connection, admin, names["a"], PASSWORD)
        b = new_user(connection, admin, names["b"], PASSWORD)
        hub_api(connection).create_group(names["team"], [names["a"]])
        for user in (a, b):
            user.start_server()
        kernels = {user.username: user.start_kernel() for user in (a, b)}
        yield {"connection": connection, "a": a, "b": b, "kernels": kernels, "admin": admin}


def run(workspace, who, code, timeout=120):
    session = workspace[who]
    result = session.run_code(
        workspace["kernels"][session.username], textwrap.dedent(code), timeout=timeout
    )
    assert result.ok, f"{who}: {result.error}\n{result.stderr}"
    return result.stdout.strip()


def test_servers_run_as_their_system_users(workspace, names, state_dir):
    for who in ("a", "b"):
        out = run(
            workspace,
            who,
            "import os, pwd; home = os.stat(os.path.expanduser('~'))\n"
            "print(pwd.getpwuid(os.getuid()).pw_name, oct(home.st_mode & 0o777))",
        )
        assert out == f"{names[who]} 0o700"
    assert accounts.is_workspace_account(names["a"])


def test_a_reads_and_writes_its_team_folder(workspace, names):
    out = run(
        workspace,
        "a",
        f"""
        from pathlib import Path
        p = Path.home() / "teams" / "{names["team"]}" / "notes.txt"
        p.write_text("team notes")
        same_group = p.parent.stat().st_gid == p.stat().st_gid
        print(p.read_text(), oct(p.stat().st_mode & 0o777), same_group)
        """,
    )
    assert out == "team notes 0o664 True"


def test_cluster_runs_as_the_user_and_stops_with_its_server(workspace, names):
    worker_user = run(
        workspace,
        "a",
        """
        import getpass
        from dask_gateway import Gateway
        gateway = Gateway()
        cluster = gateway.new_cluster()
        cluster.scale(1)
        client = cluster.get_client()
        client.wait_for_workers(1, timeout=120)
        print(client.submit(getpass.getuser).result())
        gateway.close()
        """,
        timeout=240,
    )
    assert worker_user == names["a"]  # the safe local backend runs workers as the user
    a: BrowserSession = workspace["a"]
    assert gateway_clusters(workspace["connection"], names["a"])
    a.stop_server()
    assert gateway_clusters(workspace["connection"], names["a"]) == {}
    a.start_server()
    workspace["kernels"][names["a"]] = a.start_kernel()


def test_restart_keeps_users_groups_files_and_store(workspace, names, state_dir, config):
    connection = workspace["connection"]
    # A writes an object into the store from their server.
    run(
        workspace,
        "a",
        f"""
        from pathlib import Path
        from soc_workspace.store import filesystem
        Path("secret.txt").write_text("mine")
        fs = filesystem()  # A's own scratch folder, in the bucket the workspace made
        fs.pipe("soc-workspace-scratch/{names["a"]}/result.txt", b"kept")
        """,
    )
    stopped = cli("down", "--state-dir", str(state_dir), "--config", str(config))
    # SIGTERM to the hub stopped servers, clusters, gateway and proxy: nothing was left over
    assert "left behind" not in stopped.stdout, stopped.stdout
    assert cli("status", "--state-dir", str(state_dir)).returncode == 3
    cli("up", "--state-dir", str(state_dir), "--config", str(config))
    connection = type(connection).read(state_dir)
    api = hub_api(connection)
    assert names["a"] in api.request("GET", f"/groups/{names['team']}")["users"]
    a = BrowserSession(connection.hub_url)
    a.login(names["a"], PASSWORD)  # the password (and account approval) survived
    a.start_server()
    kernel = a.start_kernel()
    result = a.run_code(
        kernel,
        textwrap.dedent(
            f"""
            from pathlib import Path
            from soc_workspace.store import filesystem
            print(Path("secret.txt").read_text())
            print((Path.home() / "teams" / "{names["team"]}" / "notes.txt").read_text())
            print(filesystem().cat("soc-workspace-scratch/{names["a"]}/result.txt").decode())
            """
        ),
    )
    assert result.ok, result.error
    assert result.stdout.split() == ["mine", "team", "notes", "kept"]
    workspace["connection"] = connection
