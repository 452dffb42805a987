"""The layout of a workspace's state directory (everything that survives a restart)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class StatePaths:
    """Where things live under ``root`` (the state directory).

    ``hub/`` the hub's database, cookie secret and config (private); ``secrets/`` passwords
    and tokens (private); ``store/`` the embedded store's objects; ``home/<user>`` users'
    homes; ``teams/<team>`` team folders; ``shared/`` read by all, written by admins;
    ``templates/`` the notebook templates (read-only); ``clusters/`` Dask clusters' working
    directories; ``kernels/<user>`` kernels' sockets; ``run/`` pid files and runtime
    details; ``logs/`` the services' logs; ``connection.json`` for tools (private).
    """

    root: Path

    @property
    def hub(self) -> Path:
        return self.root / "hub"

    @property
    def hub_config(self) -> Path:
        return self.hub / "jupyterhub_config.py"

    @property
    def hub_db(self) -> Path:
        return self.hub / "jupyterhub.sqlite"

    @property
    def gateway(self) -> Path:
        return self.root / "gateway"

    @property
    def gateway_config(self) -> Path:
        return self.gateway / "dask_gateway_config.py"

    @property
    def clusters(self) -> Path:
        """Working directories of Dask clusters (root's, 0711: names cannot be listed)."""
        return self.root / "clusters"

    @property
    def kernels(self) -> Path:
        """Per-user folders of kernels' connection files and IPC sockets (each 0700)."""
        return self.root / "kernels"

    @property
    def secrets(self) -> Path:
        return self.root / "secrets"

    @property
    def store(self) -> Path:
        return self.root / "store"

    @property
    def homes(self) -> Path:
        return self.root / "home"

    @property
    def removed(self) -> Path:
        """Homes of deleted users, moved aside (root's, 0700)."""
        return self.root / "removed"

    @property
    def workshops(self) -> Path:
        """Workshops' materials (readable by all) and archives (root's)."""
        return self.root / "workshops"

    @property
    def teams(self) -> Path:
        return self.root / "teams"

    @property
    def shared(self) -> Path:
        return self.root / "shared"

    @property
    def templates(self) -> Path:
        return self.root / "templates"

    @property
    def run(self) -> Path:
        return self.root / "run"

    @property
    def runtime_file(self) -> Path:
        return self.run / "runtime.json"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def user_python(self) -> Path:
        return self.root / "python"

    @property
    def connection_file(self) -> Path:
        return self.root / "connection.json"

    def secret(self, name: str) -> Path:
        return self.secrets / name

    def pid_file(self, name: str) -> Path:
        return self.run / f"{name}.pid"

    def log(self, name: str) -> Path:
        return self.logs / f"{name}.log"
