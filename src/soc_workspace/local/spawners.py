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
from pathlib import Path
from typing import Any

from jupyterhub.spawner import LocalProcessSpawner
from traitlets import Integer, Unicode

from ..hub.teams import teams_of
from . import folders
from .paths import StatePaths
from .storekeys import user_store_environment


class _WorkspaceSpawner(LocalProcessSpawner):
    state_dir = Unicode(config=True, help="The workspace's state directory.")
    umask = Integer(0o002, config=True, help="umask of users' servers (teams share files).")

    @property
    def paths(self) -> StatePaths:
        return StatePaths(Path(self.state_dir))

    @property
    def home(self) -> Path:
        return self.paths.homes / self.user.name

    async def start(self) -> Any:
        await asyncio.to_thread(self.prepare, teams_of(self), bool(self.user.admin))
        # The user's own store keys (made through the store's IAM API on the first start).
        self._store_environment = await asyncio.to_thread(
            user_store_environment, self.paths, self.user.name
        )
        return await super().start()

    def get_env(self) -> dict[str, str]:
        env = super().get_env()
        env.update(getattr(self, "_store_environment", {}))
        return env

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
    """Each server runs as the system user of the hub user's name (created on first start)."""

    def prepare(self, teams: list[str], admin: bool) -> None:
        from . import accounts

        accounts.ensure_account(self.user.name, self.home)
        groups = {accounts.team_group(team) for team in teams}
        if admin:
            groups.add(accounts.ADMINS_GROUP)
        accounts.set_memberships(self.user.name, groups)
        for team in teams:
            gid = accounts.ensure_group(accounts.team_group(team))
            folders.ensure_team_folder(self.paths, team, gid=gid)
        folders.link_folders(self.paths, self.home, teams)

    def make_preexec_fn(self, name: str) -> Any:
        switch_user, umask = super().make_preexec_fn(name), self.umask

        def preexec() -> None:
            switch_user()  # setgid, initgroups (team groups), setuid, chdir home
            os.umask(umask)

        return preexec
