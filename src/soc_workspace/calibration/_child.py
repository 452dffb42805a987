"""Run mission calibrations the way the pipeline calls them; report each as JSON.

This file is executed by the MISSION's interpreter, where soc_workspace is not installed: it
uses the standard library only and must run on every Python a mission stack may pin (3.9+).

    python -I -u _child.py run PACKAGE INPUT RESULT    one file in this process
    python -I -u _child.py serve PACKAGE               import once, then fork per file

``serve`` imports ``{PACKAGE}.calibration`` once (mission stacks take seconds to import), then
reads one JSON request per line on stdin, forks a fresh process for each file (so no state
leaks from one file to the next), answers ``{"pid": ...}`` at once and ``{"pid": ...,
"status": ...}`` when the file is done. It exits, killing a running file, when stdin closes
(its Dask worker died).

The pipeline's contract: ``{package}.calibration.calibration.process_file(path) ->
list[Path | None]``; ``[None]`` means nothing
to produce, ``[]`` failure, ``ValueError``/``FileNotFoundError`` mark the file failed and
anything else would stop the pipeline. Output paths may be relative to the working directory
(padre_meddea writes there when LAMBDA_ENVIRONMENT is unset).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import platform
import select
import signal
import sys
import tempfile
import time
import traceback
import warnings
from pathlib import Path

FAILED_BY_CONTRACT = (ValueError, FileNotFoundError)


def _die_with_parent() -> None:
    # A calibration must not outlive the worker that asked for it.
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    if os.getppid() == 1:  # the parent died before prctl took effect
        os._exit(137)


class _Collect(logging.Handler):
    """Keeps the first warnings and errors, to show them beside the status."""

    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if len(self.messages) < 20:
            first = (record.getMessage().strip().splitlines() or [""])[0]
            self.messages.append(f"{record.levelname} {record.name}: {first}"[:500])


class _PrintedElsewhere(logging.Filter):
    """Drops what a mission logger has printed already through a console handler of its own.

    swxsoc's logger (an astropy logger) prints through its own handler and still propagates
    to the root logger: without this every mission line would be in the file's log twice.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        logger = logging.getLogger(record.name)
        while logger is not None and logger is not logging.root:
            for handler in logger.handlers:
                if (
                    isinstance(handler, logging.StreamHandler)
                    and not isinstance(handler, logging.FileHandler)
                    and record.levelno >= handler.level
                ):
                    return False
            if not logger.propagate:
                break
            logger = logger.parent
        return True


def _setup_logging() -> _Collect:
    collect = _Collect()
    logging.basicConfig(
        level=logging.INFO,
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    for handler in logging.getLogger().handlers:
        handler.addFilter(_PrintedElsewhere())
    logging.getLogger().addHandler(collect)
    logging.captureWarnings(True)
    warnings.simplefilter("default")
    return collect


def _watch_mission_loggers() -> None:
    # Mission loggers (swxsoc's, astropy's) do not propagate to the root logger: collect their
    # warnings too, so a failed Timestream or Grafana call shows beside the status.
    collect = next(h for h in logging.getLogger().handlers if isinstance(h, _Collect))
    for logger in list(logging.Logger.manager.loggerDict.values()):
        if isinstance(logger, logging.Logger) and not logger.propagate:
            logger.addHandler(collect)


def _import(package: str) -> tuple[object | None, str | None, str | None]:
    # Exactly as the SWxSOC processing function (sdc_aws_processing_lambda) finds it:
    # __import__("{pkg}.calibration", fromlist=["calibration"]).calibration.process_file,
    # i.e. the module {pkg}/calibration/calibration.py.
    try:
        package_module = __import__(f"{package}.calibration", fromlist=["calibration"])
        _watch_mission_loggers()
        return package_module.calibration.process_file, None, None
    except Exception as err:
        return None, f"cannot import {package}.calibration: {_short(err)}", traceback.format_exc()


def calibrate(
    process_file,
    package: str,
    input_path: str,
    import_error=None,
    trace=None,
    packages=None,
    package_version=None,
) -> dict:
    """Call ``process_file`` on one input and describe the outcome by the pipeline's contract."""
    log = logging.getLogger("soc_workspace.rerun")
    result: dict = {
        "package": package,
        "input": input_path,
        "python": sys.executable,
        "python_version": platform.python_version(),
        "started": time.time(),
    }
    if process_file is None:
        result.update(status="failed", error=import_error, traceback=trace)
    else:
        log.info("calling %s.calibration.calibration.process_file(%s)", package, input_path)
        try:
            outputs = _outputs(process_file(Path(input_path)))
        except FAILED_BY_CONTRACT as err:
            result.update(status="failed", error=_short(err), traceback=traceback.format_exc())
        except SystemExit as err:  # hermes_eea exits with 2 when it cannot write its CDF
            result.update(status="failed", error=f"the calibration called sys.exit({err.code})")
            result["traceback"] = traceback.format_exc()
        except BaseException as err:
            result.update(status="failed", error=f"unexpected {_short(err)}", unexpected=True)
            result["traceback"] = traceback.format_exc()
        else:
            products = [p for p in outputs if p is not None]
            if not outputs:
                result.update(status="failed", error="process_file returned [] (failure)")
            elif not products:
                result.update(status="no product")
            else:
                result.update(status="ok")
            result["outputs"] = outputs
    result["finished"] = time.time()
    try:
        result["packages"] = packages if packages is not None else _distributions()
        result["package_version"] = package_version or _version_of(package, result["packages"])
    except Exception as err:
        result["packages"] = {"error": _short(err)}
    return result


def _distributions() -> dict[str, str]:
    from importlib import metadata

    found = {}
    for dist in metadata.distributions():
        name = (dist.metadata.get("Name") or "").lower()
        if not name:
            continue
        version = dist.version
        direct = dist.read_text("direct_url.json")
        if direct:  # a git or path install: record where from, with the commit
            try:
                info = json.loads(direct)
                vcs = info.get("vcs_info") or {}
                where = info.get("url", "")
                if vcs.get("commit_id"):
                    where = f"{vcs.get('vcs', 'git')}+{where}@{vcs['commit_id']}"
                version = f"{version} ({where})"
            except ValueError:
                pass
        found[name] = version
    return dict(sorted(found.items()))


def _version_of(package: str, packages: dict) -> str | None:
    from importlib import metadata

    owners = getattr(metadata, "packages_distributions", dict)().get(package, [])
    for name in [*owners, package, package.replace("_", "-")]:
        if name.lower() in packages:
            return packages[name.lower()]
    return None


def _outputs(returned: object) -> list:
    if not isinstance(returned, (list, tuple)):
        raise TypeError(
            f"process_file returned {type(returned).__name__}, the contract is list[Path | None]"
        )
    return [None if p is None else str(Path(os.fspath(p)).resolve()) for p in returned]


def _short(err: BaseException) -> str:
    text = " ".join(str(err).split())
    return f"{type(err).__name__}: {text[:500]}".rstrip(": ")


def _write(path: str, result: dict) -> None:
    Path(path).write_text(json.dumps(result, default=str))


# -- one file in this process ----------------------------------------------------------------


def run(package: str, input_path: str, result_path: str) -> int:
    _die_with_parent()
    collect = _setup_logging()
    process_file, error, trace = _import(package)
    result = calibrate(process_file, package, input_path, error, trace)
    result["warnings"] = collect.messages
    _write(result_path, result)
    logging.shutdown()
    return 0


# -- a warm interpreter that forks per file --------------------------------------------------


_protocol = None  # the real stdout; fd 1 goes to the log so mission prints cannot garble it


def serve(package: str) -> int:
    global _protocol
    _protocol = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)
    collect = _setup_logging()
    process_file, error, trace = _import(package)
    # The environment does not change while this runs: list it once, not for every file
    # (packages_distributions() alone reads every distribution's files: ~0.1 s).
    packages = _distributions()
    version = _version_of(package, packages)
    answer = {"ready": True, "import_error": error, "python_version": platform.python_version()}
    _send(answer)
    stdin = sys.stdin.fileno()
    pending = b""
    while True:
        while b"\n" not in pending:
            chunk = os.read(stdin, 65536)
            if not chunk:
                return 0  # the worker went away
            pending += chunk
        line, pending = pending.split(b"\n", 1)
        request = json.loads(line)
        collect.messages.clear()
        pid = os.fork()
        if pid == 0:
            _forked(request, process_file, package, error, trace, collect, packages, version)
        _send({"pid": pid})
        status = _wait(pid, stdin)
        if status is None:
            return 0
        _send({"pid": pid, "status": status})


def _forked(request, process_file, package, error, trace, collect, packages, version) -> None:
    code = 0
    try:
        os.setsid()  # its own process group: a timeout kills it and anything it started
        os.close(_protocol.fileno())
        fd = os.open(request["log"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        os.dup2(fd, 1)
        os.dup2(fd, 2)
        os.chdir(request["cwd"])
        os.environ["TMPDIR"] = request["tmp"]
        tempfile.tempdir = None
        result = calibrate(process_file, package, request["input"], error, trace, packages, version)
        result["warnings"] = list(collect.messages)
        _write(request["result"], result)
        logging.shutdown()
    except BaseException:
        traceback.print_exc()
        code = 70
    finally:
        os._exit(code)


def _wait(pid: int, stdin: int) -> int | None:
    """Wait for the file's process; return its wait status, None if stdin closed meanwhile.

    Sleeps until the process ends or stdin closes (a pidfd, on Linux 5.3+); elsewhere it
    looks every 5 ms. Either way it takes no CPU from the calibrations running beside it.
    """
    watch = [stdin]
    pidfd = None
    with contextlib.suppress(AttributeError, OSError):
        pidfd = os.pidfd_open(pid)
        watch.append(pidfd)
    try:
        while True:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                return (
                    os.waitstatus_to_exitcode(status)
                    if hasattr(os, "waitstatus_to_exitcode")
                    else status
                )
            ready, _, _ = select.select(watch, [], [], None if pidfd is not None else 0.005)
            if stdin in ready and not os.read(stdin, 1):  # EOF: nobody waits for it any more
                with contextlib.suppress(OSError):
                    os.killpg(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                return None
    finally:
        if pidfd is not None:
            os.close(pidfd)


def _send(message: dict) -> None:
    _protocol.write(json.dumps(message) + "\n")
    _protocol.flush()


if __name__ == "__main__":
    if sys.argv[1:2] == ["serve"]:
        sys.exit(serve(sys.argv[2]))
    sys.exit(run(*sys.argv[2:5]))
