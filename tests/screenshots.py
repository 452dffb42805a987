"""Folders of screenshots and HTML renderings that tests wrote for review, named at the end of
the run."""

from __future__ import annotations

from pathlib import Path

FOLDERS: list[tuple[str, Path]] = []


def record_screenshots(what: str, folder: Path) -> None:
    if (what, folder) not in FOLDERS:
        FOLDERS.append((what, folder))


def summary() -> list[str]:
    return [
        f"{what}: {folder} ({len([*folder.glob('*.png'), *folder.glob('*.html')])} files)"
        for what, folder in FOLDERS
    ]
