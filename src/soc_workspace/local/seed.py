"""First start: demo data in the embedded store, and a catalog built over it."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from .paths import StatePaths


def seed_store(paths: StatePaths, storage_options: dict[str, Any], *, days: int) -> str:
    """Write ``days`` of demo data and build the catalog, once per state directory.

    Returns a line saying what was done. A marker file records success, so a later start
    (or a restart after a crash) neither rewrites nor duplicates anything.
    """
    marker = paths.store / "seeded.json"
    if marker.exists():
        info = json.loads(marker.read_text())
        return f"kept from the first start ({info.get('files', '?')} demo files)"
    started = time.monotonic()
    try:
        from ..catalog import build
        from ..demo import AVAILABLE, write_demo_data
    except ImportError as err:
        return f"not seeded: this version of soc_workspace lacks {err.name}"
    report = write_demo_data(storage_options, days=days, progress=True)
    for mission in AVAILABLE:
        build(mission=mission, storage_options=storage_options, progress=False)
    files = report.files
    _write_marker(marker, {"days": days, "files": files, "seconds": time.monotonic() - started})
    return f"{files} demo files ({days} day(s)) written and catalogued"


def _write_marker(path: Path, info: dict[str, Any]) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(info))
    tmp.replace(path)
