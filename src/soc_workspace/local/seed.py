"""First start: demo data and its catalog in the embedded store, once per state directory."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from ..demo import write_demo_data
from .paths import StatePaths


def seed_store(paths: StatePaths, storage_options: dict[str, Any], *, days: int) -> str:
    """Write ``days`` of demo data with their catalog, once per state directory.

    Returns a line saying what was done. A marker file records success, so a later start
    (or a restart after a crash) neither rewrites nor duplicates anything.
    """
    marker = paths.store / "seeded.json"
    if marker.exists():
        info = json.loads(marker.read_text())
        return f"kept from the first start ({info.get('files', '?')} demo files)"
    started = time.monotonic()
    report = write_demo_data(storage_options, days=days, progress=True)
    files = report.files
    _write_marker(marker, {"days": days, "files": files, "seconds": time.monotonic() - started})
    return f"{files} demo files ({days} day(s)) written and catalogued"


def _write_marker(path: Path, info: dict[str, Any]) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(info))
    tmp.replace(path)
