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
from traitlets import Integer, List, Unicode

from ..hub.teams import teams_of
from . import folders
from .paths import StatePaths
from .storekeys import user_store_environment


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

    # Processes keep the groups they started with: a server started while its user was in
    # a team keeps that team's folder until it stops. The hub polls every server; one whose
    # user left a team is stopped (its clusters with it), and any other process of the user
    # that still holds the team's group is ended.
    started_teams = List(help="Teams of the user when the server started (kept in its state).")

    async def start(self) -> Any:
        self.started_teams = teams_of(self)
        return await super().start()

    def get_state(self) -> dict[str, Any]:
        state = super().get_state()
        if self.started_teams:
            state["teams"] = list(self.started_teams)
        return state

    def load_state(self, state: dict[str, Any]) -> None:
        super().load_state(state)
        self.started_teams = list(state.get("teams", []))

    def clear_state(self) -> None:
        super().clear_state()
        self.started_teams = []

    _leaving = False

    async def poll(self) -> int | None:
        status = await super().poll()
        if status is not None or self._leaving:  # stop() polls too
            return status
        left = sorted(set(self.started_teams) - set(teams_of(self)))
        if not left:
            return None
        self._leaving = True
        from . import accounts

        self.log.warning(
            "%s left team(s) %s: stopping their server so it loses the team folders",
            self.user.name,
            ", ".join(left),
        )
        try:
            await self.stop()
            ended = await asyncio.to_thread(
                accounts.revoke_teams, self.user.name, [accounts.team_group(t) for t in left]
            )
        finally:
            self._leaving = False
        if ended:
            self.log.warning(
                "Ended %d other process(es) of %s in those teams", ended, self.user.name
            )
        return 0

    def get_args(self) -> list[str]:
        return [*super().get_args(), "--KernelManager.transport=ipc"]

    def make_preexec_fn(self, name: str) -> Any:
        switch_user, umask = super().make_preexec_fn(name), self.umask

        def preexec() -> None:
            switch_user()  # setgid, initgroups (team groups), setuid, chdir home
            os.umask(umask)

        return preexec
