"""Background processes of a workspace: start detached, find again, stop.

Every process a workspace starts carries ``SOC_WORKSPACE_STATE_DIR=<state dir>`` in its
environment (the hub passes it on to the proxy, the gateway, users' servers and Dask
clusters), so ``down`` and ``up`` find all of them again, even after the hub crashed and left
orphans behind.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

MARKER = "SOC_WORKSPACE_STATE_DIR"


def start_detached(
    argv: Sequence[str],
    *,
    env: Mapping[str, str],
    log: Path,
    pid_file: Path,
    cwd: Path | None = None,
) -> int:
    """Start ``argv`` in its own session, output appended to ``log``; write its pid."""
    log.parent.mkdir(parents=True, exist_ok=True)
    pid_file.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "ab") as out:
        process = subprocess.Popen(
            list(argv),
            env=dict(env),
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # survives the terminal of `up`; no signals from it
            close_fds=True,
        )
    # `up` returns while the process runs on; keep Popen from warning that it still runs.
    process.returncode = 0
    pid_file.write_text(f"{process.pid}\n")
    return process.pid


def read_pid(pid_file: Path) -> int | None:
    try:
        return int(pid_file.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def belongs_to(pid: int, state_dir: Path) -> bool:
    """True when process ``pid`` runs and was started for the workspace in ``state_dir``."""
    try:
        environ = Path(f"/proc/{pid}/environ").read_bytes()
    except OSError:
        return False
    return f"{MARKER}={state_dir}".encode() in environ.split(b"\0")


def is_users_work(pid: int) -> bool:
    """True for a user's server or kernel (``JUPYTERHUB_USER``) or a Dask cluster's process.

    ``up`` keeps these running while it restarts a crashed hub or store.
    """
    try:
        environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    except OSError:
        return False
    names = {v.split(b"=", 1)[0] for v in environ}
    if b"DASK_GATEWAY_CLUSTER_NAME" in names:
        return True
    # The hub's services (the gateway and its front) carry JUPYTERHUB_USER too.
    return b"JUPYTERHUB_USER" in names and b"JUPYTERHUB_SERVICE_NAME" not in names


def running_pid(pid_file: Path, state_dir: Path) -> int | None:
    """The pid in ``pid_file`` if that process still runs for this workspace."""
    pid = read_pid(pid_file)
    if pid is not None and belongs_to(pid, state_dir) and not _is_zombie(pid):
        return pid
    return None


def workspace_processes(state_dir: Path) -> list[int]:
    """Every running process started for the workspace in ``state_dir``."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid():
            pid = int(entry.name)
            if belongs_to(pid, state_dir) and not _is_zombie(pid):
                pids.append(pid)
    return sorted(pids)


def describe(pid: int) -> str:
    """A short command line for messages."""
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return f"pid {pid}"
    words = [
        Path(a.decode(errors="replace")).name if i == 0 else a.decode(errors="replace")
        for i, a in enumerate(argv[:4])
        if a
    ]
    return f"pid {pid} ({' '.join(words)})"


def terminate(pids: Iterable[int], *, timeout: float = 30.0) -> list[int]:
    """SIGTERM, wait up to ``timeout`` s, then SIGKILL. Returns the pids that needed SIGKILL."""
    pids = [p for p in pids if _signal(p, signal.SIGTERM)]
    deadline = time.monotonic() + timeout
    while pids and time.monotonic() < deadline:
        pids = [p for p in pids if _alive(p)]
        if pids:
            time.sleep(0.1)
    for pid in pids:
        _signal(pid, signal.SIGKILL)
    return pids


def is_running(pid: int) -> bool:
    """True while ``pid`` runs (a zombie child of ours counts as stopped, and is reaped)."""
    return _alive(pid)


def wait_gone(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _alive(pid):
            return True
        time.sleep(0.1)
    return not _alive(pid)


def _signal(pid: int, sig: int) -> bool:
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        return False
    return True


def _alive(pid: int) -> bool:
    # Our own children become zombies until reaped: reap them, and count zombies as gone.
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(pid, os.WNOHANG)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return not _is_zombie(pid)


def _is_zombie(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rsplit(")", 1)[-1].split()[0] == "Z"
