"""File operations for code that runs as root on paths users can change.

The rule: root never follows a path a user controls. A user owns their home and their Dask
clusters' working directories, so any name inside them may be swapped for a symlink at any
moment (a check, then an operation on the same path, is a race the user can win). So root
either works relative to directory descriptors it opened itself, each component with
``O_NOFOLLOW``, or does the work as the user in a child that dropped root (:func:`as_user`).
"""

from __future__ import annotations

import os
import pwd
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

_DIR = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_NEW_FILE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC


@contextmanager
def open_dir(path: str | os.PathLike[str], *, dir_fd: int | None = None) -> Iterator[int]:
    """A descriptor of directory ``path``, no component of it followed if it is a symlink.

    An absolute ``path`` is opened from ``/``; a relative one from ``dir_fd``.
    """
    parts = Path(path).parts
    if parts and parts[0] == os.sep:
        fd = os.open(os.sep, _DIR)
        parts = parts[1:]
    else:
        fd = os.dup(dir_fd) if dir_fd is not None else os.open(".", _DIR)
    try:
        for part in parts:
            if part in ("", ".", ".."):
                raise PermissionError(f"refusing path component {part!r} in {path}")
            child = os.open(part, _DIR, dir_fd=fd)
            os.close(fd)
            fd = child
        yield fd
    finally:
        os.close(fd)


def make_dir(dir_fd: int, name: str, mode: int, uid: int = -1, gid: int = -1) -> None:
    """Create directory ``name`` in ``dir_fd`` (it must not exist), then own and mode it."""
    os.mkdir(name, 0o700, dir_fd=dir_fd)
    with open_dir(name, dir_fd=dir_fd) as fd:
        os.fchown(fd, uid, gid)
        os.fchmod(fd, mode)


def ensure_dir(dir_fd: int, name: str, mode: int, uid: int = -1, gid: int = -1) -> None:
    """Like :func:`make_dir`, also for a directory that exists (a symlink there is refused)."""
    with suppress(FileExistsError):
        os.mkdir(name, 0o700, dir_fd=dir_fd)
    with open_dir(name, dir_fd=dir_fd) as fd:
        os.fchown(fd, uid, gid)
        os.fchmod(fd, mode)


def create_file(dir_fd: int, name: str, mode: int, uid: int = -1, gid: int = -1) -> int:
    """Create file ``name`` in ``dir_fd`` (never through a symlink); return a writable fd."""
    fd = os.open(name, _NEW_FILE, 0o600, dir_fd=dir_fd)
    try:
        os.fchown(fd, uid, gid)
        os.fchmod(fd, mode)
    except BaseException:
        os.close(fd)
        raise
    return fd


def write_file(
    dir_fd: int, name: str, data: bytes, mode: int, uid: int = -1, gid: int = -1
) -> None:
    fd = create_file(dir_fd, name, mode, uid, gid)
    with os.fdopen(fd, "wb") as out:
        out.write(data)


def as_user(
    username: str, argv: list[str], *, env: dict[str, str] | None = None, umask: int = 0o077
) -> str:
    """Run ``argv`` as ``username`` (uid, gid and groups), in their home; return its output.

    Whatever it does to paths then reaches only what the user could reach themselves, with
    any symlinks they placed. The switch happens in the child before ``exec`` (no Python code
    runs in a forked copy of a threaded hub). Raises ``RuntimeError`` naming the user and
    the child's last error line if it fails.
    """
    entry = pwd.getpwnam(username)
    groups = os.getgrouplist(username, entry.pw_gid)
    result = subprocess.run(
        argv,
        user=entry.pw_uid,
        group=entry.pw_gid,
        extra_groups=groups,
        umask=umask,
        cwd=entry.pw_dir,
        env=env if env is not None else {"PATH": "/usr/bin:/bin", "HOME": entry.pw_dir},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )
    if result.returncode != 0:
        lines = (result.stderr or result.stdout).strip().splitlines()
        raise RuntimeError(
            f"preparing the home of {username} failed (exit {result.returncode}): "
            f"{lines[-1] if lines else 'no output'}"
        )
    return result.stdout
