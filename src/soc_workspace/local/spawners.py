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
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from jupyterhub.spawner import LocalProcessSpawner
from traitlets import Integer, List, Unicode

from ..hub.teams import teams_of, workshops_of
from . import folders
from .paths import StatePaths
from .priority import NICE_VARIABLE, PROVISIONER, lower_soon
from .spawnqueue import SpawnQueue, default_slots, queue_for
from .storekeys import remove_user_store_keys, user_store_environment


class _WorkspaceSpawner(LocalProcessSpawner):
    state_dir = Unicode(config=True, help="The workspace's state directory.")
    user_python = Unicode(
        sys.executable, config=True, help="The Python users' servers run on (any user can run)."
    )
    umask = Integer(0o002, config=True, help="umask of users' servers (teams share files).")
    user_nice = Integer(0, config=True, help="Nice value of users' servers (0: as the hub's).")
    compute_nice = Integer(
        0, config=True, help="Nice value of users' kernels (0: as their server's)."
    )
    spawn_slots = Integer(
        0, config=True, help="Servers starting at the same time (0: two per core); others queue."
    )

    @property
    def paths(self) -> StatePaths:
        return StatePaths(Path(self.state_dir))

    @property
    def home(self) -> Path:
        return self.paths.homes / self.user.name

    # -- starting: in turn, retried once, with progress on the spawn page ----------------------

    start_attempts = Integer(0, help="Attempts the current server's start took (1 or 2).")
    _events: list[dict[str, Any]]
    _base_start_timeout: int | None = None

    @property
    def queue(self) -> SpawnQueue:
        return queue_for(self.spawn_slots or default_slots())

    def run_pre_spawn_hook(self) -> Any:
        # The hub times start() from here on: give it the wait for a turn, and two attempts.
        if self._base_start_timeout is None:
            self._base_start_timeout = self.start_timeout
        attempts = 2 * (self.attempt_limit + 30)
        wait = 1.5 * self.queue.expected_wait()
        self.start_timeout = int(max(self._base_start_timeout, attempts + wait))
        self._events = []
        return super().run_pre_spawn_hook()

    async def start(self) -> Any:
        teams, admin = teams_of(self), bool(self.user.admin)
        workshops = workshops_of(self)  # the hub's database: read here, on its event loop
        queue = self.queue
        if queue.waiting or queue.starting >= queue.slots:
            self._note(
                10,
                f"Waiting for your turn: {queue.waiting + queue.starting} server(s) are "
                f"starting or waiting, about {queue.expected_wait():.0f} s",
            )
        async with queue.turn():
            for attempt in (1, 2):
                self.start_attempts = attempt
                try:
                    return await self._start_once(teams, admin, workshops)
                except Exception as err:
                    if attempt == 2:
                        self._note(100, f"The second start failed too: {err}")
                        raise RuntimeError(
                            f"the server of {self.user.name} failed to start twice; the last "
                            f"time: {err}"
                        ) from err
                    self.log.warning(
                        "The start of %s's server failed (%s); retrying once", self.user.name, err
                    )
                    self._note(20, f"The first start failed ({err}); trying once more")
                    await self._abandon_attempt()
        raise AssertionError("unreachable")

    async def _start_once(self, teams: list[str], admin: bool, workshops: list[dict]) -> Any:
        self._note(30, "Preparing your home")
        await asyncio.to_thread(self.prepare, teams, admin)
        for line in await asyncio.to_thread(self.pull_materials, workshops):
            self._note(40, line)
        # The user's own store keys (made through the store's IAM API on the first start).
        self._store_environment = await asyncio.to_thread(
            user_store_environment, self.paths, self.user.name
        )
        self.port = 0  # a new port for each attempt
        self._note(50, "Starting JupyterLab")
        ip, port = await super().start()
        if self.user_nice:
            await lower_soon(self.pid, self.user_nice)
        await self._wait_until_answering(ip, port)
        self._note(90, "JupyterLab is ready")
        return ip, port

    async def _abandon_attempt(self) -> None:
        """Stop a start that failed, keeping what the hub gave this start (its API token, the
        teams it started with): stop() clears them, and the retry is the same start."""
        token, teams = self.api_token, list(getattr(self, "started_teams", []))
        await self.stop(now=True)
        self.api_token = token
        if hasattr(self, "started_teams"):
            self.started_teams = teams
        self.pid = 0
        self.proc = None

    @property
    def attempt_limit(self) -> float:
        """Longest one attempt may take: a server still using CPU is slow, not stuck."""
        return 3 * self.http_timeout

    async def _wait_until_answering(self, ip: str, port: int) -> None:
        """Hold the turn until the server answers HTTP: that is the part that costs CPU.

        Gives up when the server exits, uses no CPU for ``http_timeout`` seconds (stuck), or
        has not answered after :attr:`attempt_limit` seconds.
        """
        from tornado.httpclient import AsyncHTTPClient

        url = f"http://{ip}:{port}{self.server.base_url}api"
        client = AsyncHTTPClient()
        started = last_progress = time.monotonic()
        cpu = _cpu_seconds(self.pid)
        while True:
            status = await self.poll()
            if status is not None:
                raise RuntimeError(
                    f"the server exited (status {status}) before answering; see the hub's log"
                )
            try:
                await client.fetch(url, request_timeout=5, raise_error=False)
                return
            except Exception:  # not listening yet
                pass
            now, used = time.monotonic(), _cpu_seconds(self.pid)
            if used > cpu:
                cpu, last_progress = used, now
            if now - last_progress > self.http_timeout:
                raise TimeoutError(f"the server used no CPU for {self.http_timeout} s")
            if now - started > self.attempt_limit:
                raise TimeoutError(f"the server did not answer within {self.attempt_limit} s")
            await asyncio.sleep(0.5)

    def _note(self, progress: int, message: str) -> None:
        if not hasattr(self, "_events"):
            self._events = []
        self._events.append({"progress": progress, "message": message})

    async def progress(self) -> AsyncIterator[dict[str, Any]]:
        sent = 0
        while True:  # the hub stops reading when the start is over
            while sent < len(getattr(self, "_events", [])):
                yield self._events[sent]
                sent += 1
            await asyncio.sleep(0.5)

    def get_state(self) -> dict[str, Any]:
        state = super().get_state()
        if self.start_attempts:
            state["start_attempts"] = self.start_attempts
        return state

    def load_state(self, state: dict[str, Any]) -> None:
        super().load_state(state)
        self.start_attempts = int(state.get("start_attempts", 0))

    def get_env(self) -> dict[str, str]:
        env = super().get_env()
        env.update(getattr(self, "_store_environment", {}))
        if self.compute_nice:
            env[NICE_VARIABLE] = str(self.compute_nice)
        return env

    def get_args(self) -> list[str]:
        args = super().get_args()
        if self.compute_nice:
            args.append(f"--KernelProvisionerFactory.default_provisioner_name={PROVISIONER}")
        return args

    def prepare(self, teams: list[str], admin: bool) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    # -- workshops' materials -------------------------------------------------------------------

    def pull_materials(self, workshops: list[dict[str, Any]]) -> list[str]:
        """Bring each workshop's materials into ``~/<folder>``; lines saying what happened.

        A failed pull is reported, never fatal: the participant still gets their server.
        """
        lines = []
        for record in workshops:
            content = record.get("content") or {}
            source = content.get("path") or _git_source(content)
            if not source:
                continue
            dest = self.home / (record.get("folder") or record["name"])
            try:
                lines += self.run_pull(source, dest)
            except Exception as err:
                self.log.warning("Materials of %s for %s: %s", record["name"], self.user.name, err)
                lines.append(f"The materials of {record['name']} could not be updated: {err}")
        for line in lines:
            self.log.info("%s: %s", self.user.name, line)
        return lines

    def run_pull(self, source: str, dest: Path) -> list[str]:  # pragma: no cover - abstract
        raise NotImplementedError

    # -- a deleted user --------------------------------------------------------------------------

    async def delete_forever(self) -> None:
        """The hub deleted the user: their home is moved aside and their store keys removed."""
        await asyncio.to_thread(self.forget_user)

    def forget_user(self) -> None:
        folders.retire_home(self.paths, self.user.name)
        remove_user_store_keys(self.paths, self.user.name)


def _cpu_seconds(pid: int) -> float:
    """CPU time used by process ``pid`` so far (0 when it cannot be read)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _git_source(content: dict[str, Any]) -> str | None:
    if not content.get("git"):
        return None
    return f"{content['git']}@{content['ref']}" if content.get("ref") else content["git"]


class PersonalSpawner(_WorkspaceSpawner):
    """Every server runs as the OS user of the hub, each with its own home."""

    def prepare(self, teams: list[str], admin: bool) -> None:
        self.home.mkdir(parents=True, exist_ok=True)
        self.home.chmod(0o700)
        for team in teams:
            folders.ensure_team_folder(self.paths, team)
        folders.link_folders(self.paths, self.home, teams)

    def run_pull(self, source: str, dest: Path) -> list[str]:
        from ..workshop import materials

        url, ref = materials.parse_source(source)
        if materials.is_git_url(source):
            return materials.pull_git(url, ref, dest).lines()
        return materials.pull(Path(url), dest).lines()

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

    def run_pull(self, source: str, dest: Path) -> list[str]:
        """The pull runs as the user: root never writes into a home."""
        from . import rootfs

        argv = [self.user_python, "-m", "soc_workspace.workshop.materials", source, str(dest)]
        out = rootfs.as_user(
            self.user.name, argv, env={"PATH": "/usr/bin:/bin", "HOME": str(self.home)}
        )
        return out.splitlines()[:-1]  # the last line is the report as JSON

    def forget_user(self) -> None:
        from . import accounts

        ended = accounts.retire_account(self.user.name)
        if ended:
            self.log.info("Ended %d process(es) of deleted user %s", ended, self.user.name)
        folders.remove_kernels_folder(self.paths, self.user.name)
        super().forget_user()

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
