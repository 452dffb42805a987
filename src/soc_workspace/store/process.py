"""The embedded store in a process of its own: ``soc-workspace store serve``.

moto keeps one state per process, so tests and benchmarks that need a store beside an
in-process one, or a store with its own interpreter (and GIL), start it this way.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .credentials import Credentials, read_operator, storage_options_for
from .embedded import store_environment


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
        return storage_options_for(self.endpoint_url, self.operator)

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
    connection = Path(state_dir) / "store.json"
    connection.unlink(missing_ok=True)  # a crashed server leaves its file behind
    popen.setdefault("stdout", subprocess.DEVNULL)
    popen.setdefault("stderr", subprocess.STDOUT)
    argv = [sys.executable, "-m", "soc_workspace.cli", "store", "serve"]
    proc = subprocess.Popen([*argv, "--state-dir", str(state_dir), *args], **popen)
    deadline = time.monotonic() + timeout
    while not connection.exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            output = proc.communicate()[0] if popen["stdout"] == subprocess.PIPE else None
            raise RuntimeError(f"the embedded store did not start in {state_dir}: {output or ''}")
        time.sleep(0.05)
    operator = read_operator(state_dir)
    if operator is None:  # written before store.json, so this is not a race
        raise RuntimeError(f"the embedded store in {state_dir} wrote no operator keys")
    return StoreProcess(proc, json.loads(connection.read_text())["endpoint_url"], operator)
