"""Folders on one machine: homes, team folders, the shared folder and the templates.

Users see them in their home (see :mod:`soc_workspace.hub.teams`) as links into the state
directory. In multi-user mode the permissions do the guarding: homes 0700; a team folder
belongs to the team's system group with mode 2770 (setgid: files made inside belong to the
team); ``shared`` belongs to the admins' group with mode 2775; templates are root's, 0755.
Users' processes run with umask 002 so teammates can edit each other's files.

Root-side code here follows :mod:`soc_workspace.local.rootfs`: folders under the state
directory (root's) are made through directory descriptors, and everything inside a user's
home is done by :func:`link_folders` running as that user.
"""

from __future__ import annotations

import os
import shutil
import sys
import time
from collections.abc import Iterable
from pathlib import Path

from ..hub.teams import SHARED_FOLDER, TEAMS_FOLDER, TEMPLATES_FOLDER
from . import rootfs
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
    private = (paths.hub, paths.secrets, paths.run, paths.logs, paths.store, paths.gateway)
    with rootfs.open_dir(paths.root) as root:
        for folder in private:
            rootfs.ensure_dir(root, folder.name, 0o700)
        for folder in (paths.homes, paths.teams):
            rootfs.ensure_dir(root, folder.name, 0o755 if multi_user else 0o700)
        # Searchable, not listable: a cluster's name is the key to its dashboard.
        rootfs.ensure_dir(root, paths.clusters.name, 0o711 if multi_user else 0o700)
        rootfs.ensure_dir(root, paths.kernels.name, 0o711 if multi_user else 0o700)
        if multi_user:
            from .accounts import ADMINS_GROUP, ensure_group

            rootfs.ensure_dir(root, paths.shared.name, 0o2775, 0, ensure_group(ADMINS_GROUP))
        else:
            rootfs.ensure_dir(root, paths.shared.name, 0o755)
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
    with rootfs.open_dir(paths.teams) as teams:
        if gid is None:
            rootfs.ensure_dir(teams, team, 0o755)
        else:
            rootfs.ensure_dir(teams, team, 0o2770, 0, gid)
    return folder


def ensure_kernels_folder(paths: StatePaths, username: str, uid: int, gid: int) -> Path:
    """The user's private folder for kernels' connection files and IPC sockets (0700)."""
    with rootfs.open_dir(paths.kernels) as kernels:
        rootfs.ensure_dir(kernels, username, 0o700, uid, gid)
    return paths.kernels / username


def retire_home(paths: StatePaths, username: str) -> Path | None:
    """Move a deleted user's home out of the way, into ``<state>/removed`` (root's, 0700).

    Nothing is deleted, but a new user of the same name starts with an empty home.
    Returns where it went (None when there was no home).
    """
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
    with rootfs.open_dir(paths.root) as root:
        rootfs.ensure_dir(root, paths.removed.name, 0o700)
        with rootfs.open_dir(paths.homes) as homes, rootfs.open_dir(paths.removed) as removed:
            try:
                os.rename(username, f"{username}-{stamp}", src_dir_fd=homes, dst_dir_fd=removed)
            except FileNotFoundError:
                return None
    return paths.removed / f"{username}-{stamp}"


def remove_kernels_folder(paths: StatePaths, username: str) -> None:
    """The user's kernels' folder (sockets only); removed without following links."""
    folder = paths.kernels / username
    if folder.is_dir() and not folder.is_symlink():
        shutil.rmtree(folder, ignore_errors=True)  # fd-based on Linux: follows no symlink


def link_folders_as(username: str, python: str, paths: StatePaths, teams: Iterable[str]) -> None:
    """:func:`link_folders` in the home of system user ``username``, run as that user."""
    argv = [python, "-m", "soc_workspace.local.folders", str(paths.root), *sorted(teams)]
    rootfs.as_user(username, argv, umask=0o022)


def link_folders(paths: StatePaths, home: Path, teams: Iterable[str]) -> None:
    """Put ~/templates, ~/shared and ~/teams/<team> links into a home, drop stale team links.

    Runs as the home's owner (:func:`link_folders_as` in multi-user mode). The links grant
    nothing: a team folder admits its group's members only, wherever a link points.
    """
    _link(home / TEMPLATES_FOLDER, paths.templates)
    _link(home / SHARED_FOLDER, paths.shared)
    teams_dir = home / TEAMS_FOLDER
    if teams_dir.is_symlink() or (teams_dir.exists() and not teams_dir.is_dir()):
        teams_dir.unlink()
    teams_dir.mkdir(exist_ok=True)
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


if __name__ == "__main__":  # link_folders_as: python -m soc_workspace.local.folders STATE TEAM...
    link_folders(StatePaths(Path(sys.argv[1])), Path.home(), sys.argv[2:])
