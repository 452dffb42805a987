"""Roles, scopes and services of the hub: who may use the Dask gateway, and the operator's token.

JupyterHub's ``load_roles`` and ``services`` are lists that other configuration (the Helm
chart's own drop-ins, zero-to-jupyterhub) may fill as well, so entries are merged by name
rather than replaced.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from traitlets.config import Config

GATEWAY_SERVICE = "dask-gateway"
"""Name of the dask-gateway service in the hub (its URL prefix is /services/<name>)."""

OPERATOR_SERVICE = "soc-workspace"
"""Name of the service whose API token operators and our tools (workshops) use."""

OPERATOR_ROLE = "soc-workspace-operator"

# What the operator's token may do: manage users, groups, servers and tokens, use services.
# Not "shutdown" and not "admin:services": the hub itself stays under the deployment's control.
OPERATOR_SCOPES = (
    "admin:users",
    "admin:groups",
    "admin:servers",
    "tokens",
    "access:servers",
    "access:services",
    "list:services",
    "read:services",
    "read:hub",
    "read:roles",
    "read:metrics",
    "shares",
    "admin:server_state",  # how many attempts a server's start took (workshop rehearsals)
)


def gateway_scope(service: str = GATEWAY_SERVICE) -> str:
    """The scope a token needs to use the gateway (dask-gateway checks it)."""
    return f"access:services!service={service}"


def server_token_scopes(service: str = GATEWAY_SERVICE) -> list[str]:
    """Scopes of a user's server token ($JUPYTERHUB_API_TOKEN inside their server).

    JupyterHub's defaults for a server, plus the gateway (``dask_gateway.Gateway()``
    authenticates with this token; without the scope it answers 401), plus the user's own
    name and groups, which the gateway reads to choose the user's limits.
    """
    return [
        "access:servers!server",
        "users:activity!user",
        "read:users:name!user",
        "read:users:groups!user",
        gateway_scope(service),
    ]


def add_role(
    c: Config,
    name: str,
    *,
    scopes: Iterable[str] = (),
    users: Iterable[str] = (),
    groups: Iterable[str] = (),
    services: Iterable[str] = (),
    description: str | None = None,
) -> dict[str, Any]:
    """Add a role to ``c.JupyterHub.load_roles``, or extend the one of that name."""
    roles: list[dict[str, Any]] = list(c.JupyterHub.get("load_roles", []))
    role = next((r for r in roles if r.get("name") == name), None)
    if role is None:
        role = {"name": name}
        roles.append(role)
    for key, values in (("scopes", scopes), ("users", users), ("groups", groups)):
        _extend(role, key, values)
    _extend(role, "services", services)
    if description and not role.get("description"):
        role["description"] = description
    c.JupyterHub.load_roles = roles
    return role


def add_service(c: Config, service: Mapping[str, Any]) -> None:
    """Add a service to ``c.JupyterHub.services``, replacing one of the same name."""
    services = [s for s in c.JupyterHub.get("services", []) if s.get("name") != service["name"]]
    services.append(dict(service))
    c.JupyterHub.services = services


GATEWAY_ROLE = "soc-workspace-gateway"


def configure_roles(c: Config, *, gateway_service: str = GATEWAY_SERVICE) -> None:
    """Every user may use the gateway, from the browser and from inside their server; the
    gateway may read groups (the Dask limits a group's properties set, e.g. a workshop's)."""
    add_role(
        c,
        "user",
        scopes=["self", gateway_scope(gateway_service)],
        description="Standard user privileges, and the Dask gateway",
    )
    add_role(
        c,
        GATEWAY_ROLE,
        scopes=["read:groups"],
        services=[gateway_service],
        description="dask-gateway reads the Dask limits of hub groups",
    )
    c.Spawner.server_token_scopes = server_token_scopes(gateway_service)


def add_gateway_service(
    c: Config,
    *,
    url: str,
    command: Sequence[str] | None = None,
    environment: Mapping[str, str] | None = None,
    api_token: str | None = None,
    name: str = GATEWAY_SERVICE,
) -> None:
    """Register dask-gateway with the hub.

    With ``command`` the hub starts and stops it (a hub-managed service, as on one machine);
    without, it runs elsewhere (Kubernetes) and authenticates with ``api_token``. Either way
    the hub's proxy routes /services/<name>/ to ``url``.
    """
    # No consent page: the hub's own users log in to dashboards through this service.
    service: dict[str, Any] = {"name": name, "url": url, "display": False, "oauth_no_confirm": True}
    if command:
        service["command"] = list(command)
        service["environment"] = dict(environment or {})
    if api_token:
        service["api_token"] = api_token
    add_service(c, service)


def add_operator_service(c: Config, api_token: str, *, name: str = OPERATOR_SERVICE) -> None:
    """A service holding the operator's API token (written to connection.json locally)."""
    add_service(c, {"name": name, "api_token": api_token, "display": False})
    add_role(
        c,
        OPERATOR_ROLE,
        scopes=OPERATOR_SCOPES,
        services=[name],
        description="soc-workspace tools: users, groups, servers, tokens",
    )


def _extend(role: dict[str, Any], key: str, values: Iterable[str]) -> None:
    values = list(values)
    if not values:
        return
    merged = list(role.get(key, []))
    merged += [v for v in values if v not in merged]
    role[key] = merged
