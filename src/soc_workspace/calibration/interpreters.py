"""Warm mission interpreters: import a mission stack once per worker, fork once per file.

Mission stacks take seconds to import (spacepy, sunpy, astropy, swxsoc); paying that for every
file of a month of data would dominate a rerun. A warm interpreter is the mission's Python
running ``_child.py serve``: the calibration package is imported once, then every file runs in
a process forked from it, so each file still starts from the same clean state and can be
killed alone. The interpreter has the same scrubbed environment as a one-off subprocess.

Interpreters are kept per process (one Dask worker keeps its own) and closed at exit; one whose
environment was rebuilt is not reused.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import select
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Hashable
from pathlib import Path
from typing import Any

from .isolation import Completed, calibration_environment, kill_group

CHILD = Path(__file__).with_name("_child.py")


def mission_cache(python: Path) -> Path:
    """A cache folder per mission interpreter, kept between runs (never the user's HOME)."""
    import hashlib

    digest = hashlib.sha256(str(python).encode()).hexdigest()[:12]
    root = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return root / "soc-workspace" / "mission-cache" / digest


class InterpreterError(RuntimeError):
    """A warm interpreter could not start or died; the message holds its start-up log."""


class WarmInterpreter:
    """One mission interpreter with ``{package}.calibration`` imported, serving files."""

    def __init__(
        self,
        python: Path,
        package: str,
        *,
        mission: str,
        pass_env: tuple[str, ...] = (),
        offline_git: bool = True,
        work_dir: str | None = None,
        start_timeout: float = 600.0,
    ) -> None:
        self._scratch = tempfile.TemporaryDirectory(prefix="soc-rerun-interpreter-", dir=work_dir)
        scratch = Path(self._scratch.name)
        env, self.passed = calibration_environment(
            scratch,
            mission=mission,
            python=python,
            pass_env=pass_env,
            cache=mission_cache(python),
            offline_git=offline_git,
        )
        self.variables = sorted(env)
        self.startup_log = scratch / "startup.log"
        self.command = [str(python), "-I", "-u", str(CHILD), "serve", package]
        with open(self.startup_log, "wb") as log:
            self.process = subprocess.Popen(
                self.command,
                cwd=scratch,
                env=env,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=log,
                start_new_session=True,
            )
        self._pending = b""
        ready = self._receive(time.monotonic() + start_timeout)
        if not ready or not ready.get("ready"):
            self.close()
            raise InterpreterError(
                f"the mission interpreter {python} did not start for {package}:\n"
                + self.startup_text()[-4000:]
            )
        self.python_version = ready.get("python_version")

    def startup_text(self) -> str:
        return self.startup_log.read_text(errors="replace") if self.startup_log.exists() else ""

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def run(
        self, *, input_path: Path, result: Path, log: Path, cwd: Path, tmp: Path, timeout: float
    ) -> Completed:
        """Calibrate one file in a process forked from this interpreter."""
        started = time.monotonic()
        request = {
            "input": str(input_path),
            "result": str(result),
            "log": str(log),
            "cwd": str(cwd),
            "tmp": str(tmp),
        }
        try:
            assert self.process.stdin is not None
            self.process.stdin.write((json.dumps(request) + "\n").encode())
            self.process.stdin.flush()
        except (BrokenPipeError, OSError):
            return Completed(-signal.SIGKILL, False, 0.0, interpreter_died=True)
        forked = self._receive(time.monotonic() + 60)
        if forked is None:
            return Completed(-signal.SIGKILL, False, time.monotonic() - started, True)
        pid = forked["pid"]
        done = self._receive(started + timeout)
        timed_out = done is None and self.alive
        if timed_out:
            kill_group(pid)
            done = self._receive(time.monotonic() + 30)
        if done is None:
            return Completed(-signal.SIGKILL, timed_out, time.monotonic() - started, True)
        return Completed(int(done["status"]), timed_out, time.monotonic() - started)

    def _receive(self, deadline: float) -> dict[str, Any] | None:
        """The next message, or None at the deadline or when the interpreter is gone."""
        assert self.process.stdout is not None
        fd = self.process.stdout.fileno()
        while b"\n" not in self._pending:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            ready, _, _ = select.select([fd], [], [], min(remaining, 1.0))
            if ready:
                chunk = os.read(fd, 65536)
                if not chunk:
                    return None
                self._pending += chunk
        line, self._pending = self._pending.split(b"\n", 1)
        return json.loads(line)

    def close(self) -> None:
        if self.process.stdin:
            with contextlib.suppress(OSError):
                self.process.stdin.close()  # it exits on end of input
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            kill_group(self.process.pid)
            self.process.wait()
        if self.process.stdout:
            self.process.stdout.close()
        self._scratch.cleanup()


# -- the pool of this process ----------------------------------------------------------------

_lock = threading.Lock()
_idle: dict[Hashable, list[WarmInterpreter]] = {}


def acquire(key: Hashable, start: Any) -> WarmInterpreter:
    """An idle interpreter for ``key``, or a new one from ``start()``."""
    with _lock:
        idle = _idle.get(key, [])
        while idle:
            interpreter = idle.pop()
            if interpreter.alive:
                return interpreter
            interpreter.close()
    return start()


def release(key: Hashable, interpreter: WarmInterpreter) -> None:
    """Give an interpreter back for the next file (closed if it died)."""
    if not interpreter.alive:
        interpreter.close()
        return
    with _lock:
        _idle.setdefault(key, []).append(interpreter)


def close_all() -> None:
    """Stop every idle interpreter of this process (also done at exit)."""
    with _lock:
        pools = list(_idle.values())
        _idle.clear()
    for pool in pools:
        for interpreter in pool:
            interpreter.close()


atexit.register(close_all)
