"""dask-gateway backends for one machine: clusters as local processes on loopback.

:class:`PersonalBackend` runs clusters as the gateway's OS user (isolation between users by
token and per-cluster TLS); :class:`SystemUserBackend` runs each user's clusters as their
system user (multi-user mode, the gateway runs as root).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from dask_gateway_server.backends.base import PublicException
from dask_gateway_server.backends.local import LocalBackend, UnsafeLocalBackend
from traitlets import Unicode
from traitlets.config import Config, LoggingConfigurable

from ..hub.gateway import ClusterLimitsMixin
from ..hub.roles import GATEWAY_SERVICE


class WorkspaceBackendMixin(LoggingConfigurable):
    # dask-gateway's backends read the address that schedulers, workers and dashboards bind
    # to from the class attribute ``default_host`` (0.0.0.0 in the base class). A trait of
    # the same name replaces it with a configurable value.
    default_host = Unicode(
        "127.0.0.1",
        config=True,
        help="Address schedulers, workers and dashboards listen on.",
    )


class PersonalBackend(WorkspaceBackendMixin, ClusterLimitsMixin, UnsafeLocalBackend):
    """Clusters run as the gateway's own OS user (personal mode)."""


class SystemUserBackend(WorkspaceBackendMixin, ClusterLimitsMixin, LocalBackend):
    """Clusters run as the user's system account (multi-user mode; the gateway runs as root)."""

    async def start_cluster(self, user: Any, cluster_options: dict[str, Any]) -> str:
        from .accounts import is_workspace_account

        if not is_workspace_account(user.name):
            # Never run a cluster as an account soc-workspace did not create (root, ...).
            raise PublicException(
                f"{user.name} has no workspace system account yet: start your server "
                "(JupyterLab) once, then create the cluster"
            )
        return await super().start_cluster(user, cluster_options)

    def set_file_permissions(self, paths: list[str], username: str) -> None:
        # dask-gateway-server 2026.3 adds the TLS key and certificate to ``paths`` with
        # ``extend`` (one character each) instead of ``append``, so chown fails on "t".
        # Keep the real paths and add the two files, so the user can read them.
        real = [p for p in paths if os.path.isabs(p)]
        super().set_file_permissions([*real, *self._get_tls_paths(real[0])], username)


@dataclass(frozen=True)
class LocalGateway:
    """Where a gateway on this machine listens, and how it starts clusters."""

    http_address: str
    """host:port of the gateway's HTTP proxy (the hub routes /services/dask-gateway here)."""
    tcp_address: str
    """host:port of the gateway's scheduler proxy (``gateway://`` addresses)."""
    dask: str
    """Absolute path of the ``dask`` command that users' schedulers and workers run."""
    isolation: Literal["personal", "multi-user"] = "personal"
    bind_host: str = "127.0.0.1"
    """Address schedulers, workers and dashboards listen on."""
    prefix: str = f"/services/{GATEWAY_SERVICE}"
    environment: Mapping[str, str] = field(default_factory=dict)
    """Variables for schedulers and workers (the store's endpoint, ...)."""


def configure_local_backend(c: Config, local: LocalGateway) -> None:
    """This machine's part of a gateway's config (after soc_workspace.hub's): the local
    backend (clusters run as the user in multi-user mode), loopback addresses, and the
    ``dask scheduler`` / ``dask worker`` commands."""
    backend = SystemUserBackend if local.isolation == "multi-user" else PersonalBackend
    c.DaskGateway.backend_class = backend
    c.DaskGateway.address = "127.0.0.1:0"  # the private API; users go through the proxy
    c.Proxy.address = local.http_address
    c.Proxy.tcp_address = local.tcp_address
    c.Proxy.prefix = local.prefix
    c.WorkspaceBackendMixin.default_host = local.bind_host
    c.ClusterConfig.scheduler_cmd = [local.dask, "scheduler"]
    c.ClusterConfig.worker_cmd = [local.dask, "worker"]
    c.ClusterConfig.environment = dict(local.environment)
