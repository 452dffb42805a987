"""``soc-workspace workshop rehearse``: a class of synthetic participants, and a verdict.

Synthetic participants (accounts ``<workshop>-rNN`` in the workshop's group, so they get its
materials, profile and Dask limits) do what people do, at the pace the trainer sets (all at
once by default): open the workshop login page, log in, start their server and follow its
progress as the spawn page does, open JupyterLab, then run the workshop's first notebook cell
by cell in a kernel (Dask step included). Meanwhile the hub's API is timed and, for the
workspace on this machine, its CPU and memory sampled. One participant goes first alone: what
one server start costs this machine (CPU-seconds) gives the machine's limit for N of them
(N x that / cores), against which the rehearsal's times are judged. The synthetic accounts
are removed at the end, whatever happened.

The same code is ``benchmarks/workshop_load.py``.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import quote

import requests

from ..check.kernel import Kernel
from ..hub.workshops import hash_password, new_password
from ..local.client import BrowserSession, HubError
from .hub import WorkshopHub
from .load import ApiProbe, MachineSampler, cpu_seconds_of, memory, percentile, probe
from .record import WorkshopError

API_GOAL_MS = 1000.0
"""The hub's API must answer within this (p95) while a class starts."""
MEMORY_HEADROOM = 0.10
"""The rehearsal is not ready below this share of memory left."""
MEMORY_GUARD = 0.15
"""On this machine, a synthetic participant waits (up to :data:`MEMORY_WAIT` s) to open a
notebook while less than this share of memory is free, then gives up: a rehearsal must never
make the machine run out of memory (other people's work runs on it too)."""
MEMORY_WAIT = 120.0


@dataclass
class Attempt:
    """One synthetic participant's way through the workshop's start."""

    user: str
    ready_s: float | None = None
    """From submitting the login form to JupyterLab's page served."""
    notebook_s: float | None = None
    """From submitting the login form to the first notebook's last cell done."""
    error: str = ""
    start_attempts: int = 0
    started: float = 0.0


@dataclass
class CapacityReport:
    workshop: str
    participants: int
    pace_s: float
    failures: list[str] = field(default_factory=list)
    ready_p50_s: float = float("nan")
    ready_p95_s: float = float("nan")
    notebook_p50_s: float = float("nan")
    notebook_p95_s: float = float("nan")
    api_idle_p95_ms: float = float("nan")
    api_p95_ms: float = float("nan")
    """While participants were reaching JupyterLab (the storm)."""
    api_notebook_p95_ms: float = float("nan")
    """While they ran the notebook."""
    api_errors: int = 0
    retried_starts: int = 0
    solo_ready_s: float = float("nan")
    start_cpu_s: float | None = None
    """CPU-seconds the workspace's processes (hub, proxy, gateway, store, the new server)
    spent on one participant's login-to-JupyterLab, alone."""
    cores: int | None = None
    limit_s: float | None = None
    """participants x start_cpu_s / cores: the machine cannot do the starts faster."""
    ready_p95_vs_limit: float | None = None
    cpu_busy_mean: float | None = None
    memory_total_gib: float | None = None
    memory_min_available_gib: float | None = None
    verdict: str = ""
    reason: str = ""
    attempts: list[Attempt] = field(default_factory=list)

    @property
    def ready(self) -> bool:
        return self.verdict == "ready"

    def summary(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("attempts")
        data["failures"] = len(self.failures)
        return {k: round(v, 2) if isinstance(v, float) else v for k, v in data.items()}

    def lines(self) -> list[str]:
        """The capacity report, for people."""
        n = self.participants
        lines = [
            f"Rehearsal of {self.workshop}: {n} participant(s), "
            + ("all at once" if not self.pace_s else f"one every {self.pace_s:g} s"),
            f"  failures: {len(self.failures)} of {n}; server starts that needed a second "
            f"try: {self.retried_starts}",
            *(f"    {failure}" for failure in self.failures[:10]),
            f"  to JupyterLab: p50 {self.ready_p50_s:.1f} s, p95 {self.ready_p95_s:.1f} s "
            f"(one alone: {self.solo_ready_s:.1f} s)",
            f"  to the first notebook done: p50 {self.notebook_p50_s:.1f} s, "
            f"p95 {self.notebook_p95_s:.1f} s",
            f"  hub API p95: {self.api_p95_ms:.0f} ms while starting, "
            f"{self.api_notebook_p95_ms:.0f} ms during the notebook, "
            f"{self.api_idle_p95_ms:.0f} ms idle ({self.api_errors} error(s))",
        ]
        if self.limit_s is not None:
            lines.append(
                f"  machine limit: {n} x {self.start_cpu_s:.1f} CPU-s per start / "
                f"{self.cores} cores = {self.limit_s:.1f} s; p95 is "
                f"{self.ready_p95_vs_limit:.2f}x that"
            )
        if self.memory_total_gib is not None:
            lines.append(
                f"  CPU busy {100 * (self.cpu_busy_mean or 0):.0f}% on average; memory: "
                f"{self.memory_min_available_gib:.1f} of {self.memory_total_gib:.1f} GiB "
                "still free at the lowest"
            )
        lines.append(f"Verdict: {self.verdict.upper()}: {self.reason}")
        return lines


def rehearse(
    hub: WorkshopHub,
    name: str,
    participants: int,
    *,
    pace: float = 0.0,
    max_wait: float = 300.0,
    timeout: float = 900.0,
    notebook: bool = True,
    progress: Callable[[str], None] | None = None,
) -> CapacityReport:
    """Rehearse workshop ``name`` with ``participants`` synthetic participants (``notebook``
    False: only up to JupyterLab)."""
    say = progress or (lambda _line: None)
    workshop, _ = hub.workshop(name)
    if workshop.ended:
        raise WorkshopError(f"workshop {name!r} has ended ({workshop.ends})")
    if notebook and not workshop.first_notebook:
        raise WorkshopError(f"workshop {name!r} has no notebook to rehearse (--content)")
    if participants < 1:
        raise WorkshopError("--participants must be 1 or more")
    names = [f"{name}-r{i:02d}" for i in range(participants + 1)]  # r00 goes first, alone
    taken = [n for n in names if hub.exists(n)]
    if taken:
        raise WorkshopError(
            f"{', '.join(taken[:3])} exist already: a rehearsal is running, or one was cut "
            f"short (remove them, or run `soc-workspace workshop end {name} ...`)"
        )
    passwords = {n: new_password() for n in names}
    workshop.passwords.update({n: hash_password(p) for n, p in passwords.items()})
    workshop.rehearsal = names
    hub.save(workshop)
    hub.add_users(name, names)
    report = CapacityReport(name, participants, pace)
    notebook_path = f"{workshop.folder or name}/{workshop.first_notebook}"
    try:
        say("Timing the hub's API while idle (5 s)")
        report.api_idle_p95_ms = percentile(probe(_own_api(hub), 5), 95)
        say(f"{names[0]} alone: login to JupyterLab")
        solo, report.solo_ready_s, spent = cpu_seconds_of(
            lambda: _to_lab(hub, names[0], passwords[names[0]], timeout),
            hub.local.state_dir if hub.local else None,
        )
        if solo.error:
            raise WorkshopError(f"one participant alone failed: {solo.error}")
        if spent is not None:
            report.cores = os.cpu_count() or 1
            report.start_cpu_s = spent
            report.limit_s = participants * spent / report.cores
        hub.stop_server(names[0])
        say(f"{participants} participant(s) now")
        _storm(hub, report, names[1:], passwords, notebook_path, pace, timeout, notebook, say)
    finally:
        say("Removing the synthetic participants")
        _clean_up(hub, name, names)
    _judge(report, max_wait)
    return report


def _own_api(hub: WorkshopHub) -> WorkshopHub:
    """A client of the same hub for one thread (a requests session is not for sharing)."""
    api = WorkshopHub(hub.url, hub.http.headers["Authorization"].split(" ", 1)[1])
    api.local = hub.local
    return api


def _storm(
    hub: WorkshopHub,
    report: CapacityReport,
    names: list[str],
    passwords: dict[str, str],
    notebook_path: str,
    pace: float,
    timeout: float,
    notebook: bool,
    say: Callable[[str], None],
) -> None:
    api_probe = ApiProbe(_own_api(hub))
    sampler = MachineSampler() if hub.local is not None else None
    ready_at: list[float] = []
    lock = threading.Lock()

    def participant(index: int) -> Attempt:
        time.sleep(index * pace)
        attempt = _to_lab(hub, names[index], passwords[names[index]], timeout)
        with lock:
            ready_at.append(time.monotonic())
        if not attempt.error and notebook and sampler is not None:
            attempt.error = _wait_for_memory()
        if not attempt.error and notebook:
            _run_notebook(hub, attempt, notebook_path, timeout)
        if attempt.error:
            say(f"  {attempt.user} failed: {attempt.error}")
        return attempt

    api_probe.start()
    if sampler:
        sampler.start()
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=len(names)) as pool:
        report.attempts = list(pool.map(participant, range(len(names))))
    finished = time.monotonic()
    api_probe.stop()
    if sampler:
        sampler.stop()
        report.cpu_busy_mean = sampler.busy_fraction()[0]
        report.memory_total_gib = sampler.memory_total_gib
        report.memory_min_available_gib = sampler.min_available_gib()
    everyone_in = max(ready_at, default=finished)
    report.api_p95_ms = percentile(api_probe.between(started, everyone_in), 95)
    report.api_notebook_p95_ms = percentile(api_probe.between(everyone_in, finished), 95)
    report.api_errors = api_probe.errors
    ready = [a.ready_s for a in report.attempts if a.ready_s is not None]
    done = [a.notebook_s for a in report.attempts if a.notebook_s is not None]
    report.ready_p50_s, report.ready_p95_s = percentile(ready, 50), percentile(ready, 95)
    report.notebook_p50_s, report.notebook_p95_s = percentile(done, 50), percentile(done, 95)
    report.failures = [f"{a.user}: {a.error}" for a in report.attempts if a.error]
    report.retried_starts = sum(a.start_attempts > 1 for a in report.attempts)
    if report.limit_s:
        report.ready_p95_vs_limit = report.ready_p95_s / report.limit_s


def _wait_for_memory() -> str:
    """Wait while this machine is short of memory; an error message if it stays short."""
    deadline = time.monotonic() + MEMORY_WAIT
    while True:
        total, available = memory()
        if available >= MEMORY_GUARD * total:
            return ""
        if time.monotonic() > deadline:
            return (
                f"not started: only {available:.1f} of {total:.1f} GiB of memory free for "
                f"{MEMORY_WAIT:.0f} s (the rehearsal protects this machine)"
            )
        time.sleep(2)


def _to_lab(hub: WorkshopHub, user: str, password: str, timeout: float) -> Attempt:
    """Log in on the workshop page, start the server as the spawn page does, open JupyterLab."""
    attempt = Attempt(user)
    session = BrowserSession(hub.url, timeout=timeout)
    started = time.monotonic()
    try:
        session.login(user, password, page="/hub/workshop-login")
        session.spawn(timeout=timeout)
        page = session.open_lab()
        if not session.is_jupyterlab(page):
            raise HubError(f"JupyterLab was not served (HTTP {page.status_code})")
        attempt.ready_s = time.monotonic() - started
        # How many tries the start took: the spawner keeps it in the server's state.
        state = (_own_api(hub).server(user) or {}).get("state") or {}
        attempt.start_attempts = int(state.get("start_attempts", 1))
    except Exception as err:  # reported in the capacity report
        attempt.error = str(err) or type(err).__name__
    attempt.started = started
    return attempt


def _run_notebook(hub: WorkshopHub, attempt: Attempt, path: str, timeout: float) -> None:
    """Run the notebook's code cells in order in a kernel of the participant's server."""
    api = _own_api(hub)
    try:
        token = api.server_token(attempt.user)
        server = f"{hub.url}/user/{quote(attempt.user)}"
        response = requests.get(
            f"{server}/api/contents/{quote(path)}",
            headers={"Authorization": f"token {token}"},
            timeout=60,
        )
        if response.status_code != 200:
            raise HubError(f"{path} is not in the participant's home (HTTP {response.status_code})")
        notebook = response.json()["content"]
        kernel_name = notebook.get("metadata", {}).get("kernelspec", {}).get("name", "python3")
        kernel = Kernel.start(hub.url, attempt.user, token, name=kernel_name)
        try:
            for cell in notebook["cells"]:
                if cell["cell_type"] == "code" and "".join(cell["source"]).strip():
                    kernel.run("".join(cell["source"]), timeout=timeout)
        finally:
            kernel.shutdown()
        attempt.notebook_s = time.monotonic() - attempt.started
    except Exception as err:
        attempt.error = f"notebook {path}: {err}"


def _clean_up(hub: WorkshopHub, name: str, names: list[str]) -> None:
    """Stop the synthetic participants' servers, remove them from the hub and the record."""

    def remove(user: str) -> None:
        api = _own_api(hub)
        with contextlib.suppress(Exception):  # a server that failed: the delete says why
            api.stop_server(user, timeout=300)
        api.delete_user(user)

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(remove, names))
    workshop, _ = hub.workshop(name)
    for user in names:
        workshop.passwords.pop(user, None)
    workshop.rehearsal = []
    hub.save(workshop)


def _judge(report: CapacityReport, max_wait: float) -> None:
    n = report.participants
    if report.failures:
        report.verdict = "not ready"
        report.reason = (
            f"{len(report.failures)} of {n} participant(s) failed; the first: {report.failures[0]}"
        )
    elif report.memory_min_available_gib is not None and (
        report.memory_min_available_gib < MEMORY_HEADROOM * (report.memory_total_gib or 0)
    ):
        report.verdict = "not ready"
        report.reason = (
            f"memory ran low ({report.memory_min_available_gib:.1f} GiB left of "
            f"{report.memory_total_gib:.1f}): fewer participants, smaller Dask limits, or "
            "more memory"
        )
    elif report.api_p95_ms > API_GOAL_MS:
        report.verdict = "not ready"
        report.reason = (
            "the hub answered slowly while the class started (API p95 "
            f"{report.api_p95_ms:.0f} ms > {API_GOAL_MS:.0f} ms): people would see pages hang"
        )
    elif report.ready_p95_s > max_wait:
        report.verdict = "not ready"
        report.reason = (
            f"participants waited too long for JupyterLab (p95 {report.ready_p95_s:.0f} s > "
            f"{max_wait:.0f} s): a bigger machine, or a pace (--pace) for the class to arrive"
        )
    else:
        report.verdict = "ready"
        notebook = (
            f" and ran the first notebook (p95 {report.notebook_p95_s:.0f} s)"
            if report.notebook_p95_s == report.notebook_p95_s  # not NaN: it ran
            else " (the notebook was not run)"
        )
        report.reason = (
            f"all {n} reached JupyterLab (p95 {report.ready_p95_s:.0f} s){notebook}; the hub "
            f"answered in {report.api_p95_ms:.0f} ms (p95)"
        )


def report_json(report: CapacityReport) -> str:
    return json.dumps(report.summary())
