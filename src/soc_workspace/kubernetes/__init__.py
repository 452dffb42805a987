"""soc-workspace on Kubernetes: what the Helm chart's hub drop-in and gateway config call.

The chart (helm/soc-workspace) runs this package inside the jupyterhub and dask-gateway
charts: :func:`configure_hub` from the hub's ``jupyterhub_config.d`` (KubeSpawner), and
:func:`configure_gateway` from the gateway's ``extraConfig`` (the Kubernetes backend). Both
build on :mod:`soc_workspace.hub`, which the one-machine workspace (:mod:`soc_workspace.local`)
shares, and read the chart's settings (:mod:`.settings`) again at every start.
"""

from __future__ import annotations

from .._lazy import lazy_exports

_EXPORTS: dict[str, str] = {
    "ChartSettings": "settings",
    "KubernetesSettings": "settings",
    "SettingsConfigMap": "settings",
    "SettingsFiles": "settings",
    "check_image": "settings",
    "CHECKSUM_ANNOTATION": "spawner",
    "PROFILE_LABEL": "spawner",
    "configure_hub": "spawner",
    "prepare_server": "spawner",
    "profile_list": "spawner",
    "configure_gateway": "gateway",
}

__all__ = sorted(_EXPORTS)

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
