"""soc-workspace on Kubernetes: KubeSpawner and the dask-gateway Kubernetes backend.

The Helm chart (helm/soc-workspace) renders two files from its values
(templates/_settings.tpl):

- ``config.toml``: soc-workspace settings, the same the one-machine workspace reads, so the
  decisions of :mod:`soc_workspace.hub` (roles, user environment, gateway options and limits,
  team folders) are the same in both deployments;
- ``kubernetes.json``: what only Kubernetes needs (the chart's object names, resources and
  kernels per profile, the team volumes), read into :class:`KubernetesSettings`.

The hub mounts them at ``/etc/soc-workspace`` (:func:`configure_hub`, called by the chart's
drop-in in ``jupyterhub_config.d``); the gateway reads them from the ConfigMap through the
Kubernetes API (:func:`configure_gateway`, called from ``gateway.extraConfig``). Both read
them again for every server and every cluster, so a ``helm upgrade`` of the settings applies
at the next start without restarting the hub or the gateway.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import re
import time
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError
from pydantic.alias_generators import to_camel
from traitlets.config import Config

from ..config import Settings
from .environment import user_environment
from .gateway import GatewayService, limits_for, stop_clusters_hook
from .roles import GATEWAY_SERVICE, add_gateway_service, configure_roles
from .teams import SHARED_FOLDER, TEAMS_FOLDER, TEMPLATES_FOLDER, teams_of

log = logging.getLogger(__name__)

SETTINGS_DIR = Path("/etc/soc-workspace")
"""Where the hub mounts the chart's settings ConfigMap (the folder of SOC_WORKSPACE_CONFIG)."""
USER_SETTINGS_DIR = "/etc/soc-workspace"
"""Where users' servers mount the chart's user ConfigMap (config.toml, catalogs/)."""
IMAGE_TEMPLATES = "/usr/local/share/soc-workspace/templates"
"""The notebook templates inside the notebook image (images/notebook/Dockerfile)."""
SETTINGS_CONFIGMAP_VARIABLE = "SOC_WORKSPACE_SETTINGS_CONFIGMAP"
CHECKSUM_ANNOTATION = "soc-workspace.org/settings-checksum"
PROFILE_LABEL = "soc-workspace.org/profile"


# -- the chart's kubernetes.json --------------------------------------------------------------


class _Model(BaseModel):
    model_config = ConfigDict(
        extra="forbid", frozen=True, alias_generator=to_camel, populate_by_name=True
    )


class _Cpu(_Model):
    guarantee: float
    limit: float


class _Memory(_Model):
    guarantee: str
    limit: str


class Profile(_Model):
    """A server size of the chart's ``profiles``."""

    display_name: str
    description: str
    default: bool
    order: int
    cpu: _Cpu
    memory: _Memory
    kernels: list[str]
    groups: list[str]
    node_selector: dict[str, str] = {}
    tolerations: list[dict[str, Any]] = []


class _Jupyter(_Model):
    local_dir: str
    local_dir_size_limit: str
    kernel_idle_timeout_seconds: int


class _Gateway(_Model):
    service_url: str
    address: str
    proxy_address: str
    public_address: str
    stop_clusters_with_server: bool


class _Shared(_Model):
    enabled: bool
    claim_name: str


class _Teams(_Model):
    enabled: bool
    claims: dict[str, str]
    shared: _Shared


class _Workshop(_Model):
    profile: str
    priority_class_name: str


class KubernetesSettings(_Model):
    """What the chart tells the hub and the gateway about its Kubernetes objects."""

    release: str
    namespace: str
    image: str
    service_account: str
    user_config_map: str
    catalog_files: list[str]
    home_mount_path: str
    profiles: dict[str, Profile]
    jupyter: _Jupyter
    gateway: _Gateway
    teams: _Teams
    workshop: _Workshop | None = None


@dataclass(frozen=True)
class ChartSettings:
    """Both files of the chart's settings, parsed, with a checksum of their text."""

    settings: Settings
    kubernetes: KubernetesSettings
    checksum: str

    @classmethod
    def parse(cls, config_toml: str, kubernetes_json: str, *, source: str) -> ChartSettings:
        """Parse the two files; an error names ``source`` and the bad setting."""
        try:
            settings = Settings(**tomllib.loads(config_toml))
        except (tomllib.TOMLDecodeError, ValidationError) as err:
            raise ValueError(
                f"{source}: config.toml is not valid soc-workspace settings: {err}"
            ) from None
        try:
            kubernetes = KubernetesSettings.model_validate_json(kubernetes_json)
        except ValidationError as err:
            raise ValueError(f"{source}: kubernetes.json does not match the chart: {err}") from None
        check_image(kubernetes.image)
        digest = hashlib.sha256((config_toml + "\0" + kubernetes_json).encode()).hexdigest()
        return cls(settings, kubernetes, digest[:16])


class SettingsFiles:
    """The chart's settings as the hub sees them: files kept current by the kubelet."""

    def __init__(self, directory: Path | str = SETTINGS_DIR) -> None:
        self.directory = Path(directory)
        self._last: tuple[str, str, ChartSettings] | None = None

    def current(self) -> ChartSettings:
        """The settings now (re-parsed only when the files changed)."""
        config = (self.directory / "config.toml").read_text()
        kubernetes = (self.directory / "kubernetes.json").read_text()
        if self._last is None or self._last[:2] != (config, kubernetes):
            parsed = ChartSettings.parse(config, kubernetes, source=str(self.directory))
            self._last = (config, kubernetes, parsed)
        return self._last[2]


class SettingsConfigMap:
    """The chart's settings as the gateway sees them: its ConfigMap, read through the API.

    ``fetch`` (for tests) returns the ConfigMap's data; by default the Kubernetes API is asked
    with the pod's service account, which the chart lets read this one ConfigMap.
    """

    def __init__(
        self,
        name: str,
        namespace: str | None = None,
        *,
        max_age: float = 30.0,
        fetch: Callable[[], Any] | None = None,
    ) -> None:
        self.name = name
        self.namespace = namespace or _pod_namespace()
        self.max_age = max_age
        self._fetch = fetch or self._fetch_from_api
        self._cached: ChartSettings | None = None
        self._read_at = -float("inf")
        self._lock = asyncio.Lock()

    @property
    def cached(self) -> ChartSettings | None:
        """The settings last read, if any (for callers that cannot wait)."""
        return self._cached

    async def current(self) -> ChartSettings:
        async with self._lock:
            if self._cached is None or time.monotonic() - self._read_at > self.max_age:
                data = self._fetch()
                if hasattr(data, "__await__"):
                    data = await data
                self._cached = self._parse(data)
                self._read_at = time.monotonic()
            return self._cached

    def _parse(self, data: Mapping[str, str] | None) -> ChartSettings:
        source = f"ConfigMap {self.namespace}/{self.name}"
        missing = [key for key in ("config.toml", "kubernetes.json") if key not in (data or {})]
        if missing:
            raise ValueError(f"{source} has no {', '.join(missing)}: is it the chart's?")
        return ChartSettings.parse(data["config.toml"], data["kubernetes.json"], source=source)

    async def _fetch_from_api(self) -> Mapping[str, str]:
        from kubernetes_asyncio import client, config
        from kubernetes_asyncio.client.rest import ApiException

        config.load_incluster_config()
        async with client.ApiClient() as api:
            try:
                configmap = await client.CoreV1Api(api).read_namespaced_config_map(
                    self.name, self.namespace
                )
            except ApiException as err:
                raise RuntimeError(
                    f"cannot read ConfigMap {self.namespace}/{self.name} ({err.status} "
                    f"{err.reason}): the chart's Role <fullname>-gateway-settings-reader must be "
                    "bound to this pod's ServiceAccount (dask-gateway.rbac values) and "
                    f"{SETTINGS_CONFIGMAP_VARIABLE} must name the chart's settings ConfigMap"
                ) from None
        return configmap.data or {}


def _pod_namespace() -> str:
    path = Path("/var/run/secrets/kubernetes.io/serviceaccount/namespace")
    return path.read_text().strip() if path.is_file() else "default"


# -- images -----------------------------------------------------------------------------------

_DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")


def check_image(image: str) -> str:
    """Return ``image`` if it names one exact image: a tag other than ``latest``, or a digest.

    Dask workers must run exactly the notebook image; an untagged or ``latest`` image can
    change under a running workspace, so it is refused.
    """
    name, _, digest = image.partition("@")
    if digest:
        if _DIGEST.match(digest):
            return image
        raise ValueError(f"image {image!r}: {digest!r} is not a sha256 digest")
    last = name.rsplit("/", 1)[-1]
    tag = last.partition(":")[2]
    if not tag or tag == "latest":
        raise ValueError(
            f"image {image!r} has no exact tag: Dask workers must run exactly the notebook "
            "image, so give jupyterhub.singleuser.image an exact tag (not `latest`) or a digest"
        )
    return image


# -- the hub: KubeSpawner -----------------------------------------------------------------


def profile_list(chart: ChartSettings, spawner: Any) -> list[dict[str, Any]]:
    """KubeSpawner's ``profile_list`` for this user: the profiles of their groups, in order."""
    k = chart.kubernetes
    groups = {group.name for group in spawner.user.groups}
    listed = []
    for slug, profile in sorted(k.profiles.items(), key=lambda item: (item[1].order, item[0])):
        if profile.groups and not groups.intersection(profile.groups):
            continue
        override: dict[str, Any] = {
            "cpu_guarantee": profile.cpu.guarantee,
            "cpu_limit": profile.cpu.limit,
            "mem_guarantee": profile.memory.guarantee,
            "mem_limit": profile.memory.limit,
            "environment": {"SOC_WORKSPACE_KERNELS": ",".join(profile.kernels)},
            "extra_labels": {PROFILE_LABEL: slug},
        }
        if profile.node_selector:
            override["node_selector"] = dict(profile.node_selector)
        if profile.tolerations:
            override["tolerations"] = [dict(t) for t in profile.tolerations]
        if k.workshop is not None and k.workshop.profile == slug:
            override["priority_class_name"] = k.workshop.priority_class_name
        listed.append(
            {
                "slug": slug,
                "display_name": profile.display_name,
                "description": profile.description,
                "default": profile.default,
                "kubespawner_override": override,
            }
        )
    if not listed:
        spawner.log.warning("No profile is open to %s's groups %s", spawner.user.name, groups)
    return listed


def server_environment(chart: ChartSettings) -> dict[str, str]:
    """Variables of every user's server: soc_workspace.hub's, and where the chart puts things."""
    k = chart.kubernetes
    env = user_environment(
        chart.settings,
        gateway_address=k.gateway.address,
        gateway_proxy_address=k.gateway.proxy_address,
        gateway_public_address=k.gateway.public_address,
    )
    env.update(
        SOC_WORKSPACE_CONFIG=f"{USER_SETTINGS_DIR}/config.toml",
        SOC_WORKSPACE_LOCAL_DIR=k.jupyter.local_dir,
        JUPYTER_RUNTIME_DIR=f"{k.jupyter.local_dir}/runtime",
        SOC_WORKSPACE_KERNEL_IDLE_TIMEOUT=str(k.jupyter.kernel_idle_timeout_seconds),
    )
    if k.catalog_files:
        env["SOC_WORKSPACE_CATALOGS"] = f"{USER_SETTINGS_DIR}/catalogs"
    return env


def server_volumes(
    chart: ChartSettings, teams: list[str], *, admin: bool
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Volumes and mounts of a user's server: settings, pod-local state, team folders."""
    k = chart.kubernetes
    items = [{"key": "config.toml", "path": "config.toml"}] + [
        {"key": f"catalog-{name}", "path": f"catalogs/{name}"} for name in k.catalog_files
    ]
    volumes: list[dict[str, Any]] = [
        {
            "name": "soc-workspace-settings",
            "configMap": {"name": k.user_config_map, "items": items},
        },
        # Jupyter's runtime files and SQLite databases: never on the (NFS) home volume.
        {"name": "soc-workspace-local", "emptyDir": {"sizeLimit": k.jupyter.local_dir_size_limit}},
    ]
    mounts: list[dict[str, Any]] = [
        {"name": "soc-workspace-settings", "mountPath": USER_SETTINGS_DIR, "readOnly": True},
        {"name": "soc-workspace-local", "mountPath": k.jupyter.local_dir},
    ]
    home = k.home_mount_path.rstrip("/")
    if k.teams.enabled:
        for team in teams:
            claim = k.teams.claims.get(team)
            if claim is None:
                continue  # a hub group that is no team of the chart's
            volumes.append({"name": f"team-{team}", "persistentVolumeClaim": {"claimName": claim}})
            mounts.append({"name": f"team-{team}", "mountPath": f"{home}/{TEAMS_FOLDER}/{team}"})
        if k.teams.shared.enabled:
            volumes.append(
                {
                    "name": "shared",
                    "persistentVolumeClaim": {"claimName": k.teams.shared.claim_name},
                }
            )
            mounts.append(
                {"name": "shared", "mountPath": f"{home}/{SHARED_FOLDER}", "readOnly": not admin}
            )
    return volumes, mounts


def _ours(entry: Mapping[str, Any]) -> bool:
    """A volume or mount :func:`server_volumes` adds (by its name)."""
    name = entry["name"]
    return name == "shared" or name.startswith(("soc-workspace-", "team-"))


def prepare_server(chart: ChartSettings, spawner: Any) -> None:
    """Set a KubeSpawner up for the next start with the chart's current settings.

    Idempotent: the hub keeps one spawner per server across restarts, so what this adds
    replaces what it added before.
    """
    k = chart.kubernetes
    spawner.image = check_image(k.image)
    spawner.service_account = k.service_account
    spawner.automount_service_account_token = False
    # KubeSpawner expands "{username}"-style templates in environment values with str.format,
    # so literal braces (the JSON of some settings) must be doubled to arrive unchanged.
    ours = {
        key: value.replace("{", "{{").replace("}", "}}")
        for key, value in server_environment(chart).items()
    }
    spawner.environment = {**spawner.environment, **ours}
    volumes, mounts = server_volumes(chart, teams_of(spawner), admin=bool(spawner.user.admin))
    spawner.volumes = [v for v in spawner.volumes if not _ours(v)] + volumes
    spawner.volume_mounts = [m for m in spawner.volume_mounts if not _ours(m)] + mounts
    spawner.extra_annotations = {**spawner.extra_annotations, CHECKSUM_ANNOTATION: chart.checksum}


def _token_of_service(c: Config, name: str) -> str | None:
    """The API token the jupyterhub chart gave a service (the dask-gateway chart reads it)."""
    for service in c.JupyterHub.get("services", []):
        if service.get("name") == name:
            return service.get("api_token")
    return None


def configure_hub(c: Config, *, settings_dir: Path | str | None = None) -> None:
    """Configure the jupyterhub chart's hub (called by the chart's jupyterhub_config.d drop-in).

    From soc_workspace.hub: the ``user`` role and token scopes for the gateway, the gateway as
    a hub service (keeping the token the jupyterhub chart made for it), users' environment,
    stopping users' clusters with their servers. Kubernetes' part: KubeSpawner profiles from
    the chart (resources, kernels, groups), team and shared volumes, the user ServiceAccount,
    pod-local Jupyter state, the settings checksum on each server. Authentication, idle
    culling, timeouts and the default URL stay the jupyterhub chart's (its values).
    """
    if settings_dir is None:
        config = os.environ.get("SOC_WORKSPACE_CONFIG")
        settings_dir = Path(config).parent if config else SETTINGS_DIR
    files = SettingsFiles(settings_dir)
    chart = files.current()  # fail at hub start, with the file named, if the settings are bad
    k = chart.kubernetes
    gateway = GatewayService(
        address=k.gateway.address,
        proxy_address=k.gateway.proxy_address,
        url=k.gateway.service_url,
        public_address=k.gateway.public_address,
        api_token=_token_of_service(c, GATEWAY_SERVICE),
    )
    if gateway.api_token is None:
        raise ValueError(
            "jupyterhub.hub.services.dask-gateway is missing: the chart's values register the "
            "gateway as a hub service, whose token the gateway uses"
        )
    configure_roles(c, gateway_service=gateway.name)
    add_gateway_service(c, url=gateway.url, api_token=gateway.api_token, name=gateway.name)

    c.KubeSpawner.profile_list = lambda spawner: profile_list(files.current(), spawner)
    previous_pre_spawn = c.KubeSpawner.get("pre_spawn_hook")

    async def pre_spawn_hook(spawner: Any) -> None:
        if previous_pre_spawn is not None:
            result = previous_pre_spawn(spawner)
            if hasattr(result, "__await__"):
                await result
        prepare_server(files.current(), spawner)

    c.KubeSpawner.pre_spawn_hook = pre_spawn_hook
    if not c.KubeSpawner.get("lifecycle_hooks"):
        # ~/templates: the notebook templates of the image (read-only there)
        link = f'ln -sfn {IMAGE_TEMPLATES} "$HOME/{TEMPLATES_FOLDER}" || true'
        c.KubeSpawner.lifecycle_hooks = {"postStart": {"exec": {"command": ["sh", "-c", link]}}}
    if k.gateway.stop_clusters_with_server:
        c.KubeSpawner.post_stop_hook = stop_clusters_hook(
            gateway.address, service=gateway.name, previous=c.KubeSpawner.get("post_stop_hook")
        )


# -- the gateway: dask-gateway's Kubernetes backend ------------------------------------------


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


def kubernetes_cluster_options(
    source: SettingsConfigMap, base: Mapping[str, Any]
) -> Callable[[Any], Any]:
    """``c.Backend.cluster_options``: soc_workspace.hub's options, from the current settings."""
    from .gateway import cluster_options

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
        return options

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

    from .gateway import configure_gateway as configure_any_gateway
    from .gateway import with_cluster_limits

    if source is None:
        name = configmap or os.environ.get(SETTINGS_CONFIGMAP_VARIABLE)
        if not name:
            raise ValueError(
                f"{SETTINGS_CONFIGMAP_VARIABLE} is not set: the chart's values set it in "
                "dask-gateway.gateway.env to the name of its settings ConfigMap"
            )
        source = SettingsConfigMap(name)
    chart = _read_now(source)
    configure_any_gateway(c, chart.settings if chart else None, deployment="kubernetes")
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
