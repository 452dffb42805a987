"""``configure_hub``: everything of JupyterHub's configuration that both deployments share."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Literal

from traitlets.config import Config

from ..config import Settings, load_settings
from .auth import configure_authenticator
from .environment import user_environment
from .gateway import GatewayService, stop_clusters_hook
from .profiles import configure_profiles
from .roles import add_gateway_service, add_operator_service, configure_roles

STARTUP_FILE = Path(__file__).resolve().parents[1] / "startup.py"

DEPLOYMENTS = ("local", "kubernetes")


def configure_hub(
    c: Config,
    settings: Settings | None = None,
    *,
    deployment: Literal["local", "kubernetes"] = "local",
    gateway: GatewayService,
    store_environment: Mapping[str, str] | None = None,
    admin_password: str | None = None,
    user_password: str | None = None,
    operator_token: str | None = None,
) -> None:
    """Fill a ``jupyterhub_config.py``'s ``c`` from the settings.

    Sets: the ``user`` role and server-token scopes (gateway access), the authenticator and
    admin (``[hub]``), the dask-gateway service, the environment of users' servers (gateway,
    store, catalog), JupyterLab as the default page, start and idle timeouts, profiles, and a
    post-stop hook that stops a user's Dask clusters with their server. It does not choose the
    spawner, the proxy or where the hub listens: that is the deployment's part
    (``soc_workspace.local`` on one machine, the Helm chart's drop-ins on Kubernetes).

    Parameters
    ----------
    c
        The traitlets config of jupyterhub_config.py (``get_config()``).
    settings
        Default: :func:`soc_workspace.config.load_settings`.
    deployment
        ``"local"``: profiles become a form on the spawn page. ``"kubernetes"``: profiles are
        left to KubeSpawner's ``profile_list`` (see :func:`soc_workspace.hub.profiles`).
    gateway
        Where the gateway is, for the hub and for users' servers.
    store_environment
        Extra variables for users' servers to reach the object store.
    admin_password, user_password
        See :func:`soc_workspace.hub.configure_authenticator`.
    operator_token
        An API token for operators' tools (service ``soc-workspace``), if any.
    """
    if deployment not in DEPLOYMENTS:
        raise ValueError(f"deployment must be one of {DEPLOYMENTS}, not {deployment!r}")
    settings = settings or load_settings()
    hub = settings.hub
    configure_roles(c, gateway_service=gateway.name)
    configure_authenticator(c, settings, admin_password=admin_password, user_password=user_password)
    add_gateway_service(
        c,
        url=gateway.url,
        command=gateway.command,
        environment=gateway.environment,
        api_token=gateway.api_token,
        name=gateway.name,
    )
    if operator_token:
        add_operator_service(c, operator_token)

    environment = dict(c.Spawner.get("environment", {}))
    environment.update(
        user_environment(
            settings,
            gateway_address=gateway.address,
            gateway_proxy_address=gateway.proxy_address,
            gateway_public_address=gateway.public_address,
            store_environment=store_environment,
        )
    )
    if deployment == "local":
        # Users' servers run from this installation, so their kernels find its start-up file
        # (plots that draw offline); the notebook image sets the same variable itself.
        environment["PYTHONSTARTUP"] = str(STARTUP_FILE)
    c.Spawner.environment = environment
    c.Spawner.default_url = hub.default_url
    c.Spawner.start_timeout = int(hub.start_timeout)
    c.Spawner.http_timeout = int(hub.http_timeout)
    c.JupyterHub.concurrent_spawn_limit = hub.concurrent_spawn_limit
    if hub.server_idle_timeout:
        # The server stops itself once idle (kernels culled first); the hub then stops its
        # clusters through the post-stop hook. Works with any spawner, no extra service.
        timeout = int(hub.server_idle_timeout)
        c.Spawner.args = [
            *c.Spawner.get("args", []),
            f"--ServerApp.shutdown_no_activity_timeout={timeout}",
            f"--MappingKernelManager.cull_idle_timeout={timeout}",
            f"--MappingKernelManager.cull_interval={max(60, timeout // 10)}",
            "--MappingKernelManager.cull_connected=True",
        ]
    c.Spawner.post_stop_hook = stop_clusters_hook(
        gateway.address, service=gateway.name, previous=c.Spawner.get("post_stop_hook")
    )
    if deployment == "local":
        configure_profiles(c, settings)
