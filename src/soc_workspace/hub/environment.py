"""The environment of users' servers: where the gateway, the store and the catalog are.

With these variables ``soc_workspace`` (settings) and ``dask_gateway.Gateway()`` (dask config)
work in a notebook with no arguments.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from ..config import Settings


def user_environment(
    settings: Settings,
    *,
    gateway_address: str,
    gateway_proxy_address: str,
    gateway_public_address: str | None = None,
    store_environment: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """Variables for every user's server.

    Parameters
    ----------
    gateway_address
        The gateway's HTTP API as the server reaches it: the hub's URL +
        ``/services/dask-gateway``.
    gateway_proxy_address
        Where scheduler traffic goes, ``gateway://host:port``: the gateway's TCP proxy (the
        hub's HTTP proxy cannot carry it).
    gateway_public_address
        The gateway as a browser reaches it (dashboard links). Default: ``gateway_address``.
    store_environment
        Extra variables for the object store, e.g. the embedded store's endpoint and keys.
    """
    env = {
        "DASK_GATEWAY__ADDRESS": gateway_address,
        "DASK_GATEWAY__PROXY_ADDRESS": gateway_proxy_address,
        "DASK_GATEWAY__PUBLIC_ADDRESS": gateway_public_address or gateway_address,
        "DASK_GATEWAY__AUTH__TYPE": "jupyterhub",
        "SOC_WORKSPACE__STAGE": settings.stage,
        "SOC_WORKSPACE__STORE__CREDENTIALS": settings.store.credentials,
        "SOC_WORKSPACE__STORE__REGION": settings.store.region,
        "SOC_WORKSPACE__SCRATCH__URL": settings.scratch.url,
        # Panel and Bokeh JavaScript served inline: SOC networks often reach no public CDN.
        "PANEL_INLINE": "true",
    }
    if settings.store.endpoint_url:
        env["SOC_WORKSPACE__STORE__ENDPOINT_URL"] = settings.store.endpoint_url
    if settings.store.profile:
        env["SOC_WORKSPACE__STORE__PROFILE"] = settings.store.profile
    if settings.catalog.url:
        env["SOC_WORKSPACE__CATALOG__URL"] = settings.catalog.url
    env.update(calibration_environment(settings))
    env.update(store_environment or {})
    return env


def calibration_environment(settings: Settings) -> dict[str, str]:
    """The operator's mission environments, so users' reruns find the same interpreters."""
    calibration = settings.calibration
    env = {"SOC_WORKSPACE__CALIBRATION__ENVIRONMENTS": json.dumps(calibration.environments)}
    if calibration.environments_dir:
        env["SOC_WORKSPACE__CALIBRATION__ENVIRONMENTS_DIR"] = str(
            calibration.resolved_environments_dir.absolute()
        )
    if calibration.packages:
        env["SOC_WORKSPACE__CALIBRATION__PACKAGES"] = json.dumps(calibration.packages)
    if calibration.jupyter_data_dir:
        # the mission kernels `env create` registered there appear in users' launchers
        env["SOC_WORKSPACE__CALIBRATION__JUPYTER_DATA_DIR"] = calibration.jupyter_data_dir
        env["JUPYTER_PATH"] = calibration.jupyter_data_dir
    return env
