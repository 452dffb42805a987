"""Start, stop and inspect the workspace on this machine (``soc-workspace up|down|status``).

``up`` starts, each on 127.0.0.1 unless configured otherwise: the embedded S3 store (seeded
with demo data and a catalog on the first run) unless another endpoint is configured, then
JupyterHub, which starts configurable-http-proxy and dask-gateway (a hub-managed service) and
users' servers. Everything runs in the background; pid files, logs and the connection details
are in the state directory. ``down`` stops it all: SIGTERM to the hub stops users' servers,
the proxy, the gateway and its clusters; anything left behind is found by its environment
marker (see :mod:`soc_workspace.local.processes`) and stopped too.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import socket
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests
from rich.console import Console

from ..config import Settings, current_settings
from ..hub.roles import GATEWAY_SERVICE
from ..store import bucket_of
from ..store.credentials import store_environment
from ..store.process import (
    StoreStartError,
    forget_connection,
    operator_options,
    serve_argv,
    wait_until_serving,
)
from . import processes
from .folders import prepare_state_dir
from .labextension import installed_lab_extension
from .paths import StatePaths
from .processes import MARKER
from .proxy import ensure_proxy
from .runtime import Runtime, read_secret, write_config_files


class WorkspaceError(RuntimeError):
    """The workspace could not start or stop; the message says why and what to do."""


@dataclass
class Connection:
    """How to reach a running workspace (also written to ``<state>/connection.json``)."""

    hub_url: str
    api_url: str
    api_token: str
    store_endpoint: str | None
    state_dir: str
    public_url: str
    admin_user: str
    admin_password_file: str
    user_password_file: str | None
    isolation: str
    authenticator: str
    gateway_address: str
    gateway_proxy_address: str
    pids: dict[str, int] = field(default_factory=dict)

    @classmethod
    def read(cls, state_dir: Path) -> Connection:
        data = json.loads(StatePaths(state_dir).connection_file.read_text())
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})


@dataclass
class UpReport:
    connection: Connection
    already_running: bool
    seconds: float
    steps: dict[str, float] = field(default_factory=dict)
    first_run: bool = False
    restarted: list[str] = field(default_factory=list)


def state_paths(state_dir: str | os.PathLike[str] | None, settings: Settings) -> StatePaths:
    if state_dir:
        return StatePaths(Path(state_dir).expanduser().absolute())
    return StatePaths(settings.workspace.resolved_state_dir)


# -- up ---------------------------------------------------------------------------------------


def up(
    state_dir: str | os.PathLike[str] | None = None,
    *,
    settings: Settings | None = None,
    console: Console | None = None,
) -> UpReport:
    """Start the workspace (or report the one already running) and return how to reach it."""
    started = time.monotonic()
    settings = settings or current_settings()
    console = console or Console(stderr=True, soft_wrap=True)
    paths = state_paths(state_dir, settings)
    ws = settings.workspace
    multi_user = ws.isolation == "multi-user"
    steps: dict[str, float] = {}

    parts = inspect_parts(paths)
    if parts.all_running:
        return UpReport(Connection.read(paths.root), True, time.monotonic() - started)
    if parts.repairable:
        console.print(
            f"The workspace in [bold]{paths.root}[/] is partly down "
            f"({', '.join(parts.down)}): restarting that, users' servers keep running"
        )
        return _restart_parts(paths, parts, settings, console, started)
    if multi_user:
        from .accounts import require_root

        require_root()
        _check_searchable(paths.root)
    leftovers = processes.workspace_processes(paths.root)
    if leftovers:
        console.print(
            f"[yellow]Stopping {len(leftovers)} process(es) left over from an earlier run "
            f"that did not stop cleanly[/] ({', '.join(map(processes.describe, leftovers[:5]))})"
        )
        processes.terminate(leftovers, timeout=15)

    console.print(f"Starting the workspace in [bold]{paths.root}[/] ({ws.isolation} mode)")
    try:
        return _start(paths, settings, console, started, steps)
    except BaseException:
        # Leave nothing half-started behind; the state on disk stays as it is.
        down(paths.root, settings=settings, timeout=15)
        raise


def _start(
    paths: StatePaths,
    settings: Settings,
    console: Console,
    started: float,
    steps: dict[str, float],
) -> UpReport:
    ws = settings.workspace
    multi_user = ws.isolation == "multi-user"
    with _step(console, steps, "prepare", "state directory and proxy") as note:
        prepare_state_dir(paths, multi_user=multi_user)
        first_run = not paths.hub_db.exists()
        _ensure_secrets(paths, settings)
        proxy = ensure_proxy()
        if multi_user:
            from .userenv import user_bin

            bin_dir = user_bin(paths.user_python)
        else:
            from .userenv import project_bin

            bin_dir = project_bin()
        lab = installed_lab_extension()
        note(
            f"configurable-http-proxy at {proxy}; "
            + (f"JupyterLab extension {lab} (SOC data, templates)" if lab else "no SOC data panel")
        )
    if not lab:
        console.print(
            "  [yellow]![/] the JupyterLab extension (SOC data browser, template launcher) is "
            "not installed in this environment: `uv sync` in the project installs it"
        )

    env = _service_environment(paths, proxy)
    store_env: dict[str, str]
    store_pid = None
    embedded = not settings.store.resolved_endpoint_url
    with _step(console, steps, "store", "object store") as note:
        if embedded:
            store_pid, endpoint = _start_store(paths, env, settings)
            # Only where the store is: each user's server gets keys of its own at spawn.
            store_env = store_environment(endpoint)
            _ensure_scratch_bucket(settings, operator_options(paths.store, endpoint))
            note(f"embedded S3 at {endpoint}, objects in {paths.store / 'objects'}")
        else:
            from ..store import check_reachable

            endpoint = settings.store.resolved_endpoint_url
            check_reachable(settings)
            store_env = {"SOC_WORKSPACE__STORE__ENDPOINT_URL": endpoint}
            note(f"configured endpoint {endpoint} answers")

    host = ws.host
    port = ws.port or _free_port(host)
    if not _port_free(host, port):
        raise WorkspaceError(
            f"port {port} on {host} is in use (another workspace? see `soc-workspace status`); "
            "choose another with workspace.port (SOC_WORKSPACE__WORKSPACE__PORT, 0: any free)"
        )
    run = Runtime(
        state_dir=str(paths.root),
        host=host,
        port=port,
        hub_port=_free_port("127.0.0.1"),
        proxy_api_port=_free_port("127.0.0.1"),
        gateway_http_port=_free_port("127.0.0.1"),
        gateway_backend_port=_free_port("127.0.0.1"),
        gateway_tcp_port=_free_port("127.0.0.1"),
        isolation=ws.isolation,
        user_bin=str(bin_dir),
        proxy_command=str(proxy),
        settings=settings.model_dump(mode="json"),
        store_environment=store_env,
        store_state_dir=str(paths.store) if embedded else "",
    )
    run.write(paths.runtime_file)
    hub_pid = _start_hub(paths, env)
    steps_before_seed = time.monotonic()
    if embedded and ws.demo_days:
        # The hub needs several seconds to start: seed the store meanwhile.
        from .seed import seed_store

        with _step(console, steps, "seed", "demo data and catalog") as note:
            options = operator_options(paths.store, endpoint)
            note(seed_store(paths, options, days=ws.demo_days))
    with _step(console, steps, "hub", "JupyterHub, proxy and dask-gateway") as note:
        _wait_for_hub(paths, run, hub_pid, steps_before_seed + ws.start_timeout)
        note(f"{run.public_url}")

    pids = {"hub": hub_pid}
    if store_pid:
        pids["store"] = store_pid
    proxy_pid = processes.read_pid(paths.pid_file("proxy"))
    if proxy_pid:
        pids["proxy"] = proxy_pid
    connection = Connection(
        hub_url=run.local_url,
        api_url=f"{run.local_url}/hub/api",
        api_token=read_secret(paths, "operator-token") or "",
        store_endpoint=endpoint,
        state_dir=str(paths.root),
        public_url=run.public_url,
        admin_user=settings.hub.admin_user,
        admin_password_file=str(paths.secret("admin-password")),
        user_password_file=(
            str(paths.secret("user-password"))
            if settings.hub.authenticator == "shared-password"
            else None
        ),
        isolation=ws.isolation,
        authenticator=settings.hub.authenticator,
        gateway_address=run.gateway_address,
        gateway_proxy_address=run.gateway_proxy_address,
        pids=pids,
    )
    _write_private_json(paths.connection_file, connection.__dict__)
    return UpReport(connection, False, time.monotonic() - started, steps, first_run)


def login_instructions(connection: Connection) -> list[str]:
    """What to tell a person after ``up``."""
    url = connection.public_url
    lines = [
        f"Open {url} and log in as [bold]{connection.admin_user}[/] with the password in "
        f"{connection.admin_password_file}",
    ]
    if connection.authenticator == "native":
        lines.append(
            f"Others sign up at {url}/hub/signup; approve them at {url}/hub/authorize, "
            f"and make teams (groups) at {url}/hub/admin"
        )
    else:
        lines.append(
            f"Everyone else logs in with any user name and the password in "
            f"{connection.user_password_file}"
        )
    lines += [
        f"API URL and admin token for tools: {Path(connection.state_dir) / 'connection.json'}",
        f"Stop it with: soc-workspace down --state-dir {connection.state_dir}",
    ]
    return lines


def _start_hub(paths: StatePaths, env: dict[str, str]) -> int:
    write_config_files(paths)
    return processes.start_detached(
        [sys.executable, "-m", "jupyterhub", "-f", str(paths.hub_config)],
        env=env,
        log=paths.log("hub"),
        pid_file=paths.pid_file("hub"),
        cwd=paths.hub,
    )


def _wait_for_hub(paths: StatePaths, run: Runtime, hub_pid: int, deadline: float) -> None:
    log = paths.log("hub")
    # The hub's own port first (quiet), then through the proxy, then the gateway.
    _wait_for(f"http://127.0.0.1:{run.hub_port}/hub/api/", "the hub", deadline, hub_pid, log)
    _wait_for(f"{run.local_url}/hub/api/", "the proxy", deadline, hub_pid, log)
    _wait_for(f"{run.gateway_address}/api/health", "dask-gateway", deadline, hub_pid, log)


def _restart_parts(
    paths: StatePaths, parts: Parts, settings: Settings, console: Console, started: float
) -> UpReport:
    """Start again what is down, with the ports and settings of the run users' servers know."""
    run = Runtime.read(paths.runtime_file)
    connection = Connection.read(paths.root)
    env = _service_environment(paths, Path(run.proxy_command))
    steps: dict[str, float] = {}
    restarted = []
    if "store" in parts.down:
        # Same port: users' servers and clusters were given this endpoint.
        port = urlsplit(connection.store_endpoint or "").port or 0
        with _step(console, steps, "store", "object store (same endpoint)") as note:
            pid, endpoint = _start_store(paths, env, settings, port=port)
            connection.pids["store"] = pid
            note(endpoint)
        restarted.append("store")
    if "hub" in parts.down:
        # The proxy and the gateway of the crashed hub hold its ports; users' servers,
        # kernels and Dask clusters run on (the new hub and gateway adopt them).
        stale = [
            pid
            for pid in processes.workspace_processes(paths.root)
            if not processes.is_users_work(pid) and pid != connection.pids.get("store")
        ]
        with _step(console, steps, "hub", "JupyterHub, proxy and dask-gateway") as note:
            processes.terminate(stale, timeout=15)
            hub_pid = _start_hub(paths, env)
            _wait_for_hub(paths, run, hub_pid, time.monotonic() + settings.workspace.start_timeout)
            connection.pids["hub"] = hub_pid
            note(f"{run.public_url} ({len(stale)} stale service process(es) stopped)")
        restarted.append("hub")
    elif {"proxy", "dask-gateway"} & set(parts.down):
        # The hub restarts its proxy and its services itself: wait for them.
        with _step(console, steps, "hub", "proxy and dask-gateway, restarted by the hub") as note:
            hub_pid = connection.pids["hub"]
            _wait_for_hub(paths, run, hub_pid, time.monotonic() + settings.workspace.start_timeout)
            note(run.public_url)
        restarted += [part for part in ("proxy", "dask-gateway") if part in parts.down]
    proxy_pid = processes.read_pid(paths.pid_file("proxy"))
    if proxy_pid:
        connection.pids["proxy"] = proxy_pid
    _write_private_json(paths.connection_file, connection.__dict__)
    seconds = time.monotonic() - started
    return UpReport(connection, False, seconds, steps, restarted=restarted)


def _ensure_secrets(paths: StatePaths, settings: Settings) -> None:
    # Admin passwords of a shared-password hub must have 32 characters; use that everywhere.
    _ensure_secret(paths, "admin-password", lambda: secrets.token_urlsafe(24))
    _ensure_secret(paths, "operator-token", lambda: secrets.token_hex(32))
    _ensure_secret(
        paths, "gateway-db-key", lambda: base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()
    )
    paths.secret("proxy-token").write_text(secrets.token_hex(32))
    paths.secret("proxy-token").chmod(0o600)
    user_password = paths.secret("user-password")
    if settings.hub.authenticator == "shared-password":
        if settings.hub.shared_password:
            user_password.write_text(settings.hub.shared_password + "\n")
            user_password.chmod(0o600)
        else:
            _ensure_secret(paths, "user-password", lambda: secrets.token_urlsafe(9))


def _ensure_secret(paths: StatePaths, name: str, make: Callable[[], str]) -> None:
    path = paths.secret(name)
    if not path.exists():
        path.write_text(make() + "\n")
    path.chmod(0o600)


def _service_environment(paths: StatePaths, proxy: Path) -> dict[str, str]:
    env = dict(os.environ)
    env[MARKER] = str(paths.root)
    env["PATH"] = os.pathsep.join([str(proxy.parent), env.get("PATH", "")])
    env.pop("JUPYTERHUB_API_TOKEN", None)  # when started from inside another hub's server
    return env


def _start_store(
    paths: StatePaths, env: dict[str, str], settings: Settings, *, port: int | None = None
) -> tuple[int, str]:
    es = settings.embedded_store
    forget_connection(paths.store)
    argv = serve_argv(paths.store, es.host, es.port if port is None else port)
    pid = processes.start_detached(
        argv, env=env, log=paths.log("store"), pid_file=paths.pid_file("store")
    )
    try:
        endpoint = wait_until_serving(
            paths.store, pid, lambda: processes.is_running(pid), timeout=60
        )
    except StoreStartError as err:
        raise WorkspaceError(f"{err}:\n{_tail(paths.log('store'))}") from None
    return pid, endpoint


def _ensure_scratch_bucket(settings: Settings, options: dict[str, Any]) -> None:
    """Users may not create buckets, so the workspace makes the scratch bucket for them."""
    url = settings.scratch.url
    if not url.startswith("s3://"):
        return
    import s3fs

    fs = s3fs.S3FileSystem(**options, skip_instance_cache=True)
    bucket = bucket_of(url)
    if not fs.exists(bucket):
        fs.mkdir(bucket)


def _wait_for(url: str, what: str, deadline: float, pid: int, log: Path) -> None:
    while True:
        try:
            if requests.get(url, timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        if not processes.is_running(pid):
            raise WorkspaceError(f"{what} stopped while starting; the end of {log}:\n{_tail(log)}")
        if time.monotonic() > deadline:
            raise WorkspaceError(
                f"{what} did not answer at {url} in time (workspace.start_timeout); the end "
                f"of {log}:\n{_tail(log)}"
            )
        time.sleep(0.2)


def _check_searchable(root: Path) -> None:
    for folder in [root, *root.parents]:
        if folder.exists() and not folder.stat().st_mode & 0o001:
            raise WorkspaceError(
                f"multi-user mode: users could not reach their homes under {root} because "
                f"{folder} is closed to other users (mode {folder.stat().st_mode & 0o777:o}); "
                "choose a state directory under a folder everyone may enter, e.g. "
                "/srv/soc-workspace (workspace.state_dir or --state-dir)"
            )


def _free_port(host: str) -> int:
    with socket.socket() as sock:
        sock.bind((host if host not in ("", "0.0.0.0") else "127.0.0.1", 0))
        return sock.getsockname()[1]


def _port_free(host: str, port: int) -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def _write_private_json(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.touch(mode=0o600)
    tmp.chmod(0o600)
    tmp.write_text(json.dumps(data, indent=2) + "\n")
    os.replace(tmp, path)


def _tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return f"({path} is missing)"


@contextmanager
def _step(
    console: Console, steps: dict[str, float], key: str, label: str
) -> Iterator[Callable[[str], None]]:
    """Show a spinner while a step runs, then one line with what it did and how long it took."""
    notes: list[str] = []
    start = time.monotonic()
    with console.status(f"{label}…"):
        yield notes.append
    seconds = time.monotonic() - start
    steps[key] = seconds
    detail = f": {notes[-1]}" if notes else ""
    console.print(f"  [green]✓[/] {label}{detail} [dim]({seconds:.1f} s)[/]")


# -- down -------------------------------------------------------------------------------------


@dataclass
class DownReport:
    stopped: list[str]
    leftovers: list[str]
    seconds: float


def down(
    state_dir: str | os.PathLike[str] | None = None,
    *,
    settings: Settings | None = None,
    timeout: float = 60.0,
) -> DownReport:
    """Stop everything the workspace in ``state_dir`` runs; state on disk is kept."""
    started = time.monotonic()
    settings = settings or current_settings()
    paths = state_paths(state_dir, settings)
    stopped = []
    hub = processes.running_pid(paths.pid_file("hub"), paths.root)
    if hub:
        # The hub stops users' servers, the gateway (and its clusters) and the proxy.
        processes.terminate([hub], timeout=timeout)
        stopped.append("hub")
    store = processes.running_pid(paths.pid_file("store"), paths.root)
    if store:
        processes.terminate([store], timeout=15)
        stopped.append("store")
    leftovers = processes.workspace_processes(paths.root)
    described = [processes.describe(p) for p in leftovers]
    if leftovers:
        processes.terminate(leftovers, timeout=15)
    for name in ("hub", "store", "proxy"):
        paths.pid_file(name).unlink(missing_ok=True)
    paths.connection_file.unlink(missing_ok=True)
    return DownReport(stopped, described, time.monotonic() - started)


# -- status -----------------------------------------------------------------------------------


@dataclass
class Parts:
    """Each part of a workspace: a line saying its state, and whether it is up."""

    states: dict[str, str]
    up: dict[str, bool]
    users_work: int = 0
    """Running processes of users: servers, kernels, Dask clusters."""

    @property
    def down(self) -> list[str]:
        return [name for name, ok in self.up.items() if not ok]

    @property
    def all_running(self) -> bool:
        return all(self.up.values())

    @property
    def nothing_running(self) -> bool:
        return not any(self.up.values()) and not self.users_work

    @property
    def repairable(self) -> bool:
        """Something still runs, so restart only what is down (never a fresh start)."""
        return not self.nothing_running


def inspect_parts(paths: StatePaths) -> Parts:
    """Which parts run, each checked by its pid and by asking it (not by asking the hub)."""
    states: dict[str, str] = {}
    up: dict[str, bool] = {}
    connection = Connection.read(paths.root) if paths.connection_file.exists() else None
    try:
        run = Runtime.read(paths.runtime_file) if connection else None
    except (RuntimeError, ValueError, TypeError):
        run = None
    if connection is None or run is None:
        return Parts({"hub": "stopped"}, {"hub": False}, _users_work(paths))

    if "store" in connection.pids:
        pid = processes.running_pid(paths.pid_file("store"), paths.root)
        answers = pid is not None and _answers(connection.store_endpoint or "")
        up["store"] = answers
        states["store"] = (
            f"running (pid {pid}) at {connection.store_endpoint}"
            if answers
            else f"running (pid {pid}) but not answering at {connection.store_endpoint}"
            if pid
            else "stopped"
        )
    elif connection.store_endpoint:
        states["store"] = f"external: {connection.store_endpoint}"

    hub = processes.running_pid(paths.pid_file("hub"), paths.root)
    hub_answers = hub is not None and _answers(f"http://127.0.0.1:{run.hub_port}/hub/api/")
    up["hub"] = hub_answers
    states["hub"] = (
        f"running (pid {hub}) at {connection.public_url}"
        if hub_answers
        else f"running (pid {hub}) but not answering"
        if hub
        else "stopped"
    )
    proxy = processes.running_pid(paths.pid_file("proxy"), paths.root)
    proxy_answers = proxy is not None and _answers(f"{run.local_url}/hub/api/")
    up["proxy"] = proxy_answers
    states["proxy"] = (
        f"running (pid {proxy})"
        if proxy_answers
        else f"running (pid {proxy}) but not answering"
        if proxy
        else "stopped"
    )
    # The gateway's own port, so a stopped proxy does not make it look stopped too.
    gateway = _answers(
        f"http://127.0.0.1:{run.gateway_http_port}/services/{GATEWAY_SERVICE}/api/health"
    )
    up["dask-gateway"] = gateway
    states["dask-gateway"] = "running" if gateway else "not answering"
    return Parts(states, up, _users_work(paths))


def _users_work(paths: StatePaths) -> int:
    return sum(processes.is_users_work(p) for p in processes.workspace_processes(paths.root))


def _answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=3).status_code < 500
    except requests.RequestException:
        return False


@dataclass
class Status:
    state_dir: str
    running: bool
    components: dict[str, str]
    servers: list[str] = field(default_factory=list)
    processes: int = 0
    down: list[str] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        """0: everything runs; 3: nothing runs; 1: some part is down (``up`` restarts it)."""
        if not self.down:
            return 0
        return 1 if self.running or self.processes else 3


def status(
    state_dir: str | os.PathLike[str] | None = None, *, settings: Settings | None = None
) -> Status:
    """What runs for the workspace in ``state_dir``, each part checked on its own."""
    settings = settings or current_settings()
    paths = state_paths(state_dir, settings)
    parts = inspect_parts(paths)
    servers: list[str] = []
    if parts.up.get("hub") and paths.connection_file.exists():
        connection = Connection.read(paths.root)
        users = _get(
            f"http://127.0.0.1:{Runtime.read(paths.runtime_file).hub_port}"
            "/hub/api/users?state=active",
            connection.api_token,
        )
        servers = sorted(u["name"] for u in users or [])
    return Status(
        state_dir=str(paths.root),
        running=any(parts.up.values()),
        components=parts.states,
        servers=servers,
        processes=len(processes.workspace_processes(paths.root)),
        down=parts.down,
    )


def _get(url: str, token: str | None) -> Any:
    headers = {"Authorization": f"token {token}"} if token else {}
    try:
        response = requests.get(url, headers=headers, timeout=5)
    except requests.RequestException:
        return None
    if response.status_code != 200:
        return None
    try:
        return response.json()
    except ValueError:
        return {}
