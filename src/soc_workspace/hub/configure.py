"""``configure_hub``: a hub configured from soc-workspace settings alone.

The one-machine workspace calls it (and adds its spawner, proxy, profiles and addresses). On
Kubernetes the jupyterhub chart's values decide authentication, timeouts and the default page,
and ``soc_workspace.kubernetes`` uses the same roles, gateway service and user environment.
"""

from __future__ import annotations

from collections.abc import Mapping

from traitlets.config import Config

from ..activity import INTERVAL_VARIABLE
from ..config import Settings, current_settings
from .auth import configure_authenticator
from .environment import user_environment
from .gateway import GatewayService, stop_clusters_hook
from .roles import add_gateway_service, add_operator_service, configure_roles


def configure_hub(
    c: Config,
    settings: Settings | None = None,
    *,
    gateway: GatewayService,
    store_environment: Mapping[str, str] | None = None,
    admin_password: str | None = None,
    user_password: str | None = None,
    operator_token: str | None = None,
) -> None:
    """Fill a ``jupyterhub_config.py``'s ``c`` from the settings.

    Sets: the ``user`` role and server-token scopes (gateway access), the authenticator and
    admin (``[hub]``), the dask-gateway service, the environment of users' servers (gateway,
    store, catalog), JupyterLab as the default page, start and idle timeouts, and a post-stop
    hook that stops a user's Dask clusters with their server. It does not choose the spawner,
    the proxy, profiles or where the hub listens: that is the deployment's part.

    Parameters
    ----------
    c
        The traitlets config of jupyterhub_config.py (``get_config()``).
    settings
        Default: :func:`soc_workspace.config.current_settings`.
    gateway
        Where the gateway is, for the hub and for users' servers.
    store_environment
        Extra variables for users' servers to reach the object store.
    admin_password, user_password
        See :func:`soc_workspace.hub.configure_authenticator`.
    operator_token
        An API token for operators' tools (service ``soc-workspace``), if any.
    """
    settings = settings or current_settings()
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
    c.Spawner.environment = environment
    c.Spawner.default_url = hub.default_url
    c.Spawner.start_timeout = int(hub.start_timeout)
    c.Spawner.http_timeout = int(hub.http_timeout)
    c.JupyterHub.concurrent_spawn_limit = hub.concurrent_spawn_limit
    if hub.server_idle_timeout:
        # The server stops itself once idle (kernels culled first); the hub then stops its
        # clusters through the post-stop hook. Works with any spawner, no extra service.
        # Running work (busy kernels, reruns, Dask tasks) counts as activity: see
        # soc_workspace.activity, which checks a few times per timeout.
        timeout = int(hub.server_idle_timeout)
        c.Spawner.args = [
            *c.Spawner.get("args", []),
            f"--ServerApp.shutdown_no_activity_timeout={timeout}",
            f"--MappingKernelManager.cull_idle_timeout={timeout}",
            f"--MappingKernelManager.cull_interval={max(5, min(300, timeout // 4))}",
            "--MappingKernelManager.cull_connected=True",
        ]
        environment = dict(c.Spawner.environment)
        environment.setdefault(INTERVAL_VARIABLE, str(max(5, min(60, timeout // 4))))
        environment.setdefault("JUPYTERHUB_ACTIVITY_INTERVAL", str(max(5, min(300, timeout // 4))))
        c.Spawner.environment = environment
    c.Spawner.post_stop_hook = stop_clusters_hook(
        gateway.address, service=gateway.name, previous=c.Spawner.get("post_stop_hook")
    )
