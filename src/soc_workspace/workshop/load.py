"""Measuring a hub under load: its API's latency, and this machine's CPU and memory.

Used by ``workshop rehearse`` and the benchmarks (``benchmarks/hub_load.py``,
``benchmarks/workshop_load.py``).
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any


def percentile(values: list[float], q: float) -> float:
    """The ``q``-th percentile (nearest rank); NaN for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


class ApiProbe(threading.Thread):
    """Times a cheap hub API call (``GET /users``) every ``period`` seconds until stopped.

    ``api`` is any object with ``request(method, path)`` (a :class:`HubAPI`); the probe uses
    it alone, from its own thread.
    """

    def __init__(self, api: Any, period: float = 0.25) -> None:
        super().__init__(daemon=True)
        self.api, self.period = api, period
        self.samples: list[tuple[float, float]] = []
        """(monotonic time, latency in ms)"""
        self.errors = 0
        self.done = threading.Event()

    @property
    def latencies_ms(self) -> list[float]:
        return [ms for _, ms in self.samples]

    def between(self, start: float, end: float) -> list[float]:
        return [ms for t, ms in self.samples if start <= t <= end]

    def run(self) -> None:
        while not self.done.is_set():
            started = time.monotonic()
            try:
                self.api.request("GET", "/users")
                self.samples.append((started, (time.monotonic() - started) * 1000))
            except Exception:
                self.errors += 1
            self.done.wait(self.period)

    def stop(self) -> None:
        self.done.set()
        self.join()


def probe(api: Any, seconds: float) -> list[float]:
    """Latencies (ms) of the hub's API over ``seconds`` of quiet."""
    thread = ApiProbe(api)
    thread.start()
    time.sleep(seconds)
    thread.stop()
    return thread.latencies_ms


@dataclass(frozen=True)
class CpuTimes:
    busy: float
    """CPU-seconds spent busy, all cores together, since boot."""
    total: float

    @classmethod
    def now(cls) -> CpuTimes:
        fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        idle = fields[3] + fields[4]  # idle + iowait
        ticks = os.sysconf("SC_CLK_TCK")
        total = sum(fields[:8])  # guest time is already counted in user
        return cls((total - idle) / ticks, total / ticks)


def memory() -> tuple[float, float]:
    """Total and available memory of this machine, in GiB."""
    info = {}
    for line in Path("/proc/meminfo").read_text().splitlines():
        key, _, value = line.partition(":")
        info[key] = int(value.split()[0]) * 1024
    return info["MemTotal"] / 2**30, info["MemAvailable"] / 2**30


class MachineSampler(threading.Thread):
    """Samples this machine's CPU use and available memory every ``period`` seconds."""

    def __init__(self, period: float = 1.0) -> None:
        super().__init__(daemon=True)
        self.period = period
        self.samples: list[tuple[float, CpuTimes, float]] = []
        self.memory_total_gib = memory()[0]
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            self.samples.append((time.monotonic(), CpuTimes.now(), memory()[1]))
            self.done.wait(self.period)

    def stop(self) -> None:
        self.done.set()
        self.join()
        self.samples.append((time.monotonic(), CpuTimes.now(), memory()[1]))

    def busy_fraction(self) -> tuple[float, float]:
        """Average and highest share of all cores busy (0-1) between samples."""
        shares = []
        for (_, a, _m), (_, b, _n) in zip(self.samples, self.samples[1:], strict=False):
            if b.total > a.total:
                shares.append((b.busy - a.busy) / (b.total - a.total))
        if not shares:
            return float("nan"), float("nan")
        return sum(shares) / len(shares), max(shares)

    def min_available_gib(self) -> float:
        return min((m for _, _, m in self.samples), default=float("nan"))


def workspace_cpu_seconds(state_dir: Path) -> float:
    """CPU-seconds used so far by the processes of the workspace in ``state_dir`` (hub, proxy,
    gateway, store, users' servers, kernels and Dask processes), with their children that
    ended."""
    from ..local import processes

    ticks = 0
    for pid in processes.workspace_processes(state_dir):
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        ticks += sum(int(v) for v in fields[11:15])  # utime stime cutime cstime
    return ticks / os.sysconf("SC_CLK_TCK")


def cpu_seconds_of(action: Any, state_dir: Path | None) -> tuple[Any, float, float | None]:
    """Run ``action()``; return its result, its seconds, and the CPU-seconds the workspace in
    ``state_dir`` spent meanwhile (None without a state directory: a hub elsewhere).

    Counted by process, so other work on the machine does not count."""
    before = workspace_cpu_seconds(state_dir) if state_dir else None
    started = time.monotonic()
    result = action()
    seconds = time.monotonic() - started
    if before is None or state_dir is None:
        return result, seconds, None
    return result, seconds, workspace_cpu_seconds(state_dir) - before
