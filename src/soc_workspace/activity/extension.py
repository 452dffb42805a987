"""The server extension of :mod:`soc_workspace.activity`: finds running work, counts it.

Every ``$SOC_WORKSPACE_ACTIVITY_INTERVAL`` seconds (default 60) it looks for:

- a kernel of this server that is busy (executing, whether it prints or not);
- a marker of running work (:mod:`.markers`, e.g. a rerun in a terminal);
- a Dask cluster of the user's, on the workspace's gateway, with tasks processing or waiting.

Found work is counted as the server's activity now (``*_last_activity`` in the server's
settings, which jupyterhub-singleuser reports to the hub, where the idle culler reads it) and
as activity of every kernel (Jupyter's kernel culler then keeps them, and with them the Dask
clients that hold the work).
"""

from __future__ import annotations

import asyncio
import os
from datetime import UTC, datetime
from typing import Any

from tornado.ioloop import PeriodicCallback

from . import INTERVAL_VARIABLE
from .markers import running_work

SETTING = "soc_workspace_work_last_activity"


class WorkWatcher:
    """Looks for running work in a Jupyter server and counts it as activity."""

    def __init__(self, serverapp: Any, interval: float | None = None) -> None:
        self.serverapp = serverapp
        self.interval = interval or float(os.environ.get(INTERVAL_VARIABLE, "60") or 60)
        self.log = serverapp.log
        self._checking = False

    def start(self) -> None:
        self.serverapp.web_app.settings[SETTING] = self.serverapp.web_app.settings["started"]
        PeriodicCallback(self._tick, self.interval * 1000).start()
        self.log.info(
            "soc-workspace: running work counts as activity (checked every %.0f s)", self.interval
        )

    async def _tick(self) -> None:
        if self._checking:  # a slow gateway: never two checks at once
            return
        self._checking = True
        try:
            work = await self.find_work()
            if work:
                self.count_as_activity(work)
        except Exception as err:  # never let a check take the server down
            self.log.warning("soc-workspace: looking for running work failed: %s", err)
        finally:
            self._checking = False

    async def find_work(self) -> list[str]:
        """What runs now, one phrase each (empty: nothing)."""
        work = []
        manager = self.serverapp.kernel_manager
        for kernel_id in manager.list_kernel_ids():
            kernel = manager.get_kernel(kernel_id)
            if getattr(kernel, "execution_state", None) == "busy":
                work.append(f"kernel {kernel_id[:8]} is busy")
        work += [f"{m.get('what', 'work')} (pid {m['pid']})" for m in running_work()]
        if os.environ.get("DASK_GATEWAY__ADDRESS") and os.environ.get("JUPYTERHUB_API_TOKEN"):
            work += await asyncio.to_thread(clusters_with_tasks)
        return work

    def count_as_activity(self, work: list[str]) -> None:
        now = datetime.now(UTC)  # aware, as Jupyter's own activity times
        self.serverapp.web_app.settings[SETTING] = now
        manager = self.serverapp.kernel_manager
        for kernel_id in manager.list_kernel_ids():
            manager.get_kernel(kernel_id).last_activity = now
        who = os.environ.get("JUPYTERHUB_USER", "this server")
        self.log.info("soc-workspace: counted as activity of %s: %s", who, "; ".join(work))


def _tasks_in_flight(dask_scheduler: Any) -> int:
    """On the scheduler: tasks being computed or waiting for a worker."""
    processing = sum(len(ws.processing) for ws in dask_scheduler.workers.values())
    return processing + len(dask_scheduler.unrunnable) + len(dask_scheduler.queued)


def clusters_with_tasks() -> list[str]:
    """The user's running gateway clusters that have tasks to do (asked of each scheduler)."""
    from dask_gateway import Gateway

    found = []
    gateway = Gateway()
    try:
        for report in gateway.list_clusters():
            cluster = gateway.connect(report.name)  # never shuts the cluster down on close
            try:
                client = cluster.get_client(set_as_default=False)
                try:
                    tasks = client.run_on_scheduler(_tasks_in_flight)
                finally:
                    client.close()
            except Exception:  # starting or stopping: not work we can see
                continue
            finally:
                cluster.close(shutdown=False)
            if tasks:
                found.append(f"Dask cluster {report.name} has {tasks} task(s)")
    finally:
        gateway.close()
    return found
