"""dask-gateway backends for one machine: clusters as local processes on loopback.

:class:`PersonalBackend` runs clusters as the gateway's OS user (isolation between users by
token and per-cluster TLS); :class:`SystemUserBackend` runs each user's clusters as their
system user (multi-user mode, the gateway runs as root).
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

from dask_gateway_server.backends.base import PublicException
from dask_gateway_server.backends.local import LocalBackend, UnsafeLocalBackend
from traitlets import Unicode
from traitlets.config import LoggingConfigurable

from ..hub.gateway import ClusterLimitsMixin
from .paths import StatePaths
from .storekeys import user_store_environment


class WorkspaceBackendMixin(LoggingConfigurable):
    # dask-gateway's backends read the address that schedulers, workers and dashboards bind
    # to from the class attribute ``default_host`` (0.0.0.0 in the base class). A trait of
    # the same name replaces it with a configurable value.
    default_host = Unicode(
        "127.0.0.1",
        config=True,
        help="Address schedulers, workers and dashboards listen on.",
    )
    state_dir = Unicode(
        "", config=True, help="The workspace's state directory (users' store keys)."
    )

    async def start_cluster(self, user: Any, cluster_options: dict[str, Any]) -> str:
        if self.state_dir:  # make the user's store keys now, off the event loop
            await asyncio.to_thread(user_store_environment, self._paths, user.name)
        return await super().start_cluster(user, cluster_options)  # type: ignore[misc]

    def get_env(self, cluster: Any) -> dict[str, str]:
        # Schedulers and workers read and write the store as the cluster's user.
        env = super().get_env(cluster)  # type: ignore[misc]
        if self.state_dir:
            env.update(user_store_environment(self._paths, cluster.username, reuse=True))
        return env

    @property
    def _paths(self) -> StatePaths:
        return StatePaths(Path(self.state_dir))


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
