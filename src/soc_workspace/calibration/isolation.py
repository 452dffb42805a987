"""Run mission code in a subprocess that cannot reach the SOC's credentials or files.

Mission calibrations have side effects in the pipeline: swxsoc writes housekeeping to AWS
Timestream and Grafana whenever boto3 finds credentials, padre_meddea searches the SOC's
buckets when ``LAMBDA_ENVIRONMENT`` is set, swxsoc and spacepy write into ``~``. A rerun hands
the calibration an environment built from an allow-list: no AWS (or other) credentials unless
the user lists them in ``calibration.pass_env``, no instance or pod role (metadata lookups
off), ``HOME``/``SWXSOC_CONFIGDIR``/``SPACEPY``/``TMPDIR`` inside the scratch directory, no
``LAMBDA_ENVIRONMENT``. Side calls then fail inside the mission code, which logs them (swxsoc
catches Timestream errors) instead of writing to the SOC's databases.
"""

from __future__ import annotations

import contextlib
import fnmatch
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

# Passed through from the caller's environment: none of these carries a secret.
PASS_THROUGH = (
    "PATH",
    "LANG",
    "LANGUAGE",
    "LC_*",
    "TZ",
    "TERM",
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "NUMEXPR_NUM_THREADS",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
)


def calibration_environment(
    scratch: Path,
    *,
    mission: str,
    python: Path,
    pass_env: Iterable[str] = (),
    cache: Path | None = None,
    offline_git: bool = True,
) -> tuple[dict[str, str], list[str]]:
    """The environment variables of a calibration subprocess, and which of them were passed.

    ``pass_env`` holds names or glob patterns of the caller's variables to hand over too
    (e.g. ``AWS_PROFILE`` to allow credentials explicitly). ``cache`` is a folder kept between
    runs for the mission stack's caches (matplotlib's font list takes ~10 s to build, astropy
    and sunpy keep downloads there); default: inside the scratch directory. ``offline_git``
    puts :func:`git_shim` first on the PATH.
    """
    allowed = [*PASS_THROUGH, *pass_env]
    env = {
        name: value
        for name, value in os.environ.items()
        if any(fnmatch.fnmatchcase(name, pattern) for pattern in allowed)
        and name != "LAMBDA_ENVIRONMENT"  # never: it switches mission code to pipeline mode
    }
    passed = sorted(env)
    home = scratch / "home"
    dirs = {
        "HOME": home,
        "XDG_CONFIG_HOME": home / ".config",
        "XDG_CACHE_HOME": cache or home / ".cache",
        "XDG_DATA_HOME": home / ".local/share",
        "SWXSOC_CONFIGDIR": home / ".config/swxsoc",
        "SPACEPY": home / ".spacepy",
        "MPLCONFIGDIR": (cache or home / ".cache") / "matplotlib",
        "TMPDIR": scratch / "tmp",
    }
    for name, folder in dirs.items():
        folder.mkdir(parents=True, exist_ok=True)
        env[name] = str(folder)
    path = [str(python.parent), env.get("PATH", os.defpath)]
    if offline_git:
        path.insert(0, str(git_shim(scratch / "bin")))
    env.update(
        PATH=os.pathsep.join(path),
        SWXSOC_MISSION=mission,  # what the pipeline's function sets per mission
        MPLBACKEND="Agg",
        PYTHONNOUSERSITE="1",
        GIT_TERMINAL_PROMPT="0",  # a git look-up without network must fail, not wait for input
        GIT_CONFIG_NOSYSTEM="1",
    )
    if not any(name.startswith("AWS_") for name in passed):
        # boto3 would otherwise read ~/.aws of the real user or ask the instance for a role.
        env.update(
            AWS_CONFIG_FILE=str(home / ".aws/config"),
            AWS_SHARED_CREDENTIALS_FILE=str(home / ".aws/credentials"),
            AWS_EC2_METADATA_DISABLED="true",
        )
    return env, passed


SIDE_CALLS_LOG = "soc-workspace-side-calls.log"  # in the calibration's TMPDIR

_GIT_SHIM = """#!/bin/sh
# soc-workspace: git for mission calibrations. padre_meddea asks GitHub for the commit of each
# library it records in FITS headers (git ls-remote) and fails the file when that is
# impossible; without network this answers "offline" for HEAD (as the SOC's own offline
# products record) and notes it, instead of failing. Everything else goes to the real git.
if [ "$1" = "ls-remote" ]; then
  if [ -n "$REAL_GIT" ] && out=$(timeout 20 "$REAL_GIT" "$@" 2>/dev/null); then
    printf '%s\\n' "$out"
    exit 0
  fi
  echo "side call failed: git $* (no network?): answered 'offline' as its commit" \\
    >> "${TMPDIR:-/tmp}/SIDE_CALLS_LOG"
  printf 'offline\\tHEAD\\n'
  exit 0
fi
[ -n "$REAL_GIT" ] || { echo "git is not installed" >&2; exit 127; }
exec "$REAL_GIT" "$@"
"""


def git_shim(folder: Path) -> Path:
    """A folder with a ``git`` that answers ``ls-remote`` offline (see ``_GIT_SHIM``)."""
    folder.mkdir(parents=True, exist_ok=True)
    shim = folder / "git"
    real = shutil.which("git") or ""
    script = _GIT_SHIM.replace("SIDE_CALLS_LOG", SIDE_CALLS_LOG)
    shim.write_text(script.replace("#!/bin/sh\n", f"#!/bin/sh\nREAL_GIT='{real}'\n", 1))
    shim.chmod(0o755)
    return folder


@dataclass(frozen=True)
class Completed:
    returncode: int
    timed_out: bool
    seconds: float
    interpreter_died: bool = False

    def describe(self) -> str:
        if self.timed_out:
            return f"timed out after {self.seconds:.0f} s and was stopped"
        if self.interpreter_died:
            return "the mission interpreter died while running this file"
        if self.returncode < 0:
            name = signal.Signals(-self.returncode).name
            return f"the calibration process was killed by {name}"
        return f"the calibration process exited with code {self.returncode}"


def run_isolated(
    command: Sequence[str], *, cwd: Path, env: dict[str, str], timeout: float, log_path: Path
) -> Completed:
    """Run ``command`` in its own session with output appended to ``log_path``.

    On timeout the whole process group is killed; so is anything the calibration left running
    (a hung ``git`` call, say) when it ends.
    """
    started = time.monotonic()
    with open(log_path, "ab") as log:
        process = subprocess.Popen(
            list(command),
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        timed_out = False
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
        finally:
            kill_group(process.pid)
            process.wait()
    return Completed(process.returncode, timed_out, time.monotonic() - started)


def kill_group(pgid: int) -> None:
    """SIGKILL a process group, if it is still there."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)
