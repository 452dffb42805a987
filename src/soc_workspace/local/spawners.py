"""Users' servers as local processes, in both isolation modes.

:class:`PersonalSpawner` runs every user's server as the OS user who started the workspace;
:class:`SystemUserSpawner` runs each as the system user of the same name, which it creates.
Both give each user a home under the state directory with the workspace's folders linked in
(``~/templates``, ``~/shared``, ``~/teams/<team>`` for each of their hub groups), refreshed
at every start so group changes apply from the next server start.
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path
from typing import Any

from jupyterhub.spawner import LocalProcessSpawner
from traitlets import Integer, Unicode

from ..hub.teams import teams_of
from . import folders
from .paths import StatePaths


class _WorkspaceSpawner(LocalProcessSpawner):
    state_dir = Unicode(config=True, help="The workspace's state directory.")
    user_python = Unicode(
        sys.executable, config=True, help="The Python users' servers run on (any user can run)."
    )
    umask = Integer(0o002, config=True, help="umask of users' servers (teams share files).")

    @property
    def paths(self) -> StatePaths:
        return StatePaths(Path(self.state_dir))

    @property
    def home(self) -> Path:
        return self.paths.homes / self.user.name

    async def start(self) -> Any:
        await asyncio.to_thread(self.prepare, teams_of(self), bool(self.user.admin))
        return await super().start()

    def prepare(self, teams: list[str], admin: bool) -> None:  # pragma: no cover - abstract
        raise NotImplementedError


class PersonalSpawner(_WorkspaceSpawner):
    """Every server runs as the OS user of the hub, each with its own home."""

    def prepare(self, teams: list[str], admin: bool) -> None:
        self.home.mkdir(parents=True, exist_ok=True)
        self.home.chmod(0o700)
        for team in teams:
            folders.ensure_team_folder(self.paths, team)
        folders.link_folders(self.paths, self.home, teams)

    def make_preexec_fn(self, name: str) -> Any:
        home, umask = str(self.home), self.umask

        def preexec() -> None:
            os.umask(umask)
            os.chdir(home)

        return preexec

    def user_env(self, env: dict[str, str]) -> dict[str, str]:
        env.update(USER=self.user.name, HOME=str(self.home), SHELL="/bin/bash")
        return env

    def get_args(self) -> list[str]:
        args = super().get_args()
        if os.geteuid() == 0:  # Jupyter refuses to run as root unless told
            args.append("--allow-root")
        return args


class SystemUserSpawner(_WorkspaceSpawner):
    """Each server runs as the system user of the hub user's name (created on first start).

    Root prepares only what lies in its own folders (the account, the home folder itself,
    team folders, the kernels' folder); the links inside the home are made by the user
    (see :mod:`soc_workspace.local.rootfs`). Kernels talk over IPC sockets in the user's
    0700 folder: on TCP any local user could connect to them.
    """

    def prepare(self, teams: list[str], admin: bool) -> None:
        from . import accounts

        entry = accounts.ensure_account(self.user.name, self.home)
        groups = {accounts.team_group(team) for team in teams}
        if admin:
            groups.add(accounts.ADMINS_GROUP)
        accounts.set_memberships(self.user.name, groups)
        for team in teams:
            gid = accounts.ensure_team_group(team)
            folders.ensure_team_folder(self.paths, team, gid=gid)
        folders.ensure_kernels_folder(self.paths, self.user.name, entry.pw_uid, entry.pw_gid)
        folders.link_folders_as(self.user.name, self.user_python, self.paths, teams)

    def user_env(self, env: dict[str, str]) -> dict[str, str]:
        env = super().user_env(env)
        env["JUPYTER_RUNTIME_DIR"] = str(self.paths.kernels / self.user.name)
        return env

    def get_args(self) -> list[str]:
        return [*super().get_args(), "--KernelManager.transport=ipc"]

    def make_preexec_fn(self, name: str) -> Any:
        switch_user, umask = super().make_preexec_fn(name), self.umask

        def preexec() -> None:
            switch_user()  # setgid, initgroups (team groups), setuid, chdir home
            os.umask(umask)

        return preexec
