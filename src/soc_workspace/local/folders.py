"""Folders on one machine: homes, team folders, the shared folder and the templates.

Users see them in their home (see :mod:`soc_workspace.hub.teams`) as links into the state
directory. In multi-user mode the permissions do the guarding: homes 0700; a team folder
belongs to the team's system group with mode 2770 (setgid: files made inside belong to the
team); ``shared`` belongs to the admins' group with mode 2775; templates are root's, 0755.
Users' processes run with umask 002 so teammates can edit each other's files.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterable
from pathlib import Path

from ..hub.teams import SHARED_FOLDER, TEAMS_FOLDER, TEMPLATES_FOLDER
from .paths import StatePaths

PROJECT_TEMPLATES = Path(__file__).resolve().parents[3] / "notebooks" / "templates"


def templates_source() -> Path | None:
    """The project's notebook templates (a source checkout's notebooks/templates)."""
    return PROJECT_TEMPLATES if PROJECT_TEMPLATES.is_dir() else None


def prepare_state_dir(paths: StatePaths, *, multi_user: bool) -> None:
    """Create the state directory's folders with their permissions (idempotent)."""
    paths.root.mkdir(parents=True, exist_ok=True)
    # Users reach their homes through the state directory, so it must be searchable.
    paths.root.chmod(0o755 if multi_user else 0o700)
    for private in (paths.hub, paths.secrets, paths.run, paths.logs, paths.store, paths.gateway):
        private.mkdir(exist_ok=True)
        private.chmod(0o700)
    for public in (paths.homes, paths.teams):
        public.mkdir(exist_ok=True)
        public.chmod(0o755 if multi_user else 0o700)
    paths.shared.mkdir(exist_ok=True)
    if multi_user:
        from .accounts import ADMINS_GROUP, ensure_group

        os.chown(paths.shared, 0, ensure_group(ADMINS_GROUP))
        paths.shared.chmod(0o2775)
    copy_templates(paths.templates)


def copy_templates(target: Path) -> int:
    """Refresh the read-only copy of the notebook templates; return how many files."""
    source = templates_source()
    if target.exists():
        for folder, dirs, _files in os.walk(target):
            for name in dirs:
                (Path(folder) / name).chmod(0o755)
            Path(folder).chmod(0o755)
        shutil.rmtree(target)
    target.mkdir(parents=True)
    count = 0
    if source is not None:
        for path in sorted(source.rglob("*")):
            if path.is_file() and ".ipynb_checkpoints" not in path.parts:
                dest = target / path.relative_to(source)
                dest.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(path, dest)
                dest.chmod(0o444)
                count += 1
    for folder, _dirs, _files in os.walk(target, topdown=False):
        Path(folder).chmod(0o555)
    return count


def ensure_team_folder(paths: StatePaths, team: str, *, gid: int | None = None) -> Path:
    """The team's folder; in multi-user mode owned by the team's group, mode 2770."""
    folder = paths.teams / team
    folder.mkdir(exist_ok=True)
    if gid is not None:
        os.chown(folder, 0, gid)
        folder.chmod(0o2770)
    return folder


def link_folders(paths: StatePaths, home: Path, teams: Iterable[str]) -> None:
    """Put ~/templates, ~/shared and ~/teams/<team> links into a home, drop stale team links."""
    _link(home / TEMPLATES_FOLDER, paths.templates)
    _link(home / SHARED_FOLDER, paths.shared)
    teams_dir = home / TEAMS_FOLDER
    if teams_dir.is_symlink() or (teams_dir.exists() and not teams_dir.is_dir()):
        teams_dir.unlink()
    teams_dir.mkdir(exist_ok=True)
    # Owned by root in multi-user mode (we run as root then): users cannot add or remove
    # team links themselves.
    teams_dir.chmod(0o755)
    wanted = set(teams)
    for entry in teams_dir.iterdir():
        if entry.is_symlink() and entry.name not in wanted:
            entry.unlink()
    for team in wanted:
        _link(teams_dir / team, paths.teams / team)


def _link(link: Path, target: Path) -> None:
    if link.is_symlink():
        if Path(os.readlink(link)) == target:
            return
        link.unlink()
    elif link.exists():
        # A user's own file or folder of that name: keep it, put ours beside it.
        link = link.with_name(link.name + "-workspace")
        if link.is_symlink():
            link.unlink()
    link.symlink_to(target, target_is_directory=True)
