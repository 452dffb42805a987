"""dask-gateway: cluster options and limits per user and group, and the hub's side of it.

The gateway reads the user's hub groups (through the user's token), so limits can differ per
team: a user gets the largest value of each limit among the defaults (``[gateway]``) and the
``gateway.group_limits`` of their groups.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from dask_gateway_server.backends.base import Backend, PublicException
from dask_gateway_server.models import ClusterStatus
from dask_gateway_server.options import Float, Integer, Options
from dask_gateway_server.traitlets import Callable as CallableTrait
from traitlets import Integer as IntegerTrait
from traitlets import Union
from traitlets.config import Config, LoggingConfigurable

from ..config import Settings, current_settings, parse_memory
from .roles import GATEWAY_SERVICE, gateway_scope

log = logging.getLogger(__name__)

GIB = 2**30


@dataclass(frozen=True)
class ClusterLimits:
    """What one user's Dask clusters may use (0 for max_clusters_per_user: no limit)."""

    max_workers: int
    max_cores: float
    max_memory: int
    max_clusters_per_user: int


def limits_for(settings: Settings, groups: Iterable[str] = ()) -> ClusterLimits:
    """The limits of a member of ``groups``: the largest of the defaults and each group's."""
    g = settings.gateway
    limits = {
        "max_workers": g.max_workers,
        "max_cores": g.max_cores,
        "max_memory": parse_memory(g.max_memory),
        "max_clusters_per_user": g.max_clusters_per_user,
    }
    for group in groups:
        extra = g.group_limits.get(group)
        if extra is None:
            continue
        for key, value in extra.model_dump(exclude_none=True).items():
            value = parse_memory(value) if key == "max_memory" else value
            if key == "max_clusters_per_user" and (value == 0 or limits[key] == 0):
                limits[key] = 0  # 0 means unlimited, which is the largest
            else:
                limits[key] = max(limits[key], value)
    return ClusterLimits(**limits)


def cluster_options(settings: Settings) -> Callable[[Any], Options]:
    """The options users may set on ``Gateway.new_cluster(...)``, bounded by their limits.

    For ``c.Backend.cluster_options`` of any dask-gateway backend: worker cores and memory
    (GiB) within the user's limits; the handler also sets the cluster's maximum workers,
    cores and memory, and the idle timeout.
    """
    g = settings.gateway

    def options_for(user: Any) -> Options:
        limits = limits_for(settings, getattr(user, "groups", ()))
        max_cores = max(1, int(limits.max_cores))
        max_memory = limits.max_memory / GIB
        default_memory = min(parse_memory(g.worker_memory) / GIB, max_memory)

        def handler(options: Any) -> dict[str, Any]:
            return {
                "worker_cores": options.worker_cores,
                "worker_memory": int(options.worker_memory * GIB),
                "cluster_max_workers": limits.max_workers,
                "cluster_max_cores": limits.max_cores,
                "cluster_max_memory": limits.max_memory,
                "idle_timeout": g.idle_timeout,
            }

        return Options(
            Integer(
                "worker_cores",
                default=min(g.worker_cores, max_cores),
                min=1,
                max=max_cores,
                label="Worker cores",
            ),
            Float(
                "worker_memory",
                default=default_memory,
                min=0.25,
                max=max_memory,
                label="Worker memory (GiB)",
            ),
            handler=handler,
        )

    return options_for


class ClusterLimitsMixin(LoggingConfigurable):
    """Mix into a dask-gateway backend: refuse a user's cluster beyond their maximum number.

    ``max_clusters`` is a number or a function of the gateway user (0: no limit).
    """

    max_clusters = Union(
        [IntegerTrait(0, min=0), CallableTrait()],
        default_value=0,
        config=True,
        help="Most clusters one user may run at once (0: no limit), or a function of the user.",
    )

    async def start_cluster(self, user: Any, cluster_options: dict[str, Any]) -> str:
        limit = self.max_clusters(user) if callable(self.max_clusters) else self.max_clusters
        if limit:
            active = await self.list_clusters(  # type: ignore[attr-defined]
                username=user.name, statuses=[ClusterStatus.PENDING, ClusterStatus.RUNNING]
            )
            if len(active) >= limit:
                raise PublicException(
                    f"{user.name} already runs {len(active)} Dask cluster(s), the most allowed "
                    f"(gateway.max_clusters_per_user = {limit}): close one first, e.g. "
                    "cluster.close() or Gateway().stop_cluster(name)"
                )
        return await super().start_cluster(user, cluster_options)  # type: ignore[misc]


def with_cluster_limits(backend_class: type[Backend]) -> type[Backend]:
    """A subclass of any dask-gateway backend class that enforces ``max_clusters``.

    E.g. on Kubernetes: ``c.DaskGateway.backend_class = with_cluster_limits(KubeBackend)``.
    """
    return type(f"Limited{backend_class.__name__}", (ClusterLimitsMixin, backend_class), {})


def configure_gateway(c: Config, settings: Settings | None = None) -> None:
    """Fill a ``dask_gateway_config.py``'s ``c`` with what every deployment shares.

    JupyterHub authentication, cluster options and limits from ``[gateway]``, the idle
    timeout, and the most clusters per user (for a backend made with
    :func:`with_cluster_limits`). The backend and its addresses are the deployment's
    (``soc_workspace.local`` on one machine, the dask-gateway chart on Kubernetes).
    """
    settings = settings or current_settings()
    g = settings.gateway
    c.DaskGateway.authenticator_class = "dask_gateway_server.auth.JupyterHubAuthenticator"
    c.Backend.cluster_options = cluster_options(settings)
    c.ClusterConfig.worker_cores = g.worker_cores
    c.ClusterConfig.worker_memory = parse_memory(g.worker_memory)
    c.ClusterConfig.idle_timeout = g.idle_timeout
    c.ClusterLimitsMixin.max_clusters = lambda user: (
        limits_for(settings, getattr(user, "groups", ())).max_clusters_per_user
    )


# -- the hub's side ---------------------------------------------------------------------------


@dataclass(frozen=True)
class GatewayService:
    """The gateway as the hub and users' servers see it.

    ``command`` set: the hub runs the gateway (one machine); unset: it runs elsewhere
    (Kubernetes) and ``api_token`` is the token it was given.
    """

    address: str
    """The HTTP API users' servers use: the hub's URL + /services/dask-gateway."""
    proxy_address: str
    """``gateway://host:port``: scheduler traffic from users' servers."""
    url: str
    """Where the hub's proxy sends /services/dask-gateway/ (the gateway's HTTP proxy)."""
    public_address: str | None = None
    """The gateway as browsers reach it (dashboard links); default ``address``."""
    command: Sequence[str] | None = None
    environment: Mapping[str, str] = field(default_factory=dict)
    api_token: str | None = None
    name: str = GATEWAY_SERVICE


async def stop_user_clusters(
    user: Any, gateway_address: str, *, service: str = GATEWAY_SERVICE, timeout: float = 10.0
) -> list[str]:
    """Stop every pending or running cluster of a hub user; return their names.

    Runs inside the hub: it makes a short-lived token for the user that may only use the
    gateway, because the gateway lets a user see and stop their own clusters only.
    """
    from jupyterhub import orm
    from tornado.httpclient import AsyncHTTPClient

    token = user.new_api_token(
        scopes=[gateway_scope(service)],
        expires_in=300,
        note="soc-workspace: stop Dask clusters when the server stops",
    )
    client = AsyncHTTPClient()
    headers = {"Authorization": f"jupyterhub {token}"}
    base = gateway_address.rstrip("/") + "/api/v1/clusters/"
    try:
        response = await client.fetch(
            base + "?status=pending,running", headers=headers, request_timeout=timeout
        )
        names = sorted(json.loads(response.body))
        for name in names:
            await client.fetch(
                base + name, method="DELETE", headers=headers, request_timeout=timeout
            )
        return names
    finally:
        found = orm.APIToken.find(user.db, token)
        if found is not None:
            user.db.delete(found)
            user.db.commit()


def stop_clusters_hook(
    gateway_address: str, *, service: str = GATEWAY_SERVICE, previous: Any = None
) -> Callable[[Any], Any]:
    """A ``Spawner.post_stop_hook`` that stops the user's clusters with their server.

    ``previous`` (another post_stop_hook) runs first.
    """

    async def post_stop_hook(spawner: Any) -> None:
        if previous is not None:
            result = previous(spawner)
            if hasattr(result, "__await__"):
                await result
        try:
            stopped = await stop_user_clusters(spawner.user, gateway_address, service=service)
        except Exception as err:  # the gateway may be stopping too (hub shutdown)
            spawner.log.warning(
                "Could not stop the Dask clusters of %s with their server: %s",
                spawner.user.name,
                err,
            )
            return
        if stopped:
            spawner.log.info(
                "Stopped %d Dask cluster(s) of %s with their server: %s",
                len(stopped),
                spawner.user.name,
                ", ".join(stopped),
            )

    return post_stop_hook
