"""A Dask cluster for the user's work: the dask-gateway when configured, else a local one.

Inside the workspace the hub gives every user server ``DASK_GATEWAY__ADDRESS`` (and the proxy
and auth settings), so ``get_cluster()`` asks the gateway for workers next to the data; on a
laptop or in tests it starts a ``distributed.LocalCluster`` of processes, one thread each.
"""

from __future__ import annotations

import os
from typing import Any


def gateway_configured() -> bool:
    """True when dask-gateway has an address (``DASK_GATEWAY__ADDRESS`` or dask config)."""
    if os.environ.get("DASK_GATEWAY__ADDRESS"):
        return True
    import dask.config

    return bool(dask.config.get("gateway.address", None))


def get_cluster(workers: int | None = None, **options: Any) -> Any:
    """Start a cluster with ``workers`` workers (default: 2 on the gateway, one per core locally).

    ``options`` go to ``dask_gateway.Gateway().new_cluster`` (gateway cluster options) or to
    ``distributed.LocalCluster``. Close the cluster when done (it is a context manager).
    """
    if gateway_configured():
        from dask_gateway import GatewayCluster

        try:
            cluster = GatewayCluster(shutdown_on_close=True, **options)
        except Exception as err:  # the gateway's own errors are terse; say where it was
            address = os.environ.get("DASK_GATEWAY__ADDRESS", "(dask config gateway.address)")
            raise RuntimeError(f"the dask-gateway at {address} gave no cluster: {err}") from err
        cluster.scale(workers or 2)
        return cluster
    from distributed import LocalCluster

    options.setdefault("threads_per_worker", 1)  # calibrations are processes; one per core
    options.setdefault("processes", True)
    options.setdefault("dashboard_address", ":0")  # never a fixed port: users share hosts
    return LocalCluster(n_workers=workers or os.cpu_count() or 1, **options)
