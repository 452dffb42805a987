"""dask-gateway: cluster options and limits per user and group, and the hub's side of it.

The gateway reads the user's hub groups (through the user's token), so limits can differ per
team: a user gets the largest value of each limit among the defaults (``[gateway]``) and the
``gateway.group_limits`` of their groups.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from dask_gateway_server.backends.base import Backend, PublicException
from dask_gateway_server.models import ClusterStatus
from dask_gateway_server.options import Float, Integer, Options
from dask_gateway_server.traitlets import Callable as CallableTrait
from pydantic import ValidationError
from traitlets import Integer as IntegerTrait
from traitlets import Union
from traitlets.config import Config, LoggingConfigurable

from ..config import GroupLimits, Settings, current_settings, parse_memory
from .roles import GATEWAY_SERVICE, gateway_scope

log = logging.getLogger(__name__)

GIB = 2**30

HubLimits = Mapping[str, Mapping[str, Any]]
"""``{group: limits}`` set in the hub's group properties."""


@dataclass(frozen=True)
class ClusterLimits:
    """What one user's Dask clusters may use (0 for max_clusters_per_user: no limit)."""

    max_workers: int
    max_cores: float
    max_memory: int
    max_clusters_per_user: int


def limits_for(
    settings: Settings,
    groups: Iterable[str] = (),
    hub_limits: HubLimits | None = None,
) -> ClusterLimits:
    """The limits of a member of ``groups``.

    ``hub_limits`` (``{group: limits}``, from the hub's group properties, see
    :class:`HubGroups`) are set through the hub, e.g. by a workshop for its participants: for
    members of those groups they replace the defaults (the largest among such groups), so
    they can be smaller than the defaults. The settings' ``gateway.group_limits`` then apply
    on top: the largest of those and what the member already has.
    """
    g = settings.gateway
    defaults = {
        "max_workers": g.max_workers,
        "max_cores": g.max_cores,
        "max_memory": parse_memory(g.max_memory),
        "max_clusters_per_user": g.max_clusters_per_user,
    }
    groups = list(groups)
    limits = dict(defaults)
    replacing = [_valid(name, (hub_limits or {}).get(name)) for name in groups]
    replacing = [extra for extra in replacing if extra is not None]
    if replacing:
        limits = _largest([{**defaults, **_parsed(extra)} for extra in replacing])
    for group in groups:
        extra = g.group_limits.get(group)
        if extra is not None:
            limits = _largest([limits, {**limits, **_parsed(extra.model_dump(exclude_none=True))}])
    return ClusterLimits(**limits)


def workers_that_fit(settings: Settings, limits: ClusterLimits) -> int:
    """How many workers of the default size a cluster within ``limits`` may have.

    dask-gateway's own rule (its ClusterConfig): the scheduler's core and memory count
    against the cluster's limits too. 0 when not even the scheduler fits.
    """
    from dask_gateway_server.backends.base import ClusterConfig

    g = settings.gateway
    try:
        config = ClusterConfig(
            worker_cores=min(g.worker_cores, max(1, int(limits.max_cores))),
            worker_memory=min(parse_memory(g.worker_memory), limits.max_memory),
            cluster_max_cores=limits.max_cores,
            cluster_max_memory=limits.max_memory,
            cluster_max_workers=limits.max_workers,
        )
    except ValueError:
        return 0
    return int(config.cluster_max_workers or 0)


def _parsed(extra: Mapping[str, Any]) -> dict[str, Any]:
    return {k: parse_memory(v) if k == "max_memory" else v for k, v in extra.items()}


def _largest(candidates: list[dict[str, Any]]) -> dict[str, Any]:
    merged = dict(candidates[0])
    for candidate in candidates[1:]:
        for key, value in candidate.items():
            if key == "max_clusters_per_user" and (value == 0 or merged[key] == 0):
                merged[key] = 0  # 0 means unlimited, which is the largest
            else:
                merged[key] = max(merged[key], value)
    return merged


def _valid(group: str, extra: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """A group's limits from the hub, checked like settings; bad ones are logged, not used."""
    if extra is None:
        return None
    try:
        return GroupLimits(**extra).model_dump(exclude_none=True)
    except (ValidationError, TypeError) as err:
        log.warning("Ignoring the Dask limits in the properties of group %s: %s", group, err)
        return None


def cluster_options(
    settings: Settings, hub_groups: HubGroups | None = None
) -> Callable[[Any], Options | Awaitable[Options]]:
    """The options users may set on ``Gateway.new_cluster(...)``, bounded by their limits.

    For ``c.Backend.cluster_options`` of any dask-gateway backend: worker cores and memory
    (GiB) within the user's limits; the handler also sets the cluster's maximum workers,
    cores and memory, and the idle timeout. With ``hub_groups`` the limits the hub's groups
    set are read first (the function is then a coroutine function, which dask-gateway awaits).
    """
    g = settings.gateway

    def options_for(
        user: Any, hub_limits: Mapping[str, Mapping[str, Any]] | None = None
    ) -> Options:
        limits = limits_for(settings, getattr(user, "groups", ()), hub_limits)
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

    if hub_groups is None:
        return options_for

    async def options_from_hub(user: Any) -> Options:
        return options_for(user, await hub_groups.limits(getattr(user, "groups", ())))

    return options_from_hub


class HubGroups:
    """The Dask limits hub groups set in their properties, read with the gateway's hub token.

    The gateway's service token needs ``read:groups`` (:func:`.roles.configure_roles`). Each
    group is read at most every ``max_age`` seconds; a hub that does not answer leaves the
    limits of the last read (or none) and is logged.
    """

    def __init__(self, api_url: str, token: str, *, max_age: float = 30.0) -> None:
        self.api_url = api_url.rstrip("/")
        self.token = token
        self.max_age = max_age
        self._read: dict[str, tuple[float, dict[str, Any] | None]] = {}

    @classmethod
    def from_environment(cls, api_url: str | None = None) -> HubGroups | None:
        """From the hub's variables of a hub service (None outside one)."""
        api_url = api_url or os.environ.get("JUPYTERHUB_API_URL")
        token = os.environ.get("JUPYTERHUB_API_TOKEN")
        return cls(api_url, token) if api_url and token else None

    def cached(self, groups: Iterable[str]) -> dict[str, dict[str, Any]]:
        """The limits last read for ``groups`` (for code that cannot wait)."""
        found = {name: self._read.get(name, (0.0, None))[1] for name in groups}
        return {name: limits for name, limits in found.items() if limits is not None}

    async def limits(self, groups: Iterable[str]) -> dict[str, dict[str, Any]]:
        groups = list(groups)
        now = time.monotonic()
        stale = [n for n in groups if now - self._read.get(n, (-1e9, None))[0] > self.max_age]
        if stale:
            import aiohttp

            headers = {"Authorization": f"token {self.token}"}
            timeout = aiohttp.ClientTimeout(total=10)
            async with aiohttp.ClientSession(headers=headers, timeout=timeout) as session:
                for name in stale:
                    await self._fetch(session, name)
        return self.cached(groups)

    async def _fetch(self, session: Any, name: str) -> None:
        from .workshops import LIMITS_KEY

        url = f"{self.api_url}/groups/{quote(name)}"
        try:
            async with session.get(url) as response:
                if response.status == 404:
                    self._read[name] = (time.monotonic(), None)
                    return
                response.raise_for_status()
                group = await response.json()
        except Exception as err:  # the hub restarting: keep what was read before
            log.warning("Could not read hub group %s for its Dask limits: %s", name, err)
            return
        limits = (group.get("properties") or {}).get(LIMITS_KEY)
        self._read[name] = (time.monotonic(), limits if isinstance(limits, dict) else None)


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

    JupyterHub authentication, cluster options and limits from ``[gateway]`` and from the
    hub's group properties (:class:`HubGroups`, when the gateway runs as a hub service), the
    idle timeout, and the most clusters per user (for a backend made with
    :func:`with_cluster_limits`). The backend and its addresses are the deployment's
    (``soc_workspace.local`` on one machine, the dask-gateway chart on Kubernetes).
    """
    settings = settings or current_settings()
    g = settings.gateway
    c.DaskGateway.authenticator_class = "dask_gateway_server.auth.JupyterHubAuthenticator"
    hub_groups = HubGroups.from_environment(c.JupyterHubAuthenticator.get("jupyterhub_api_url"))
    c.Backend.cluster_options = cluster_options(settings, hub_groups)
    c.ClusterConfig.worker_cores = g.worker_cores
    c.ClusterConfig.worker_memory = parse_memory(g.worker_memory)
    c.ClusterConfig.idle_timeout = g.idle_timeout
    c.ClusterLimitsMixin.max_clusters = max_clusters_for(settings, hub_groups)


def max_clusters_for(settings: Settings, hub_groups: HubGroups | None) -> Callable[[Any], int]:
    """``ClusterLimitsMixin.max_clusters``: from the limits the user's options were made with."""

    def max_clusters(user: Any) -> int:
        groups = getattr(user, "groups", ())
        hub_limits = hub_groups.cached(groups) if hub_groups else None
        return limits_for(settings, groups, hub_limits).max_clusters_per_user

    return max_clusters


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
