"""``soc-workspace workshop status``: who logged in, what runs, what it uses.

Logins, servers and Dask clusters come from the hub's REST API (any hub). On the workspace of
this machine, the CPU and memory of each participant's processes (server, kernels, Dask
schedulers and workers) are measured too, over one second.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from .hub import WorkshopHub
from .record import Workshop


@dataclass
class ParticipantStatus:
    user: str
    logged_in: bool = False
    last_activity: str | None = None
    server: str = "-"
    """"running", "starting", "stopping" or "-"."""
    clusters: list[str] = field(default_factory=list)
    cpu_percent: float | None = None
    memory_mb: float | None = None


@dataclass
class WorkshopStatus:
    workshop: Workshop
    participants: list[ParticipantStatus] = field(default_factory=list)

    @property
    def logged_in(self) -> int:
        return sum(p.logged_in for p in self.participants)

    @property
    def running(self) -> int:
        return sum(p.server == "running" for p in self.participants)


def status(hub: WorkshopHub, name: str, *, resources: bool = True) -> WorkshopStatus:
    workshop, members = hub.workshop(name)
    result = WorkshopStatus(workshop)
    for user in workshop.everyone(members):
        row = ParticipantStatus(user)
        try:
            model = hub.user(user)
        except Exception:
            result.participants.append(row)
            continue
        server = model.get("servers", {}).get("")
        row.last_activity = model.get("last_activity")
        row.logged_in = bool(row.last_activity or server)
        if model.get("pending"):
            row.server = {"spawn": "starting", "stop": "stopping"}.get(model["pending"], "-")
        elif server and server.get("ready"):
            row.server = "running"
            row.clusters = hub.gateway_clusters(user)
        result.participants.append(row)
    if resources and hub.local is not None:
        _measure(hub, result.participants)
    return result


def _measure(hub: WorkshopHub, rows: list[ParticipantStatus]) -> None:
    """CPU (% of one core, over a second) and resident memory of each participant's processes:
    their server and kernels (by ``JUPYTERHUB_USER``, or owner in multi-user mode) and their
    Dask clusters' processes (by cluster name)."""
    from ..local import processes

    assert hub.local is not None
    by_cluster = {name: row.user for row in rows for name in row.clusters}
    users = {row.user for row in rows}
    owners: dict[int, str] = {}
    for pid in processes.workspace_processes(hub.local.state_dir):
        user = _user_of(pid, users, by_cluster)
        if user:
            owners[pid] = user
    before = {pid: _cpu_ticks(pid) for pid in owners}
    time.sleep(1.0)
    per_second = os.sysconf("SC_CLK_TCK")
    for row in rows:
        mine = [pid for pid, user in owners.items() if user == row.user]
        if not mine:
            continue
        used = [(_cpu_ticks(pid) or 0) - (before[pid] or 0) for pid in mine]
        row.cpu_percent = 100.0 * sum(max(0, u) for u in used) / per_second
        row.memory_mb = sum(_rss_mb(pid) for pid in mine)


def _user_of(pid: int, users: set[str], by_cluster: dict[str, str]) -> str | None:
    """The participant a process works for: by its environment, or its owner's name."""
    try:
        environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    except OSError:
        return None
    for item in environ:
        key, _, value = item.decode(errors="replace").partition("=")
        if key == "JUPYTERHUB_USER" and value in users:
            return value
        if key == "DASK_GATEWAY_CLUSTER_NAME" and value in by_cluster:
            return by_cluster[value]
    import pwd

    try:
        owner = pwd.getpwuid(Path(f"/proc/{pid}").stat().st_uid).pw_name
    except (KeyError, OSError):
        return None
    return owner if owner in users else None


def _cpu_ticks(pid: int) -> int | None:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return int(fields[11]) + int(fields[12])  # utime + stime


def _rss_mb(pid: int) -> float:
    try:
        pages = int(Path(f"/proc/{pid}/statm").read_text().split()[1])
    except (OSError, IndexError, ValueError):
        return 0.0
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20
