"""The isolation matrix: what one user of a shared (multi-user) workspace can and cannot reach.

One workspace in multi-user mode (``soc-workspace up`` as root, real system users): user A in
a team with a running Dask cluster, user B in no team. Each row is an attempt made for real
(in B's or A's own kernel, through the hub, or as root looking at the result) with the answer
it must get; pytest prints the whole table at the end of the run.
"""

from __future__ import annotations

import grp
import os
import pwd
import secrets
import shutil
import textwrap
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from isolation_table import record_isolation
from workspace_support import (
    admin_session,
    gateway_clusters,
    hub_api,
    new_user,
    public_dir,
    running_workspace,
    write_config,
)

from soc_workspace.local import accounts
from soc_workspace.local.client import BrowserSession, HubError

pytestmark = [
    pytest.mark.integration,
    pytest.mark.timeout(900),
    pytest.mark.skipif(
        os.geteuid() != 0, reason="multi-user mode creates system users: needs root"
    ),
]

PASSWORD = "an-isolation-test-password-7"

# Run in a user's kernel: try(f) prints "allowed" when f succeeds, "denied" when it is refused.
TRY = """
import os, socket, json, requests
from pathlib import Path
def attempt(f):
    try:
        f()
        return "allowed"
    except (PermissionError, ConnectionError, OSError, requests.RequestException):
        return "denied"
    except Exception as err:  # botocore's AccessDenied as s3fs raises it
        return "denied" if "AccessDenied" in repr(err) or "Forbidden" in repr(err) else repr(err)
"""


@dataclass
class World:
    state: Path
    connection: object
    a: BrowserSession
    b: BrowserSession
    kernels: dict
    names: dict
    cluster: str = ""
    dashboard_port: int = 0


@pytest.fixture(scope="module")
def world():
    tag = secrets.token_hex(3)
    names = {"a": f"ia{tag}", "b": f"ib{tag}", "team": f"iteam{tag}"}
    state = public_dir("socws-isolation-")
    config = write_config(
        state.parent / f"{state.name}.toml",
        textwrap.dedent(
            """
            [workspace]
            port = 0
            demo_days = 0
            isolation = "multi-user"
            """
        ),
    )
    try:
        with running_workspace(state, config) as connection:
            admin = admin_session(connection)
            a = new_user(connection, admin, names["a"], PASSWORD)
            b = new_user(connection, admin, names["b"], PASSWORD)
            hub_api(connection).create_group(names["team"], [names["a"]])
            for user in (a, b):
                user.start_server()
            kernels = {user.username: user.start_kernel() for user in (a, b)}
            world = World(state, connection, a, b, kernels, names)
            run(world, "a", TRY)
            run(world, "b", TRY)
            _start_cluster(world)
            yield world
    finally:
        accounts.remove_accounts([names["a"], names["b"], "admin"])
        accounts.remove_groups([accounts.team_group(names["team"])])
        shutil.rmtree(state, ignore_errors=True)
        config.unlink(missing_ok=True)


def run(world: World, who: str, code: str, timeout: float = 180) -> str:
    session = world.a if who == "a" else world.b
    result = session.run_code(
        world.kernels[session.username], textwrap.dedent(code), timeout=timeout
    )
    assert result.ok, f"{who}: {result.error}\n{result.stderr}"
    return result.stdout.strip()


def _start_cluster(world: World) -> None:
    out = run(
        world,
        "a",
        """
        from dask_gateway import Gateway
        gateway = Gateway()
        cluster = gateway.new_cluster()
        cluster.scale(1)
        client = cluster.get_client()
        client.wait_for_workers(1, timeout=120)
        info = client.scheduler_info()
        print(cluster.name, info["services"]["dashboard"])
        """,
        timeout=300,
    )
    world.cluster, port = out.split()
    world.dashboard_port = int(port)


def check(area: str, attempt: str, expected: str, observed: str) -> None:
    record_isolation(area, attempt, expected, observed)
    assert observed == expected, f"{attempt}: expected {expected}, got {observed}"


# -- files ----------------------------------------------------------------------------------


def _in_kernel(world: World, who: str, expression: str) -> str:
    return run(world, who, f"print(attempt(lambda: {expression}))")


FILE_ROWS = [
    # (area, attempt, who, expression with {home_a} {team} {state}, expected)
    ("homes", "B lists A's home", "b", "os.listdir('{home_a}')", "denied"),
    ("homes", "B reads a file in A's home", "b", "open('{home_a}/.bashrc-probe').read()", "denied"),
    ("homes", "B writes into A's home", "b", "open('{home_a}/planted', 'w').write('x')", "denied"),
    ("homes", "A writes its own home", "a", "Path('own.txt').write_text('mine')", "allowed"),
    ("teams", "A writes its team folder", "a",
     "(Path.home() / 'teams' / '{team}' / 'notes.txt').write_text('team notes')", "allowed"),
    ("teams", "B lists a team it is not in", "b", "os.listdir('{state}/teams/{team}')", "denied"),
    ("teams", "B reads a file of that team", "b",
     "open('{state}/teams/{team}/notes.txt').read()", "denied"),
    ("shared", "B reads ~/shared", "b", "os.listdir(Path.home() / 'shared')", "allowed"),
    ("shared", "B writes ~/shared", "b",
     "(Path.home() / 'shared' / 'x').write_text('x')", "denied"),
    ("templates", "B reads ~/templates", "b",
     "(Path.home() / 'templates' / 'quickstart.ipynb').read_text()", "allowed"),
    ("templates", "B overwrites a template", "b",
     "(Path.home() / 'templates' / 'quickstart.ipynb').write_text('x')", "denied"),
    ("secrets", "B reads the admin password", "b", "open('{state}/secrets/admin-password').read()",
     "denied"),
    ("secrets", "B reads the hub database", "b",
     "open('{state}/hub/jupyterhub.sqlite', 'rb').read()", "denied"),
    ("secrets", "B reads connection.json (admin token)", "b",
     "open('{state}/connection.json').read()", "denied"),
    ("secrets", "B reads the gateway's cluster database", "b",
     "open('{state}/gateway/clusters.sqlite', 'rb').read()", "denied"),
    ("secrets", "B reads the store's objects on disk", "b",
     "os.listdir('{state}/store')", "denied"),
    ("clusters", "B lists the clusters' folder (cluster names)", "b",
     "os.listdir('{state}/clusters')", "denied"),
    ("kernels", "B lists A's kernels folder", "b", "os.listdir('{state}/kernels/{a}')", "denied"),
]  # fmt: skip


@pytest.mark.parametrize("row", FILE_ROWS, ids=[r[1] for r in FILE_ROWS])
def test_files(world, row):
    area, attempt, who, expression, expected = row
    names = world.names
    if "bashrc-probe" in expression:
        run(world, "a", "Path('.bashrc-probe').write_text('private')")
    expression = expression.format(
        home_a=world.state / "home" / names["a"],
        team=names["team"],
        state=world.state,
        a=names["a"],
    )
    check(area, attempt, expected, _in_kernel(world, who, expression))


# -- the object store -----------------------------------------------------------------------

STORE_ROWS = [
    # (attempt, who, code that touches the store with the user's own keys, expected)
    ("A writes its own scratch folder", "a", "fs.pipe('{scratch}/{a}/result.txt', b'A')",
     "allowed"),
    ("B reads A's scratch folder", "b", "fs.cat('{scratch}/{a}/result.txt')", "denied"),
    ("B overwrites a file in A's scratch folder", "b",
     "fs.pipe('{scratch}/{a}/result.txt', b'B')", "denied"),
    ("B deletes A's scratch folder", "b", "fs.rm('{scratch}/{a}', recursive=True)", "denied"),
    ("B writes into a pipeline bucket", "b", "fs.pipe('hermes-eea/l1/planted.cdf', b'x')",
     "denied"),
    ("B overwrites a pipeline catalog", "b", "fs.pipe('padre-meddea/catalog.json', b'{{}}')",
     "denied"),
    ("B creates a bucket", "b", "fs.mkdir('dev-hermes-eea-{b}')", "denied"),
    ("B writes its own scratch folder", "b", "fs.pipe('{scratch}/{b}/mine.txt', b'B')",
     "allowed"),
    ("B's server holds the operator's keys", "b",
     "open('{state}/store/operator.json').read()", "denied"),
]  # fmt: skip


@pytest.mark.parametrize("row", STORE_ROWS, ids=[r[0] for r in STORE_ROWS])
def test_store(world, row):
    attempt, who, code, expected = row
    scratch = "soc-workspace-scratch"
    code = code.format(scratch=scratch, state=world.state, **world.names)
    observed = run(
        world,
        who,
        f"""
        from soc_workspace.store import filesystem
        fs = filesystem(skip_instance_cache=True)
        def touch():
            {code}
            fs.invalidate_cache()
        print(attempt(touch))
        """,
    )
    check("store", attempt, expected, observed)


# -- kernels --------------------------------------------------------------------------------


def test_kernels_talk_over_ipc_that_others_cannot_reach(world):
    info = run(
        world,
        "a",
        """
        from ipykernel.kernelapp import IPKernelApp
        app = IPKernelApp.instance()
        info = json.loads(Path(app.abs_connection_file).read_text())
        print(info["transport"], info["ip"] + "-" + str(info["iopub_port"]))
        """,
    )
    transport, socket_path = info.split()
    check(
        "kernels",
        "A's kernel listens on TCP",
        "no (ipc)",
        "no (ipc)" if transport == "ipc" else "yes (tcp)",
    )
    observed = run(
        world,
        "b",
        f"""
        def connect():
            with socket.socket(socket.AF_UNIX) as s:
                s.connect({socket_path!r})
        print(attempt(connect))
        """,
    )
    check("kernels", "B connects to A's kernel (iopub socket)", "denied", observed)


# -- servers and APIs -----------------------------------------------------------------------


def test_servers_and_hub_api(world):
    a, b = world.names["a"], world.names["b"]
    page = world.b.open_lab(a)
    check(
        "servers",
        "B opens A's JupyterLab",
        "denied",
        "allowed" if page.status_code == 200 and world.b.is_jupyterlab(page) else "denied",
    )
    api = world.b.http.get(f"{world.connection.hub_url}/user/{a}/api/contents", timeout=30)
    check(
        "servers",
        "B calls A's contents API",
        "denied",
        "allowed" if api.status_code == 200 else "denied",
    )
    hub = world.connection.api_url
    for attempt, method, path in (
        ("B's server token lists every user", "GET", "/users"),
        ("B's server token reads A", "GET", f"/users/{a}"),
        ("B's server token stops A's server", "DELETE", f"/users/{a}/server"),
        ("B's server token makes itself admin", "PATCH", f"/users/{b}"),
    ):
        observed = run(
            world,
            "b",
            f"""
            r = requests.request({method!r}, {hub + path!r}, json={{"admin": True}},
                headers={{"Authorization": "token " + os.environ["JUPYTERHUB_API_TOKEN"]}})
            print("allowed" if r.status_code < 300 else "denied")
            """,
        )
        check("hub API", attempt, "denied", observed)


def test_gateway_api(world):
    out = run(
        world,
        "b",
        f"""
        from dask_gateway import Gateway
        gateway = Gateway()
        print("allowed" if [c.name for c in gateway.list_clusters()] else "denied")
        for step in (lambda: gateway.connect({world.cluster!r}),
                     lambda: gateway.stop_cluster({world.cluster!r})):
            try:
                step()
                print("done")
            except Exception:
                print("denied")
        gateway.close()
        """,
    )
    listed, connect, _stop = out.splitlines()
    check("gateway API", "B lists A's clusters", "denied", listed)
    check(
        "gateway API",
        "B connects to A's cluster",
        "denied",
        "allowed" if connect == "done" else "denied",
    )
    running = world.cluster in gateway_clusters(world.connection, world.names["a"])
    check("gateway API", "B stops A's cluster", "denied", "denied" if running else "allowed")


# -- dashboards -----------------------------------------------------------------------------


def _dashboard(session: BrowserSession | None, world: World) -> str:
    url = f"{world.connection.hub_url}/services/dask-gateway/clusters/{world.cluster}/status"
    http = session.http if session else requests.Session()
    response = http.get(url, timeout=60)
    served = response.status_code == 200 and "bokeh" in response.text.lower()
    return "allowed" if served else "denied"


def test_dashboards(world):
    check(
        "dashboards", "A opens its dashboard through the hub", "allowed", _dashboard(world.a, world)
    )
    check(
        "dashboards", "B opens A's dashboard through the hub", "denied", _dashboard(world.b, world)
    )
    check("dashboards", "no login opens A's dashboard", "denied", _dashboard(None, world))
    probe = f"""
        def get():
            r = requests.get("http://127.0.0.1:{world.dashboard_port}/status", timeout=10)
            r.raise_for_status()
        print(attempt(get))
        """
    check(
        "dashboards", "A reaches its scheduler's dashboard port", "allowed", run(world, "a", probe)
    )
    check(
        "dashboards", "B reaches A's scheduler's dashboard port", "denied", run(world, "b", probe)
    )


def test_dask_processes_listen_on_loopback_only(world):
    uid = pwd.getpwnam(world.names["a"]).pw_uid
    wildcard = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            host = fields[1].split(":")[0]
            if fields[3] == "0A" and int(fields[7]) == uid and set(host) == {"0"}:
                wildcard.append(fields[1])
    check(
        "dask", "A's schedulers/workers listen on all interfaces", "no", "yes" if wildcard else "no"
    )


def test_root_stays_root(world):
    owner = os.stat("/").st_uid
    check(
        "root", "owner of / after A started a cluster", "root", "root" if owner == 0 else str(owner)
    )


def test_a_symlink_in_a_home_does_not_lead_root(world):
    """A swaps ~/teams for a link to the hub's folder; the next spawn must not follow it."""
    hub = world.state / "hub"
    before = hub.stat()
    run(
        world,
        "a",
        "import shutil; teams = Path.home() / 'teams'; shutil.rmtree(teams); "
        f"teams.symlink_to({str(hub)!r})",
    )
    world.a.stop_server()
    world.a.start_server()
    world.kernels[world.names["a"]] = world.a.start_kernel()
    run(world, "a", TRY)
    after = hub.stat()
    unchanged = (after.st_mode, after.st_uid) == (before.st_mode, before.st_uid)
    check(
        "root",
        "A's symlink swap makes root change the hub's folder",
        "no",
        "no" if unchanged else "yes",
    )
    observed = _in_kernel(world, "a", f"open('{hub}/jupyterhub.sqlite', 'rb').read()")
    check("secrets", "A reads the hub database after the swap", "denied", observed)
    _start_cluster(world)  # the cluster stopped with A's server


# -- accounts -------------------------------------------------------------------------------


def test_sign_up_refuses_names_of_the_system_with_a_reason(world):
    for name, area, reason in (
        (f"socws-t-{world.names['team']}x", "reserved prefix", "reserved"),
        ("users", "a system group's name", "system group"),
        ("daemon", "a system account's name", "system account"),
        ("x" * 40, "40 characters", "at most 32"),
    ):
        try:
            BrowserSession(world.connection.hub_url).signup(name, PASSWORD)
            observed = "allowed"
        except HubError as err:
            observed = "denied" if reason in str(err) else f"denied without saying why: {err}"
        check("accounts", f"sign-up with {area}", "denied", observed)


def test_leaving_a_team_ends_access_of_running_processes(world):
    a, team = world.names["a"], world.names["team"]
    folder = world.state / "teams" / team
    run(world, "a", f"print(attempt(lambda: os.listdir('{folder}')))")
    hub_api(world.connection).request("DELETE", f"/groups/{team}/users", json={"users": [a]})
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        server = hub_api(world.connection).user(a).get("servers", {}).get("")
        if not server:
            break
        time.sleep(2)
    still_running = bool(hub_api(world.connection).user(a).get("servers", {}).get(""))
    uid, gid = pwd.getpwnam(a).pw_uid, grp.getgrnam(accounts.team_group(team)).gr_gid
    while True:  # processes SIGKILLed a moment ago may still be exiting
        holders = [
            pid
            for pid, (owner, groups) in accounts._process_groups().items()
            if owner == uid and gid in groups
        ]
        if not holders or time.monotonic() > deadline:
            break
        time.sleep(1)
    observed = "allowed" if still_running or holders else "denied"
    check("teams", "A's processes keep the team folder after A left the team", "denied", observed)
