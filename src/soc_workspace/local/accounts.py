"""System users and groups for multi-user mode (needs root).

Every hub user gets a system user of the same name, created by us and marked by membership
of :data:`USERS_GROUP`; a hub user whose name is an existing account that we did not create
(``root``, ``postgres``, ...) is refused, so nobody can run code as it. Each team has a
system group ``socws-t-<team>``; admins are in :data:`ADMINS_GROUP`.
"""

from __future__ import annotations

import contextlib
import grp
import os
import pwd
import signal
import subprocess
import threading
from collections.abc import Iterable
from pathlib import Path

from . import rootfs

USERS_GROUP = "socws-users"
ADMINS_GROUP = "socws-admins"
TEAM_GROUP_PREFIX = "socws-t-"
ACCOUNT_COMMENT = "soc-workspace user"

# useradd/groupadd/gpasswd lock /etc/passwd and /etc/group: one change at a time per process.
_lock = threading.Lock()


class AccountError(PermissionError):
    """A system account cannot be used or created for a hub user; the message says why."""


def require_root(what: str = 'isolation = "multi-user"') -> None:
    if os.geteuid() != 0:
        raise AccountError(
            f"{what} needs root: it creates a system user per hub user and runs their servers "
            "and Dask clusters as them. Run `soc-workspace up` as root, or use "
            'isolation = "personal" (SOC_WORKSPACE__WORKSPACE__ISOLATION=personal), where '
            "everything runs as you."
        )


RESERVED_PREFIX = "socws-"
"""Names of our system groups start with it; no hub user may take such a name."""


def team_group(team: str) -> str:
    return TEAM_GROUP_PREFIX + team


def name_conflict(name: str) -> str | None:
    """Why hub user ``name`` cannot have a system account here, or None when it can.

    Refused: our reserved prefix, and names of system users or groups soc-workspace did not
    create (``useradd --user-group`` fails on an existing group, and nobody may run code as
    an existing account).
    """
    if name.startswith(RESERVED_PREFIX):
        return f"names starting with {RESERVED_PREFIX!r} are reserved for the workspace's groups"
    if is_workspace_account(name):
        return None
    try:
        pwd.getpwnam(name)
        return f"{name!r} is the name of a system account on this machine"
    except KeyError:
        pass
    try:
        grp.getgrnam(name)
        return f"{name!r} is the name of a system group on this machine"
    except KeyError:
        return None


def ensure_team_group(team: str) -> int:
    """The gid of the team's system group, created when missing.

    An existing group of that name is used only if no account has it as its own group:
    otherwise that account would own the team's folder.
    """
    name = team_group(team)
    gid = ensure_group(name)
    owners = [entry.pw_name for entry in pwd.getpwall() if entry.pw_gid == gid]
    if owners:
        raise AccountError(
            f"the system group {name!r} for team {team!r} is the own group of account(s) "
            f"{', '.join(owners)}; refusing to give it the team's folder. Remove or rename "
            "that account, or give the team another name."
        )
    return gid


def is_workspace_account(name: str) -> bool:
    """True when ``name`` is a system user that soc-workspace created."""
    try:
        pwd.getpwnam(name)
        members = grp.getgrnam(USERS_GROUP).gr_mem
    except KeyError:
        return False
    return name in members


def ensure_group(name: str) -> int:
    """The gid of system group ``name``, created when missing."""
    with _lock:
        try:
            return grp.getgrnam(name).gr_gid
        except KeyError:
            _run(["groupadd", name])
            return grp.getgrnam(name).gr_gid


def ensure_account(name: str, home: Path) -> pwd.struct_passwd:
    """The system user for hub user ``name`` with ``home`` (mode 0700), created when missing.

    Raises :class:`AccountError` when ``name`` is an account soc-workspace did not create.
    """
    ensure_group(USERS_GROUP)
    with _lock:
        try:
            entry = pwd.getpwnam(name)
        except KeyError:
            entry = None
        if entry is not None and name not in grp.getgrnam(USERS_GROUP).gr_mem:
            raise AccountError(
                f"hub user {name!r} has the name of an existing system account that "
                "soc-workspace did not create; refusing to run anything as it. Remove the hub "
                "user, or choose another name."
            )
        if entry is None:
            problem = name_conflict(name)
            if problem:
                raise AccountError(
                    f"hub user {name!r} cannot get a system account: {problem}. Remove the "
                    "hub user, or choose another name."
                )
            _run(
                [
                    "useradd",
                    "--no-create-home",
                    "--home-dir",
                    str(home),
                    "--shell",
                    "/bin/bash",
                    "--user-group",
                    "--groups",
                    USERS_GROUP,
                    "--comment",
                    ACCOUNT_COMMENT,
                    name,
                ]
            )
            entry = pwd.getpwnam(name)
        elif entry.pw_dir != str(home):
            _run(["usermod", "--home", str(home), name])
            entry = pwd.getpwnam(name)
    with rootfs.open_dir(home.parent) as homes:
        rootfs.ensure_dir(homes, home.name, 0o700, entry.pw_uid, entry.pw_gid)
        with rootfs.open_dir(home.name, dir_fd=homes) as own:
            _adopt_root_owned(own, "teams", entry)
    return entry


def _adopt_root_owned(home_fd: int, name: str, entry: pwd.struct_passwd) -> None:
    # Earlier versions made ~/teams root's; the user's own code maintains it now.
    try:
        with rootfs.open_dir(name, dir_fd=home_fd) as fd:
            if os.fstat(fd).st_uid == 0:
                os.fchown(fd, entry.pw_uid, entry.pw_gid)
    except OSError:
        pass  # missing, a file or a symlink: the user's own business


def set_memberships(name: str, wanted: Iterable[str]) -> None:
    """Make ``name`` a member of exactly the ``wanted`` groups among ours (admins, teams)."""
    wanted = set(wanted)
    for group in wanted:
        ensure_group(group)
    with _lock:
        for group in grp.getgrall():
            ours = group.gr_name == ADMINS_GROUP or group.gr_name.startswith(TEAM_GROUP_PREFIX)
            if not ours:
                continue
            member = name in group.gr_mem
            if group.gr_name in wanted and not member:
                _run(["gpasswd", "--add", name, group.gr_name])
            elif group.gr_name not in wanted and member:
                _run(["gpasswd", "--delete", name, group.gr_name])


def revoke_teams(name: str, groups: Iterable[str]) -> int:
    """Take user ``name`` out of system ``groups`` and end their processes that hold one.

    Returns how many processes were ended.
    """
    gids = set()
    with _lock:
        for group in groups:
            try:
                entry = grp.getgrnam(group)
            except KeyError:
                continue
            gids.add(entry.gr_gid)
            if name in entry.gr_mem:
                _run(["gpasswd", "--delete", name, group])
    uid = pwd.getpwnam(name).pw_uid
    holders = [
        pid for pid, (owner, held) in _process_groups().items() if owner == uid and held & gids
    ]
    for pid in holders:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    return len(holders)


def _process_groups() -> dict[int, tuple[int, set[int]]]:
    """Each process's real uid and supplementary groups, from /proc."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            lines = (entry / "status").read_text().splitlines()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in lines if ":" in line)
        if fields.get("State", "").strip().startswith("Z"):
            continue  # a zombie holds nothing any more
        try:
            uid = int(fields["Uid"].split()[0])
            groups = {int(g) for g in fields.get("Groups", "").split()}
        except (KeyError, ValueError):
            continue
        found[int(entry.name)] = (uid, groups)
    return found


def retire_account(name: str) -> int:
    """End every process of workspace account ``name`` and delete the account.

    Returns how many processes were ended. Accounts soc-workspace did not create are left
    alone (0).
    """
    if not is_workspace_account(name):
        return 0
    uid = pwd.getpwnam(name).pw_uid
    ended = [pid for pid, (owner, _) in _process_groups().items() if owner == uid]
    for pid in ended:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    for pid in ended:  # userdel refuses while a process of the user remains
        _wait_gone(pid)
    with _lock:
        _run(["userdel", name])
    return len(ended)


def _wait_gone(pid: int, timeout: float = 10.0) -> None:
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and Path(f"/proc/{pid}").exists():
        with contextlib.suppress(ChildProcessError, OSError):
            os.waitpid(pid, os.WNOHANG)
        try:
            if Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()[0] == "Z":
                return
        except OSError:
            return
        time.sleep(0.05)


def remove_accounts(names: Iterable[str]) -> None:
    """Delete system users that soc-workspace created (their homes are left in place)."""
    for name in names:
        if is_workspace_account(name):
            with _lock:
                _run(["userdel", name])


def remove_groups(names: Iterable[str]) -> None:
    """Delete system groups of ours (teams, admins, users) that exist."""
    for name in names:
        if not (name in (USERS_GROUP, ADMINS_GROUP) or name.startswith(TEAM_GROUP_PREFIX)):
            raise ValueError(f"{name!r} is not a soc-workspace group")
        with _lock:
            try:
                grp.getgrnam(name)
            except KeyError:
                continue
            _run(["groupdel", name])


def _run(command: list[str]) -> None:
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        raise AccountError(
            f"`{' '.join(command)}` failed (exit {result.returncode}): {result.stderr.strip()}"
        )
