"""The chart's settings as the hub and the gateway read them.

The Helm chart (helm/soc-workspace) renders two files from its values
(templates/_settings.tpl):

- ``config.toml``: soc-workspace settings, the same the one-machine workspace reads, so the
  decisions of :mod:`soc_workspace.hub` (roles, user environment, gateway options and limits,
  team folders) are the same in both deployments;
- ``kubernetes.json``: what only Kubernetes needs (the chart's object names, resources and
  kernels per profile, the team volumes), read into :class:`KubernetesSettings`.

The hub mounts them at ``/etc/soc-workspace`` (:class:`SettingsFiles`); the gateway reads them
from the ConfigMap through the Kubernetes API (:class:`SettingsConfigMap`). Both read them again
for every server and every cluster, so a ``helm upgrade`` of the settings applies at the next
start without restarting the hub or the gateway.
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

from ..config import Settings

log = logging.getLogger(__name__)

SETTINGS_DIR = Path("/etc/soc-workspace")
"""Where the hub mounts the chart's settings ConfigMap (the folder of SOC_WORKSPACE_CONFIG)."""
SETTINGS_CONFIGMAP_VARIABLE = "SOC_WORKSPACE_SETTINGS_CONFIGMAP"


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
        # One lock per event loop: the gateway reads once while it loads its config (its own
        # short loop), then in its server's loop.
        self._locks: dict[asyncio.AbstractEventLoop, asyncio.Lock] = {}

    @property
    def cached(self) -> ChartSettings | None:
        """The settings last read, if any (for callers that cannot wait)."""
        return self._cached

    async def current(self) -> ChartSettings:
        lock = self._locks.setdefault(asyncio.get_running_loop(), asyncio.Lock())
        async with lock:
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
        from kubernetes_asyncio.config import ConfigException

        try:
            config.load_incluster_config()
        except ConfigException:
            # outside a cluster (a gateway run by hand, the tests): $KUBECONFIG's cluster
            await config.load_kube_config(config_file=os.environ.get("KUBECONFIG"))
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
    """The namespace of this pod (its ServiceAccount's), or $POD_NAMESPACE outside one."""
    path = Path("/var/run/secrets/kubernetes.io/serviceaccount/namespace")
    if path.is_file():
        return path.read_text().strip()
    return os.environ.get("POD_NAMESPACE", "default")


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
