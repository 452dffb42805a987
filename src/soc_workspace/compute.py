"""Dask for users: a cluster from the workspace's gateway when there is one, else local.

In the workspace ``dask_gateway.Gateway()`` needs no arguments (the hub puts the gateway's
address and the user's token in the server's environment); :func:`dask_cluster` adds clear
errors and closes everything it opened.

>>> with dask_cluster(workers=2) as client:  # doctest: +SKIP
...     total = ds.flux.mean().compute()
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

import dask.config
from distributed import Client

from .version_guard import Mode, VersionMismatchError, check_versions, kernel_environment

__all__ = [
    "GatewayAuthError",
    "VersionMismatchError",
    "check_versions",
    "dask_cluster",
    "gateway_configured",
]


class GatewayAuthError(PermissionError):
    """The Dask gateway refused the user's JupyterHub token."""


def gateway_configured() -> bool:
    """True inside the workspace (``DASK_GATEWAY__ADDRESS`` or dask config set)."""
    return bool(dask.config.get("gateway.address", None))


def translate_gateway_error(err: Exception) -> Exception:
    """The gateway answers a refused JupyterHub token with HTTP 500; say what it means."""
    from dask_gateway.client import GatewayServerError

    if isinstance(err, GatewayServerError) and "token" in str(err).lower():
        return GatewayAuthError(
            "the Dask gateway refused your JupyterHub token (dask-gateway reports this as a "
            f"server error: {err}). In the workspace, stop and start your server from the "
            "hub's home page (File > Hub Control Panel); elsewhere, use a token with the "
            "scope access:services!service=dask-gateway (JUPYTERHUB_API_TOKEN)."
        )
    return err


@contextmanager
def dask_cluster(
    workers: int = 2,
    *,
    timeout: float = 120,
    version_check: Mode | None = None,
    **options: Any,
) -> Iterator[Client]:
    """A Dask client on a new cluster of ``workers`` workers, closed on leaving.

    A gateway cluster (``options`` go to ``new_cluster``, e.g. ``worker_memory=4``) when the
    gateway is configured, else a local cluster of ``workers`` single-threaded workers. In a
    mission kernel the gateway is asked for workers in the kernel's environment.

    The scheduler's and workers' versions of Python, dask, distributed, numpy, pandas,
    xarray and the mission packages are compared with the kernel's
    (:func:`soc_workspace.version_guard.check_versions`); ``version_check`` (default: the
    setting ``dask.version_check``) says whether a mismatch refuses the cluster, warns, or
    is not looked for.
    """
    with ExitStack() as stack:
        if gateway_configured():
            from dask_gateway import Gateway

            gateway = Gateway()
            stack.callback(_close_gateway, gateway)
            environment = kernel_environment()
            if environment and "environment" not in options and _offers(gateway, "environment"):
                options["environment"] = environment
            try:
                cluster = gateway.new_cluster(**options)
            except Exception as err:
                raise translate_gateway_error(err) from err
            stack.callback(_close_gateway, cluster.gateway)
            stack.callback(cluster.close)
            cluster.scale(workers)
        else:
            from distributed import LocalCluster

            cluster = stack.enter_context(
                LocalCluster(n_workers=workers, threads_per_worker=1, dashboard_address=":0")
            )
        client = stack.enter_context(Client(cluster))
        client.wait_for_workers(workers, timeout=timeout)
        check_versions(client, version_check)  # refused: the cluster closes on the way out
        yield client


def _offers(gateway: Any, option: str) -> bool:
    """True when the gateway's cluster options have ``option``."""
    try:
        return option in gateway.cluster_options(use_local_defaults=False)
    except Exception:  # an older gateway, or no options at all
        return False


def _close_gateway(gateway: Any) -> None:
    """Close a dask-gateway client so that it stays quiet when it is garbage-collected.

    ``Gateway.__del__`` closes again, and with current distributed a second close raises
    (its loop runner has stopped), which prints a traceback into users' notebooks. A closed
    client has nothing left to clean up, so remove what ``__del__`` checks before closing.
    """
    gateway.close()
    with contextlib.suppress(AttributeError):
        del gateway._loop_runner
