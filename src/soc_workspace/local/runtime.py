"""What one run of ``soc-workspace up`` decided (ports, endpoints, settings), and the hub's and
gateway's configuration built from it.

``up`` writes ``<state>/run/runtime.json``; the generated ``jupyterhub_config.py`` and
``dask_gateway_config.py`` in the state directory call :func:`configure_local_hub` and
:func:`configure_local_gateway`, which read it. Settings are frozen into the file, so the hub
and the gateway use exactly the settings ``up`` was given (file, environment, --config).
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from traitlets.config import Config

from ..config import Settings
from ..hub.roles import GATEWAY_SERVICE
from .paths import StatePaths
from .processes import MARKER

WATCH_SERVICE = "catalog-watch"
"""The hub service that applies the buckets' object events to the catalogs."""
WATCH_QUEUE = "catalog-events"
"""The embedded store's event queue (the service creates it and subscribes the buckets)."""

STARTUP_FILE = Path(__file__).resolve().parents[1] / "startup.py"
"""Kernels' start-up file (plots that draw offline); the notebook image has its own copy."""


@dataclass
class Runtime:
    """Ports and endpoints of one run. ``host`` is what the public URL binds to."""

    state_dir: str
    host: str
    port: int
    hub_port: int
    proxy_api_port: int
    gateway_http_port: int
    gateway_tcp_port: int
    isolation: Literal["personal", "multi-user"]
    user_bin: str
    proxy_command: str
    settings: dict[str, Any]
    store_environment: dict[str, str] = field(default_factory=dict)
    """Where the store is, for every user (each user's own keys come from ``storekeys``)."""
    store_state_dir: str = ""
    """The embedded store's state directory (its operator keys); empty for another store."""
    gateway_backend_port: int = 0
    """dask-gateway's own HTTP proxy, behind :mod:`soc_workspace.local.gateway_front`."""

    @property
    def local_url(self) -> str:
        """The hub as this machine reaches it."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def public_url(self) -> str:
        """The hub as people reach it."""
        if self.host in ("0.0.0.0", "", "::"):
            import socket

            return f"http://{socket.getfqdn()}:{self.port}"
        return f"http://{self.host}:{self.port}"

    @property
    def gateway_address(self) -> str:
        return f"{self.local_url}/services/{GATEWAY_SERVICE}"

    @property
    def gateway_proxy_address(self) -> str:
        return f"gateway://127.0.0.1:{self.gateway_tcp_port}"

    def write(self, path: Path) -> None:
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(asdict(self), indent=2))
        tmp.chmod(0o600)
        os.replace(tmp, path)

    @classmethod
    def read(cls, path: Path) -> Runtime:
        try:
            return cls(**json.loads(path.read_text()))
        except FileNotFoundError:
            raise RuntimeError(
                f"{path} is missing: this configuration is written by `soc-workspace up`"
            ) from None


def read_secret(paths: StatePaths, name: str) -> str | None:
    try:
        return paths.secret(name).read_text().strip() or None
    except FileNotFoundError:
        return None


def configure_local_hub(c: Config, state_dir: str | os.PathLike[str]) -> None:
    """The hub of a workspace on this machine (called by <state>/hub/jupyterhub_config.py)."""
    from ..hub.configure import configure_hub
    from ..hub.gateway import GatewayService
    from ..hub.roles import add_service
    from .profiles import configure_profiles

    paths = StatePaths(Path(state_dir))
    run = Runtime.read(paths.runtime_file)
    settings = Settings(**run.settings)
    marker = {MARKER: str(paths.root)}
    gateway = GatewayService(
        address=run.gateway_address,
        proxy_address=run.gateway_proxy_address,
        url=f"http://127.0.0.1:{run.gateway_http_port}",
        public_address=f"{run.public_url}/services/{GATEWAY_SERVICE}",
        command=[
            sys.executable,
            "-m",
            "soc_workspace.local.gateway_front",
            f"http://127.0.0.1:{run.gateway_backend_port}",
            str(run.gateway_http_port),
            str(paths.pid_file("gateway")),
            "--",
            sys.executable,
            "-m",
            "dask_gateway_server",
            "-f",
            str(paths.gateway_config),
        ],
        environment={**marker, **run.store_environment},
    )
    configure_hub(
        c,
        settings,
        gateway=gateway,
        store_environment=run.store_environment,
        admin_password=read_secret(paths, "admin-password"),
        user_password=read_secret(paths, "user-password"),
        operator_token=read_secret(paths, "operator-token"),
    )
    watcher = catalog_watch_service(run, settings, marker)
    if watcher is not None:
        add_service(c, watcher)
    c.JupyterHub.bind_url = f"http://{run.host}:{run.port}"
    c.JupyterHub.hub_bind_url = f"http://127.0.0.1:{run.hub_port}"
    c.JupyterHub.db_url = f"sqlite:///{paths.hub_db}"
    c.JupyterHub.cookie_secret_file = str(paths.hub / "jupyterhub_cookie_secret")
    c.ConfigurableHTTPProxy.command = [run.proxy_command]
    c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{run.proxy_api_port}"
    c.ConfigurableHTTPProxy.auth_token = read_secret(paths, "proxy-token") or ""
    c.ConfigurableHTTPProxy.pid_file = str(paths.pid_file("proxy"))

    spawner = "SystemUserSpawner" if run.isolation == "multi-user" else "PersonalSpawner"
    c.JupyterHub.spawner_class = f"soc_workspace.local.spawners.{spawner}"
    c[spawner].state_dir = str(paths.root)
    c[spawner].user_python = str(Path(run.user_bin) / "python")
    # A class starting at once: servers queue for a few slots, below the hub in CPU priority.
    c[spawner].spawn_slots = settings.hub.spawn_slots
    c[spawner].user_nice = settings.workspace.user_nice
    c[spawner].compute_nice = settings.workspace.compute_nice
    if run.isolation == "multi-user":
        from .accounts import name_conflict

        # Every hub user becomes a system user: refuse at sign-up what could not be one.
        c.UsernameRules.name_check = name_conflict
        # Servers whose user left a team are found by the hub's poll (see the spawner).
        c.SystemUserSpawner.poll_interval = 10
    # Workshops end on their own at their end time (a hub service with the operator's scopes).
    add_workshop_service(c, run, paths)
    c.Spawner.cmd = [str(Path(run.user_bin) / "jupyterhub-singleuser")]
    configure_profiles(c, settings)
    environment = dict(c.Spawner.environment)
    environment.update(marker)
    # Users' servers run from this installation, so their kernels find its start-up file.
    environment["PYTHONSTARTUP"] = str(STARTUP_FILE)
    # The operator's mission environments (and their kernels, in this installation's
    # share/jupyter unless calibration.jupyter_data_dir says otherwise) for every user: their
    # homes differ from the operator's, so the default folder must be named.
    environment["SOC_WORKSPACE__CALIBRATION__ENVIRONMENTS_DIR"] = str(
        settings.calibration.resolved_environments_dir.absolute()
    )
    environment["PATH"] = os.pathsep.join([run.user_bin, os.environ.get("PATH", "")])
    c.Spawner.environment = environment


def add_workshop_service(c: Config, run: Runtime, paths: StatePaths) -> None:
    from ..hub.roles import OPERATOR_ROLE, add_role, add_service
    from ..workshop.service import HUB_URL_VARIABLE, INTERVAL_VARIABLE, SERVICE

    environment = {MARKER: str(paths.root), HUB_URL_VARIABLE: run.local_url}
    if os.environ.get(INTERVAL_VARIABLE):  # how often it looks, if `up` was told (tests)
        environment[INTERVAL_VARIABLE] = os.environ[INTERVAL_VARIABLE]
    add_service(
        c,
        {
            "name": SERVICE,
            "command": [sys.executable, "-m", "soc_workspace.workshop.service"],
            "environment": environment,
            "display": False,
        },
    )
    add_role(c, OPERATOR_ROLE, services=[SERVICE])


def catalog_watch_service(
    run: Runtime, settings: Settings, marker: dict[str, str]
) -> dict[str, Any] | None:
    """The hub-managed service that keeps the catalogs current (``soc-workspace catalog
    watch``), or None when there is no event queue: the embedded store's own queue (created
    and subscribed by the service), or ``catalog.events_queue`` of another store."""
    from ..store.credentials import read_operator, store_environment

    argv = [sys.executable, "-m", "soc_workspace", "catalog", "watch"]
    if run.store_state_dir:
        operator = read_operator(run.store_state_dir)
        endpoint = run.store_environment.get("SOC_WORKSPACE__STORE__ENDPOINT_URL", "")
        if operator is None or not endpoint:
            return None
        queue = settings.catalog.events_queue or WATCH_QUEUE
        argv += ["--queue", queue, "--subscribe"]
        environment = store_environment(endpoint, operator)
    elif settings.catalog.events_queue:
        # Writes only where catalog.url says, or refused in a pipeline bucket (not --operator).
        argv += ["--queue", settings.catalog.events_queue]
        environment = dict(run.store_environment)
    else:
        return None
    if settings.catalog.url:
        environment["SOC_WORKSPACE__CATALOG__URL"] = settings.catalog.url
    environment["SOC_WORKSPACE__STAGE"] = settings.stage
    environment["PYTHONUNBUFFERED"] = "1"  # a line per batch in the hub's log, as it happens
    return {
        "name": WATCH_SERVICE,
        "command": argv,
        "environment": {**marker, **environment},
        "display": False,
    }


def configure_local_gateway(c: Config, state_dir: str | os.PathLike[str]) -> None:
    """The gateway of a workspace on this machine (<state>/gateway/dask_gateway_config.py)."""
    from ..hub.gateway import configure_gateway
    from .gateway import LocalGateway, configure_local_backend

    paths = StatePaths(Path(state_dir))
    run = Runtime.read(paths.runtime_file)
    settings = Settings(**run.settings)
    configure_gateway(c, settings)
    configure_local_backend(
        c,
        LocalGateway(
            http_address=f"127.0.0.1:{run.gateway_backend_port}",
            tcp_address=f"127.0.0.1:{run.gateway_tcp_port}",
            dask=str(Path(run.user_bin) / "dask"),
            isolation=run.isolation,
            environment={MARKER: str(paths.root), **run.store_environment},
            environments_dir=str(settings.calibration.resolved_environments_dir.absolute()),
        ),
    )
    # Not a temporary folder: /tmp would show every cluster's name to every user.
    c.LocalBackend.clusters_directory = str(paths.clusters)
    # Clusters outlive a restart of the gateway (after a hub crash): it keeps them in a file.
    c.DBBackendBase.db_url = f"sqlite:///{paths.gateway / 'clusters.sqlite'}"
    c.DBBackendBase.db_encrypt_keys = [read_secret(paths, "gateway-db-key") or ""]
    # Each user's clusters get that user's store keys (see WorkspaceBackendMixin.get_env).
    c.WorkspaceBackendMixin.state_dir = str(paths.root)
    c.WorkspaceBackendMixin.worker_nice = settings.workspace.compute_nice
    c.WorkspaceBackendMixin.scheduler_nice = settings.workspace.user_nice


def write_config_files(paths: StatePaths) -> None:
    """The two config files, like the drop-ins the Helm chart mounts on Kubernetes."""
    root = repr(str(paths.root))
    paths.hub_config.write_text(
        "# Written by `soc-workspace up`; edits are replaced on the next start.\n"
        "from soc_workspace.local.runtime import configure_local_hub\n\n"
        f"configure_local_hub(get_config(), {root})\n"
    )
    paths.gateway_config.write_text(
        "# Written by `soc-workspace up`; edits are replaced on the next start.\n"
        "from soc_workspace.local.runtime import configure_local_gateway\n\n"
        f"configure_local_gateway(get_config(), {root})\n"
    )
