"""Folders of screenshots that browser tests wrote for review, named at the end of the run."""

from __future__ import annotations

from pathlib import Path

FOLDERS: list[tuple[str, Path]] = []


def record_screenshots(what: str, folder: Path) -> None:
    FOLDERS.append((what, folder))


def summary() -> list[str]:
    return [
        f"{what}: {folder} ({len(list(folder.glob('*.png')))} PNG files)"
        for what, folder in FOLDERS
    ]
