"""The gateway on Kubernetes: the dask-gateway chart's API server, set up from the chart's
settings.

:func:`configure_gateway` is called from the dask-gateway chart's ``gateway.extraConfig``
(after the chart's own ``dask_gateway_config.py`` chose the Kubernetes backend and its
addresses). soc_workspace.hub decides options and limits per group, as on one machine; here
every cluster gets the notebook image, the user ServiceAccount and the soc-workspace settings,
read from the chart's settings ConfigMap at every new cluster.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Mapping
from typing import Any

from traitlets.config import Config

from ..hub.cluster_environments import with_environment_option
from ..hub.gateway import cluster_options, limits_for, with_cluster_limits
from ..hub.gateway import configure_gateway as configure_shared_gateway
from .settings import SETTINGS_CONFIGMAP_VARIABLE, ChartSettings, SettingsConfigMap, check_image
from .spawner import server_environment


def cluster_overrides(chart: ChartSettings, base: Mapping[str, Any]) -> dict[str, Any]:
    """What every cluster gets on Kubernetes, on top of soc_workspace.hub's options handler.

    ``base`` holds the KubeClusterConfig values the dask-gateway chart set (extra pod config,
    environment), which are kept and extended.
    """
    k = chart.kubernetes
    pod = {"serviceAccountName": k.service_account, "automountServiceAccountToken": False}
    # The settings soc_workspace reads in workers (store, scratch, catalog), as in servers.
    settings_env = {
        key: value
        for key, value in server_environment(chart).items()
        if key.startswith("SOC_WORKSPACE__")
    }
    return {
        "image": check_image(k.image),
        "scheduler_extra_pod_config": {**base.get("scheduler_extra_pod_config", {}), **pod},
        "worker_extra_pod_config": {**base.get("worker_extra_pod_config", {}), **pod},
        "environment": {**base.get("environment", {}), **settings_env},
    }


IMAGE_KERNELS = "/opt/kernels"
"""Where the notebook image keeps its mission environments (images/notebook/Dockerfile)."""


def image_environments(chart: ChartSettings) -> dict[str, str]:
    """The image's mission kernels the chart's profiles offer -> their ``dask`` command."""
    names = {kernel for profile in chart.kubernetes.profiles.values() for kernel in profile.kernels}
    return {name: f"{IMAGE_KERNELS}/{name}/bin/dask" for name in sorted(names)}


def kubernetes_cluster_options(
    source: SettingsConfigMap, base: Mapping[str, Any]
) -> Callable[[Any], Any]:
    """``c.Backend.cluster_options``: soc_workspace.hub's options, from the current settings,
    and ``environment`` (a mission kernel of the image runs its cluster in its environment)."""

    async def options_for(user: Any) -> Any:
        chart = await source.current()
        options = cluster_options(chart.settings)(user)
        handler = options.handler
        extra = cluster_overrides(chart, base)

        def kubernetes_handler(values: Any, user: Any) -> dict[str, Any]:
            config = handler(values, user)
            # Limits equal to requests: Kubernetes refuses a request above its limit.
            config["worker_cores_limit"] = config["worker_cores"]
            config["worker_memory_limit"] = config["worker_memory"]
            return {**config, **extra}

        options.handler = kubernetes_handler
        return await with_environment_option(options, lambda: image_environments(chart))(user)

    return options_for


def configure_gateway(
    c: Config, *, configmap: str | None = None, source: SettingsConfigMap | None = None
) -> None:
    """Configure the dask-gateway chart's API server (called from its ``extraConfig``).

    soc_workspace.hub's gateway configuration (JupyterHub login, options and limits per group,
    idle timeout, most clusters per user), read from the chart's settings ConfigMap at every
    new cluster; and Kubernetes' part: every scheduler and worker runs the notebook image
    (exactly; an untagged or ``latest`` image is refused) with the user ServiceAccount and the
    soc-workspace settings.
    """
    from dask_gateway_server.backends.kubernetes import KubeBackend

    if source is None:
        name = configmap or os.environ.get(SETTINGS_CONFIGMAP_VARIABLE)
        if not name:
            raise ValueError(
                f"{SETTINGS_CONFIGMAP_VARIABLE} is not set: the chart's values set it in "
                "dask-gateway.gateway.env to the name of its settings ConfigMap"
            )
        source = SettingsConfigMap(name)
    chart = _read_now(source)
    configure_shared_gateway(c, chart.settings if chart else None)
    c.DaskGateway.backend_class = with_cluster_limits(KubeBackend)
    base = {
        key: c.KubeClusterConfig.get(key, {})
        for key in ("scheduler_extra_pod_config", "worker_extra_pod_config", "environment")
    }
    c.Backend.cluster_options = kubernetes_cluster_options(source, base)

    def max_clusters(user: Any) -> int:
        # options_for() has just read the settings for this user's request
        current = source.cached or chart
        if current is None:
            return 0
        return limits_for(current.settings, getattr(user, "groups", ())).max_clusters_per_user

    c.ClusterLimitsMixin.max_clusters = max_clusters
    if chart is not None:
        c.KubeClusterConfig.image = check_image(chart.kubernetes.image)


def _read_now(source: SettingsConfigMap) -> ChartSettings | None:
    """Read the settings while the gateway loads its config, so a bad ConfigMap fails early."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(source.current())
    return None  # inside a running loop (tests): read at the first cluster instead
