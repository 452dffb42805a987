"""Long-running work says it is running, so idle culling leaves the user's server alone.

A marker is a small file in the user's Jupyter runtime folder (which their server, kernels
and terminals share) naming the process doing the work; it is removed when the work ends,
and a marker whose process is gone counts for nothing. Used by ``soc_workspace.rerun``.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

FOLDER_VARIABLE = "SOC_WORKSPACE_ACTIVITY_DIR"


def markers_folder() -> Path:
    """``$SOC_WORKSPACE_ACTIVITY_DIR``, else ``<Jupyter runtime folder>/soc-workspace-work``."""
    named = os.environ.get(FOLDER_VARIABLE)
    if named:
        return Path(named)
    from jupyter_core.paths import jupyter_runtime_dir

    return Path(jupyter_runtime_dir()) / "soc-workspace-work"


@contextmanager
def working(what: str) -> Iterator[None]:
    """Mark the block as work in progress (``what`` says which, in the server's log)."""
    folder = markers_folder()
    marker = None
    with suppress(OSError):  # no runtime folder (outside a server): nothing to tell
        folder.mkdir(parents=True, exist_ok=True)
        marker = folder / f"{os.getpid()}-{uuid.uuid4().hex[:8]}.json"
        marker.write_text(json.dumps({"pid": os.getpid(), "what": what, "since": time.time()}))
    try:
        yield
    finally:
        if marker is not None:
            marker.unlink(missing_ok=True)


def running_work(folder: Path | None = None) -> list[dict[str, Any]]:
    """The markers whose process still runs; stale markers are removed."""
    folder = folder or markers_folder()
    found = []
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        try:
            marker = json.loads(path.read_text())
            os.kill(int(marker["pid"]), 0)
        except ProcessLookupError:
            path.unlink(missing_ok=True)
            continue
        except (OSError, ValueError, KeyError, TypeError):
            continue
        found.append(marker)
    return found
