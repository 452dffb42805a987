"""Servers start a few at a time on one machine, in a queue, instead of all at once.

Starting a JupyterLab server costs a few CPU-seconds. Thirty at once on two cores all
crawl together (and crowd out the hub); in a queue of ``slots`` the first ones are ready in
seconds, and the last no later than before. Nobody is turned away: JupyterHub's own
``concurrent_spawn_limit`` answers HTTP 429 past its limit; this queue makes people wait
their turn, with their place shown on the spawn page.

The queue also learns how long a start takes here, so the hub's timeout for a start can
include the wait (see :meth:`SpawnQueue.expected_wait`).
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager


def default_slots() -> int:
    """Servers starting at once: two per core (one computing while the other waits on I/O)."""
    return max(2, 2 * (os.cpu_count() or 1))


class SpawnQueue:
    """At most ``slots`` starts at a time, first come first served."""

    def __init__(self, slots: int, first_guess: float = 10.0) -> None:
        self.slots = max(1, slots)
        self.start_seconds = first_guess
        """Running estimate of one start's duration on this machine (seconds)."""
        self.waiting = 0
        self.starting = 0
        self._semaphore: asyncio.Semaphore | None = None

    def expected_wait(self) -> float:
        """Seconds a start asked for now would wait for its turn."""
        ahead = self.waiting + self.starting
        return ahead / self.slots * self.start_seconds

    @asynccontextmanager
    async def turn(self) -> AsyncIterator[None]:
        """Wait for a free slot; hold it for the block."""
        if self._semaphore is None:
            self._semaphore = asyncio.Semaphore(self.slots)
        self.waiting += 1
        try:
            await self._semaphore.acquire()
        finally:
            self.waiting -= 1
        self.starting += 1
        started = time.monotonic()
        succeeded = False
        try:
            yield
            succeeded = True
        finally:
            self.starting -= 1
            self._semaphore.release()
            if succeeded:
                self.record(time.monotonic() - started)

    def record(self, seconds: float) -> None:
        """Learn from a start that took ``seconds``."""
        self.start_seconds = 0.7 * self.start_seconds + 0.3 * seconds


_queues: dict[int, SpawnQueue] = {}


def queue_for(slots: int) -> SpawnQueue:
    """The hub's one queue (per slot count, for tests that configure several)."""
    if slots not in _queues:
        _queues[slots] = SpawnQueue(slots)
    return _queues[slots]
