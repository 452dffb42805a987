"""Share a recorded notebook with a team: a copy, record included, in the team's folder."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from .recorder import ReproError, read_record


def teams_folder() -> Path:
    """Where the workspace links the folders of the user's teams: ``~/teams``."""
    return Path.home() / "teams"


def share(notebook: str | os.PathLike[str], team: str, *, replace: bool = False) -> Path:
    """Copy ``notebook`` (which must have a record) to ``~/teams/<team>/``; return the copy."""
    source = Path(notebook).expanduser()
    read_record(source)  # only notebooks that can be re-checked are shared
    folder = teams_folder() / team
    if not folder.is_dir():
        mine = sorted(p.name for p in teams_folder().iterdir()) if teams_folder().is_dir() else []
        raise ReproError(
            f"no team folder {folder}: you are not in team {team!r} "
            f"(your teams: {', '.join(mine) or 'none'}; an admin adds members in the hub's "
            "admin page, and the folder appears at your next server start)"
        )
    target = folder / source.name
    if target.exists() and not replace:
        raise FileExistsError(f"{target} exists: pass --replace to replace it")
    tmp = target.with_name(f".{target.name}.sharing")
    shutil.copyfile(source, tmp)
    os.replace(tmp, target)
    return target
