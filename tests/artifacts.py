"""A folder for files that tests write for people to review (HTML renderings of notebooks and
quicklooks): ``$SOC_TEST_ARTIFACTS/<what>``, default ``tests/artifacts/<what>`` (gitignored)."""

from __future__ import annotations

import os
from pathlib import Path

from screenshots import record_screenshots


def artifacts_dir(what: str) -> Path:
    root = Path(os.environ.get("SOC_TEST_ARTIFACTS", Path(__file__).parent / "artifacts"))
    folder = root / what
    folder.mkdir(parents=True, exist_ok=True)
    record_screenshots(f"HTML renderings ({what})", folder)
    return folder
