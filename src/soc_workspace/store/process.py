"""The embedded store in a process of its own (``soc-workspace store serve``), from outside.

The one place that starts a store process and waits for it, and that reads what a running one
leaves in its state directory: ``store.json`` (endpoint and process id, written once it
answers) and the operator's keys. ``soc-workspace up`` starts its store with these; tests and
benchmarks that need a store beside an in-process one (moto keeps one state per process) use
:func:`serve_in_subprocess`. Nothing here imports the server (moto).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .access import s3fs_options
from .credentials import Credentials, read_operator, store_environment

CONNECTION_FILE = "store.json"


class StoreStartError(RuntimeError):
    """The store process stopped, or did not answer in time, while starting."""


def serve_argv(
    state_dir: str | os.PathLike[str], host: str | None = None, port: int | None = None
) -> list[str]:
    """The command that serves the embedded store kept in ``state_dir``."""
    argv = [sys.executable, "-m", "soc_workspace", "store", "serve", "--state-dir", str(state_dir)]
    if host is not None:
        argv += ["--host", host]
    if port is not None:
        argv += ["--port", str(port)]
    return argv


def forget_connection(state_dir: str | os.PathLike[str]) -> None:
    """Remove a connection file before starting (a crashed server leaves its file behind)."""
    (Path(state_dir) / CONNECTION_FILE).unlink(missing_ok=True)


def read_connection(state_dir: str | os.PathLike[str]) -> dict[str, Any] | None:
    """``{"endpoint_url": ..., "pid": ...}`` of the store serving ``state_dir``, or None."""
    try:
        info = json.loads((Path(state_dir) / CONNECTION_FILE).read_text())
        return {"endpoint_url": str(info["endpoint_url"]), "pid": int(info["pid"])}
    except (OSError, ValueError, KeyError, TypeError):
        return None


def running_endpoint(state_dir: str | os.PathLike[str]) -> str | None:
    """The endpoint of the store serving ``state_dir`` if its process runs, else None."""
    info = read_connection(state_dir)
    if info is None:
        return None
    try:
        os.kill(info["pid"], 0)
    except OSError:
        return None
    return info["endpoint_url"]


def wait_until_serving(
    state_dir: str | os.PathLike[str], pid: int, running: Callable[[], bool], timeout: float
) -> str:
    """The endpoint of the store process ``pid`` once it answers (its connection file).

    Raises :class:`StoreStartError` when ``running()`` turns false or ``timeout`` passes.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        info = read_connection(state_dir)
        if info is not None and info["pid"] == pid:
            return info["endpoint_url"]
        if not running():
            raise StoreStartError(f"the embedded store in {state_dir} stopped while starting")
        time.sleep(0.05)
    raise StoreStartError(f"the embedded store in {state_dir} did not start within {timeout:g} s")


def operator_options(
    state_dir: str | os.PathLike[str], endpoint_url: str | None = None
) -> dict[str, Any]:
    """s3fs options that reach the embedded store kept in ``state_dir`` as its operator (who
    seeds it, builds its catalogs and makes users' keys). ``endpoint_url`` defaults to the
    endpoint of the process serving it."""
    operator = read_operator(state_dir)
    endpoint = endpoint_url or (read_connection(state_dir) or {}).get("endpoint_url")
    if operator is None or endpoint is None:
        raise StoreStartError(
            f"the embedded store in {state_dir} has not started (no operator keys or "
            "connection file there): start it with `soc-workspace store serve` or "
            "`soc-workspace up`"
        )
    return s3fs_options(endpoint, credentials=operator)


@dataclass
class StoreProcess:
    """A running ``store serve`` process, the endpoint it answers on and its operator keys."""

    process: subprocess.Popen
    endpoint_url: str
    operator: Credentials

    def environment(self) -> dict[str, str]:
        """Variables that point boto3, s3fs and soc_workspace at this store, as its operator."""
        return store_environment(self.endpoint_url, self.operator)

    def storage_options(self) -> dict[str, Any]:
        """s3fs keyword arguments that reach this store as its operator."""
        return s3fs_options(self.endpoint_url, credentials=self.operator)

    def stop(self, timeout: float = 30) -> None:
        self.process.terminate()
        self.process.wait(timeout=timeout)


def serve_in_subprocess(
    state_dir: str | os.PathLike[str], *args: str, timeout: float = 60, **popen: Any
) -> StoreProcess:
    """Start ``soc-workspace store serve --state-dir state_dir *args``; return once it answers.

    ``popen`` goes to :class:`subprocess.Popen` (output is discarded unless you say otherwise).
    Raises ``RuntimeError`` with the process's output when it stops or does not start in time.
    """
    forget_connection(state_dir)
    popen.setdefault("stdout", subprocess.DEVNULL)
    popen.setdefault("stderr", subprocess.STDOUT)
    proc = subprocess.Popen([*serve_argv(state_dir), *args], **popen)
    try:
        endpoint = wait_until_serving(
            state_dir, proc.pid, lambda: proc.poll() is None, timeout=timeout
        )
    except StoreStartError as err:
        proc.kill()
        output = proc.communicate()[0] if popen["stdout"] == subprocess.PIPE else None
        raise StoreStartError(f"{err}: {output or ''}") from None
    operator = read_operator(state_dir)
    if operator is None:  # written before store.json, so this is not a race
        raise StoreStartError(f"the embedded store in {state_dir} wrote no operator keys")
    return StoreProcess(proc, endpoint, operator)
