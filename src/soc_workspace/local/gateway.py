"""dask-gateway backends for one machine: clusters as local processes on loopback.

:class:`PersonalBackend` runs clusters as the gateway's OS user (isolation between users by
token and per-cluster TLS); :class:`SystemUserBackend` runs each user's clusters as their
system user (multi-user mode, the gateway runs as root).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from dask_gateway_server.backends.base import PublicException
from dask_gateway_server.backends.local import LocalBackend, UnsafeLocalBackend, getpwnam
from traitlets import Integer, Unicode
from traitlets.config import Config, LoggingConfigurable

from ..hub.cluster_environments import with_environment_option
from ..hub.gateway import ClusterLimitsMixin
from ..hub.roles import GATEWAY_SERVICE
from . import rootfs
from .paths import StatePaths
from .priority import lower_soon
from .storekeys import user_store_environment

GUARD_PRELOAD = "soc_workspace.local.dashboard_guard"


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
    worker_nice = Integer(
        0,
        config=True,
        help="Nice value of workers (workspace.compute_nice; 0: as the gateway's).",
    )
    scheduler_nice = Integer(
        0,
        config=True,
        help="Nice value of schedulers (workspace.user_nice; 0: as the gateway's).",
    )

    async def start_process(self, cluster: Any, cmd: list[str], env: dict[str, str], name: str):  # type: ignore[no-untyped-def]
        pid = await super().start_process(cluster, cmd, env, name)  # type: ignore[misc]
        await self.lower_priority(pid, scheduler=name == "scheduler")
        return pid

    async def lower_priority(self, pid: int, *, scheduler: bool = False) -> None:
        """Users' Dask processes yield the CPU to the hub and the gateway (see priority).

        Schedulers only coordinate, but they must answer their clients and send the gateway
        their heartbeat in time (it stops a cluster that misses 30 s of them), so they stay at
        the servers' priority; workers compute at the computations' one.
        """
        nice = self.scheduler_nice if scheduler else self.worker_nice
        if nice:
            await lower_soon(pid, nice)

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

    def get_worker_command(self, cluster: Any, worker_name: str, scheduler_address=None):  # type: ignore[no-untyped-def]
        # dask-gateway gives workers no --host, so they listen on every interface.
        command = super().get_worker_command(cluster, worker_name, scheduler_address)  # type: ignore[misc]
        return [*command, "--host", self.default_host]


class PersonalBackend(WorkspaceBackendMixin, ClusterLimitsMixin, UnsafeLocalBackend):
    """Clusters run as the gateway's own OS user (personal mode)."""


class SystemUserBackend(WorkspaceBackendMixin, ClusterLimitsMixin, LocalBackend):
    """Clusters run as the user's system account (multi-user mode; the gateway runs as root).

    The gateway runs as root here, so everything it does in a cluster's working directory
    (which the user owns) goes through directory descriptors, never following a symlink (see
    :mod:`soc_workspace.local.rootfs`). Working directories live in ``clusters_directory``
    (root's, mode 0711: nobody can list the cluster names). Dashboards answer only their user
    (and the gateway's proxy): :mod:`soc_workspace.local.dashboard_guard`.
    """

    async def start_cluster(self, user: Any, cluster_options: dict[str, Any]) -> str:
        from .accounts import is_workspace_account

        if not is_workspace_account(user.name):
            # Never run a cluster as an account soc-workspace did not create (root, ...).
            raise PublicException(
                f"{user.name} has no workspace system account yet: start your server "
                "(JupyterLab) once, then create the cluster"
            )
        return await super().start_cluster(user, cluster_options)

    def get_scheduler_command(self, cluster: Any) -> list[str]:
        return [*super().get_scheduler_command(cluster), "--preload", GUARD_PRELOAD]

    def get_worker_command(self, cluster: Any, worker_name: str, scheduler_address=None):  # type: ignore[no-untyped-def]
        command = super().get_worker_command(cluster, worker_name, scheduler_address)
        return [*command, "--preload", GUARD_PRELOAD]

    def setup_working_directory(self, cluster: Any) -> str:
        # Replaces dask-gateway's own, which passed the characters of the certificate paths
        # to chown (so "/" was given to the user) and works on paths a user could swap.
        if not self.clusters_directory:
            raise RuntimeError("SystemUserBackend needs clusters_directory (a root-owned folder)")
        owner = getpwnam(cluster.username)
        uid, gid = owner.pw_uid, owner.pw_gid
        name = cluster.name
        with rootfs.open_dir(self.clusters_directory) as clusters:
            os.mkdir(name, 0o700, dir_fd=clusters)
            with rootfs.open_dir(name, dir_fd=clusters) as workdir:
                rootfs.make_dir(workdir, ".certs", 0o700, uid, gid)
                rootfs.make_dir(workdir, "logs", 0o700, uid, gid)
                with rootfs.open_dir(".certs", dir_fd=workdir) as certs:
                    rootfs.write_file(certs, "dask.crt", cluster.tls_cert, 0o600, uid, gid)
                    rootfs.write_file(certs, "dask.pem", cluster.tls_key, 0o600, uid, gid)
                os.fchown(workdir, uid, gid)
        return os.path.join(self.clusters_directory, name)

    def set_file_permissions(self, paths: list[str], username: str) -> None:
        raise NotImplementedError("setup_working_directory sets owners through descriptors")

    async def start_process(self, cluster: Any, cmd: list[str], env: dict[str, str], name: str):  # type: ignore[no-untyped-def]
        owner = getpwnam(cluster.username)
        relative = os.path.relpath(cluster.state["workdir"], self.clusters_directory)
        with (
            rootfs.open_dir(self.clusters_directory) as clusters,
            rootfs.open_dir(os.path.join(relative, "logs"), dir_fd=clusters) as logs,
        ):
            fd = rootfs.create_file(logs, f"{name}.log", 0o600, owner.pw_uid, owner.pw_gid)
        try:
            proc = await asyncio.create_subprocess_exec(
                *cmd,
                preexec_fn=self.make_preexec_fn(cluster),
                start_new_session=True,
                env=env,
                stdout=fd,
                stderr=asyncio.subprocess.STDOUT,
            )
        finally:
            os.close(fd)
        await self.lower_priority(proc.pid, scheduler=name == "scheduler")
        return proc.pid


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
    environments_dir: str = ""
    """Mission environments (``env create``) whose kernels may ask for workers of their own."""


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
    if local.environments_dir:
        options = c.Backend.get("cluster_options")
        if options is not None:
            c.Backend.cluster_options = with_environment_option(
                options, lambda: mission_environments(local.environments_dir)
            )


def mission_environments(environments_dir: str | os.PathLike[str]) -> dict[str, str]:
    """Environments built by ``env create`` that can run Dask (name -> their ``dask``)."""
    root = Path(environments_dir)
    found = {}
    if root.is_dir():
        for folder in sorted(root.iterdir()):
            dask = folder / "bin" / "dask"
            if (folder / "soc-workspace-env.json").is_file() and dask.is_file():
                found[folder.name] = str(dask)
    return found
