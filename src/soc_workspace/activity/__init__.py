"""Work counts as activity: idle culling never stops a user's running work.

Both deployments stop idle servers (the server stops itself on one machine; the hub's idle
culler does it on Kubernetes), and Jupyter culls idle kernels. Neither sees work that runs
quietly: a kernel busy with a long computation that prints nothing, a rerun running in a
terminal, tasks on the user's Dask cluster while the notebook that sent them sits idle.
This Jupyter server extension, on in every user's server (both deployments), looks for such
work every minute and, when it finds some, counts it as the server's activity (which the
server reports to the hub) and as its kernels' activity (so Jupyter keeps them, and the
clients holding the Dask work). Idle clusters are stopped by dask-gateway's own idle timeout,
which already counts tasks as activity.

- :mod:`.markers`: code that runs long outside a kernel (``soc_workspace.rerun``) says so.
- :mod:`.extension`: the server extension.
"""

from __future__ import annotations

from typing import Any

INTERVAL_VARIABLE = "SOC_WORKSPACE_ACTIVITY_INTERVAL"
"""Seconds between two looks for running work (default 60)."""


def _jupyter_server_extension_points() -> list[dict[str, str]]:
    return [{"module": "soc_workspace.activity"}]


def _load_jupyter_server_extension(serverapp: Any) -> None:
    from .extension import WorkWatcher

    WorkWatcher(serverapp).start()
