"""Users' work below the workspace's own processes in CPU priority (one machine).

When many servers start at once (a workshop's first minute), the hub, the proxy, the gateway
and the store must keep answering. Nice values alone do not do it on Linux: each session gets
its own scheduling group (autogroup), and every server, kernel and Dask process starts a
session, so each of them would weigh as much as the hub. So both are lowered: the process's
nice value and its session's autogroup nice value (``/proc/<pid>/autogroup``). The hub's few
processes then get the CPU whenever they need it, and users' work all the rest.

Used by the spawners (servers), the gateway's backends (schedulers, workers) and, inside each
server, :class:`LowPriorityProvisioner` (kernels).
"""

from __future__ import annotations

import asyncio
import errno
import os
from pathlib import Path
from typing import Any

from jupyter_client.provisioning import LocalProvisioner

NICE_VARIABLE = "SOC_WORKSPACE_USER_NICE"
"""Set in users' servers: the nice value of their kernels."""

PROC = Path("/proc")

PROVISIONER = "soc-workspace-low-priority"
"""Entry-point name of :class:`LowPriorityProvisioner` (jupyter_client.kernel_provisioners)."""


class TryAgain(Exception):
    """The kernel limits how often others than root may change autogroups (10 per second)."""


def lower(pid: int, nice: int) -> bool:
    """Give process ``pid`` and its session's autogroup the nice value ``nice``.

    Returns False when the process is gone or not ours. The autogroup is left alone when it
    is this process's own (the target did not start a session of its own). Raises
    :class:`TryAgain` when the kernel asks to retry later.
    """
    if nice <= 0:
        return True
    try:
        os.setpriority(os.PRIO_PROCESS, pid, nice)
    except (ProcessLookupError, PermissionError):
        return False
    try:
        theirs = _autogroup(pid)
        # None: the target runs in the root group (no session autogroup to lower)
        if theirs is None or theirs == _autogroup(os.getpid()):
            return True
        (PROC / str(pid) / "autogroup").write_text(str(nice))
    except FileNotFoundError:
        return True  # a kernel without autogroups: the nice value is what counts
    except OSError as err:
        if err.errno == errno.EAGAIN:
            raise TryAgain from None
        return False
    return True


async def lower_soon(pid: int, nice: int, *, attempts: int = 100) -> bool:
    """:func:`lower`, retried every 0.1 s while the kernel asks to try again."""
    for _ in range(attempts):
        try:
            return lower(pid, nice)
        except TryAgain:
            await asyncio.sleep(0.1)
    return False


def nice_of(pid: int) -> tuple[int, int | None]:
    """The nice value of ``pid`` and of its autogroup (None without autogroups)."""
    nice = os.getpriority(os.PRIO_PROCESS, pid)
    try:
        fields = (PROC / str(pid) / "autogroup").read_text().split()
    except FileNotFoundError:
        return nice, None
    return nice, int(fields[-1]) if fields else None


def _autogroup(pid: int) -> str | None:
    """The name of ``pid``'s autogroup, None when it is in the root group.

    The kernel prints nothing for processes of the root group: those of a session older than
    autogroups, or of a container whose first process never started a session.
    """
    fields = (PROC / str(pid) / "autogroup").read_text().split()
    return fields[0] if fields else None


class LowPriorityProvisioner(LocalProvisioner):  # type: ignore[misc]
    """Kernels as jupyter_client starts them, then at the nice value of
    ``$SOC_WORKSPACE_USER_NICE`` (users' servers on one machine choose it with
    ``KernelProvisionerFactory.default_provisioner_name``)."""

    async def launch_kernel(self, cmd: list[str], **kwargs: Any) -> Any:
        connection_info = await super().launch_kernel(cmd, **kwargs)
        nice = int(os.environ.get(NICE_VARIABLE, "0") or 0)
        if nice > 0 and self.pid:
            await lower_soon(self.pid, nice)
        return connection_info
