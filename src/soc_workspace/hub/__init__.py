"""JupyterHub and dask-gateway configuration shared by both deployments.

Each deployment is its own package built on these, as dask-gateway's backends are on one
contract: ``soc_workspace.local`` (one machine) and ``soc_workspace.kubernetes`` (called by the
Helm chart's hub drop-in and gateway config). Nothing here knows either of them.

Names are imported on first use: the gateway's config needs no JupyterHub import, the hub's
no dask-gateway-server import.
"""

from __future__ import annotations

from .._lazy import lazy_exports

# public name -> submodule that defines it
_EXPORTS: dict[str, str] = {
    "USERNAME_PATTERN": "auth",
    "WorkspaceNativeAuthenticator": "auth",
    "configure_authenticator": "auth",
    "configure_hub": "configure",
    "user_environment": "environment",
    "ClusterLimits": "gateway",
    "ClusterLimitsMixin": "gateway",
    "GatewayService": "gateway",
    "cluster_options": "gateway",
    "configure_gateway": "gateway",
    "limits_for": "gateway",
    "stop_clusters_hook": "gateway",
    "stop_user_clusters": "gateway",
    "with_cluster_limits": "gateway",
    "GATEWAY_SERVICE": "roles",
    "OPERATOR_SERVICE": "roles",
    "add_gateway_service": "roles",
    "add_operator_service": "roles",
    "add_role": "roles",
    "configure_roles": "roles",
    "gateway_scope": "roles",
    "server_token_scopes": "roles",
    "SHARED_FOLDER": "teams",
    "TEAMS_FOLDER": "teams",
    "TEMPLATES_FOLDER": "teams",
    "team_names": "teams",
    "teams_of": "teams",
}

__all__ = sorted(_EXPORTS)

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
