"""Which files this process opened through soc_workspace's readers.

The readers (:mod:`soc_workspace.io`) call :func:`note` for every file they open. A kernel
keeps the list (:func:`opened`); when ``SOC_WORKSPACE_REPRO_LOG`` names a file (``repro``
sets it for the kernels it runs), each new one is also appended to it as a JSON line, which
is how :func:`soc_workspace.repro.record` learns a notebook's inputs. Standard library only:
the readers import this on every open.
"""

from __future__ import annotations

import json
import os
import threading

LOG_VARIABLE = "SOC_WORKSPACE_REPRO_LOG"

_opened: dict[str, None] = {}
_lock = threading.Lock()


def note(url: str) -> None:
    """Remember that ``url`` (an ``s3://`` URL or a local path) was opened."""
    with _lock:
        if url in _opened:
            return
        _opened[url] = None
        log = os.environ.get(LOG_VARIABLE)
        if log:
            with open(log, "a") as stream:
                stream.write(json.dumps({"url": url}) + "\n")


def opened() -> list[str]:
    """The files opened so far in this process, in the order they were first opened."""
    with _lock:
        return list(_opened)


def read_log(path: str | os.PathLike[str]) -> list[str]:
    """The URLs a kernel wrote to its log file, each once, in order."""
    try:
        with open(path) as stream:
            lines = [json.loads(line)["url"] for line in stream if line.strip()]
    except FileNotFoundError:
        return []
    return list(dict.fromkeys(lines))
