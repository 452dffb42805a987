"""Run one file's calibration in its mission interpreter: forked from a warm one, or fresh.

Either way the calibration is a process of the mission's Python with the scrubbed environment
of :mod:`.isolation`, its working directory the folder that holds the input (outputs go next
to it, as in the pipeline), a timeout, and its output in the file's log.
"""

from __future__ import annotations

import fnmatch
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..config import Settings
from . import interpreters
from .environments import MissionEnvironment
from .interpreters import CHILD, WarmInterpreter, mission_cache
from .isolation import SIDE_CALLS_LOG, Completed, calibration_environment, run_isolated


@dataclass
class Execution:
    """What running the calibration of one file gave."""

    completed: Completed
    outcome: dict[str, Any]  # the child's report (empty if it died before writing one)
    command: list[str]
    variables: list[str]  # names of the environment variables the calibration had
    passed: list[str]  # which of them came from the caller's environment
    mode: str  # "forked from a warm interpreter" or "fresh interpreter"
    side_calls: list[str] = field(default_factory=list)


def run_calibration(
    env: MissionEnvironment,
    package: str,
    mission: str,
    local: Path,
    scratch: Path,
    log_path: Path,
    *,
    settings: Settings,
    timeout: float,
    pass_env: Sequence[str] = (),
) -> Execution:
    """Calibrate ``local`` (in ``scratch/work``) with ``package`` in ``env``."""
    options = settings.calibration
    passes = (*options.pass_env, *pass_env)
    result_path = scratch / "result.json"
    tmp = scratch / "tmp"
    tmp.mkdir(exist_ok=True)
    if options.reuse_interpreters and hasattr(os, "fork"):
        work_dir = options.work_dir or None
        passed_values = tuple(sorted((k, v) for k, v in os.environ.items() if _matches(k, passes)))
        key = (
            str(env.python),
            env.created,
            package,
            mission,
            passes,
            passed_values,
            work_dir,
            options.offline_git,
        )

        def start() -> WarmInterpreter:
            return WarmInterpreter(
                env.python,
                package,
                mission=mission,
                pass_env=passes,
                work_dir=work_dir,
                offline_git=options.offline_git,
                start_timeout=timeout,
            )

        interpreter = interpreters.acquire(key, start)
        try:
            with open(log_path, "a") as log:
                log.write(
                    f"# command: {' '.join(interpreter.command)} (pid "
                    f"{interpreter.process.pid}), forked for this file\n"
                    f"# mission interpreter start-up log:\n{interpreter.startup_text()}"
                    "# this file:\n"
                )
            completed = interpreter.run(
                input_path=local,
                result=result_path,
                log=log_path,
                cwd=local.parent,
                tmp=tmp,
                timeout=timeout,
            )
        finally:
            interpreters.release(key, interpreter)
        command, variables, passed = interpreter.command, interpreter.variables, interpreter.passed
        mode = "forked from a warm interpreter"
    else:
        command = [
            str(env.python),
            "-I",
            "-u",
            str(CHILD),
            "run",
            package,
            str(local),
            str(result_path),
        ]
        child_env, passed = calibration_environment(
            scratch,
            mission=mission,
            python=env.python,
            pass_env=passes,
            cache=mission_cache(env.python),
            offline_git=options.offline_git,
        )
        variables = sorted(child_env)
        with open(log_path, "a") as log:
            log.write(f"# command: {' '.join(command)}\n")
        completed = run_isolated(
            command, cwd=local.parent, env=child_env, timeout=timeout, log_path=log_path
        )
        mode = "fresh interpreter"
    outcome = json.loads(result_path.read_text()) if result_path.is_file() else {}
    side_calls = _side_calls(tmp, log_path)
    return Execution(completed, outcome, command, variables, passed, mode, side_calls)


def _side_calls(tmp: Path, log_path: Path) -> list[str]:
    """Side calls that failed and were answered for the calibration (the git shim notes them)."""
    notes = tmp / SIDE_CALLS_LOG
    if not notes.is_file():
        return []
    lines = [line for line in notes.read_text().splitlines() if line.strip()]
    with open(log_path, "a") as log:
        log.writelines(f"# soc-workspace: {line}\n" for line in lines)
    return lines


def _matches(name: str, patterns: Sequence[str]) -> bool:
    return any(fnmatch.fnmatchcase(name, p) for p in patterns)
