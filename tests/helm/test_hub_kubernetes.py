"""The chart's hub drop-in and gateway configuration, run for real without a cluster.

The hub: the drop-in files rendered into the chart's ConfigMap are loaded into a JupyterHub
config the way the jupyterhub chart's jupyterhub_config.py loads jupyterhub_config.d, with the
settings files the chart mounts; then KubeSpawner (the real class, `_mock=True`, a kubeconfig
pointing at an unused loopback port) builds the pod of a user's server with its own
get_pod_manifest(), after the hooks JupyterHub runs before a start.

The gateway: soc_workspace's configuration of the dask-gateway chart's API server is applied to
a traitlets Config, and the real Kubernetes backend class (with soc_workspace's cluster limit)
turns users' requests into KubeClusterConfig objects.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from helmchart import NAMESPACE, RELEASE, each_values_set, find, objects, render, rendered_set
from traitlets.config import Config, PyFileConfigLoader

from soc_workspace.hub.kubernetes import (
    CHECKSUM_ANNOTATION,
    ChartSettings,
    SettingsConfigMap,
    check_image,
    configure_gateway,
)

GIB = 2**30
NOTEBOOK = "ghcr.io/swxsoc/workspace-notebook:2026.11.1"

# What the jupyterhub chart's own jupyterhub_config.py has set when it loads
# jupyterhub_config.d (zero-to-jupyterhub 4.4.0): the parts our drop-ins build on, i.e. the
# gateway service with the token it generated, the singleuser image and the home volume.
Z2JH_CONFIG = """
c.JupyterHub.spawner_class = "kubespawner.KubeSpawner"
c.JupyterHub.services = [
    {{"name": "dask-gateway", "api_token": "token-made-by-the-jupyterhub-chart", "display": False}},
]
c.KubeSpawner.image = {image!r}
c.KubeSpawner.namespace = {namespace!r}
c.KubeSpawner.common_labels = {{
    "app.kubernetes.io/name": "jupyterhub",
    "app.kubernetes.io/instance": {release!r},
}}
c.KubeSpawner.storage_pvc_ensure = True
c.KubeSpawner.volumes = [
    {{"name": "volume-{{user_server}}", "persistentVolumeClaim": {{"claimName": "{{pvc_name}}"}}}},
]
c.KubeSpawner.volume_mounts = [{{"name": "volume-{{user_server}}", "mountPath": "/home/jovyan"}}]
c.KubeSpawner.environment = {{"FROM_THE_CHART": "kept"}}

# how the jupyterhub chart runs jupyterhub_config.d: in its own namespace, with its `c`
import glob, os
for file_path in sorted(glob.glob(os.path.join({config_d!r}, "*.py"))):
    with open(file_path) as f:
        exec(compile(source=f.read(), filename=os.path.basename(file_path), mode="exec"))
"""


@dataclass
class Group:
    name: str


@dataclass
class HubUser:
    """The parts of JupyterHub's User that KubeSpawner and our hooks read."""

    name: str
    groups: list[Group] = field(default_factory=list)
    admin: bool = False
    id: int = 7

    @property
    def url(self) -> str:
        return f"/user/{self.name}/"

    @property
    def escaped_name(self) -> str:
        return self.name


def user(name: str, *groups: str, admin: bool = False) -> HubUser:
    return HubUser(name, [Group(g) for g in groups], admin)


@pytest.fixture
def kubeconfig(tmp_path, monkeypatch):
    """A kubeconfig whose server is a loopback port nothing listens on: no cluster is used."""
    path = tmp_path / "kubeconfig"
    path.write_text(
        json.dumps(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [{"name": "none", "cluster": {"server": "https://127.0.0.1:9"}}],
                "users": [{"name": "none", "user": {"token": "unused"}}],
                "contexts": [{"name": "none", "context": {"cluster": "none", "user": "none"}}],
                "current-context": "none",
            }
        )
    )
    monkeypatch.setenv("KUBECONFIG", str(path))
    return path


def _mount_chart(tmp_path: Path, values_set: str, monkeypatch) -> Path:
    """Write the chart's ConfigMaps where the hub pod mounts them; return jupyterhub_config.py."""
    objs = objects(rendered_set(values_set))
    prefix = "swx" if values_set == "all-options" else "soc-workspace"
    settings_dir = tmp_path / "etc" / "soc-workspace"
    settings_dir.mkdir(parents=True)
    for key, text in find(objs, "ConfigMap", f"{prefix}-settings")["data"].items():
        (settings_dir / key).write_text(text)
    config_d = tmp_path / "jupyterhub_config.d"
    config_d.mkdir()
    for key, text in find(objs, "ConfigMap", f"{prefix}-hub")["data"].items():
        (config_d / key).write_text(text)
    image = json.loads((settings_dir / "kubernetes.json").read_text())["image"]
    main = tmp_path / "jupyterhub_config.py"
    main.write_text(
        Z2JH_CONFIG.format(
            image=image, namespace=NAMESPACE, release=RELEASE, config_d=str(config_d)
        )
    )
    # the chart's values set this on the hub (jupyterhub.hub.extraEnv)
    monkeypatch.setenv("SOC_WORKSPACE_CONFIG", str(settings_dir / "config.toml"))
    return main


@pytest.fixture
def hub_config(tmp_path, monkeypatch, kubeconfig) -> Config:
    """The hub's config for the all-options values (teams, groups, workshop, catalogs)."""
    main = _mount_chart(tmp_path, "all-options", monkeypatch)
    return PyFileConfigLoader(main.name, path=str(main.parent)).load_config()


async def _server_pod(config: Config, hub_user: HubUser, profile: str | None = None) -> dict:
    """The pod KubeSpawner would create for this user's server, as a dict."""
    from kubernetes_asyncio.client import ApiClient
    from kubespawner import KubeSpawner

    spawner = KubeSpawner(config=config, user=hub_user, _mock=True)
    spawner.user_options = {"profile": profile} if profile else {}
    # the order of a start: JupyterHub's pre-spawn hook, then KubeSpawner loads the profile
    result = spawner.run_pre_spawn_hook()
    if hasattr(result, "__await__"):
        await result
    await spawner.load_user_options()
    pod = await spawner.get_pod_manifest()
    return ApiClient().sanitize_for_serialization(pod)


def _container(pod: dict) -> dict:
    return pod["spec"]["containers"][0]


def _env(pod: dict) -> dict[str, str]:
    return {e["name"]: e.get("value") for e in _container(pod)["env"]}


def _mounts(pod: dict) -> dict[str, dict]:
    return {m["mountPath"]: m for m in _container(pod)["volumeMounts"]}


def _volumes(pod: dict) -> dict[str, dict]:
    return {v["name"]: v for v in pod["spec"]["volumes"]}


# -- the hub ----------------------------------------------------------------------------------


def test_dropins_configure_the_hub(hub_config):
    services = {s["name"]: s for s in hub_config.JupyterHub.services}
    gateway = services["dask-gateway"]
    # the jupyterhub chart's token is kept (the dask-gateway chart reads it from its Secret)
    assert gateway["api_token"] == "token-made-by-the-jupyterhub-chart"
    assert gateway["url"] == f"http://traefik-swx-dask.{NAMESPACE}:80"
    assert gateway["display"] is False
    roles = {r["name"]: r for r in hub_config.JupyterHub.load_roles}
    assert "access:services!service=dask-gateway" in roles["user"]["scopes"]
    assert "access:services!service=dask-gateway" in hub_config.Spawner.server_token_scopes
    # authentication stays the jupyterhub chart's (hub.config): nothing of ours touches it
    assert "authenticator_class" not in hub_config.JupyterHub
    assert "allow_all" not in hub_config.Authenticator
    assert callable(hub_config.KubeSpawner.post_stop_hook)


async def test_standard_server_of_a_team_member(hub_config):
    pod = await _server_pod(hub_config, user("ana", "hermes-eea"))
    container = _container(pod)
    assert container["image"] == NOTEBOOK
    assert pod["spec"]["serviceAccountName"] == "swx-scientist"
    assert pod["spec"]["automountServiceAccountToken"] is False
    resources = container["resources"]
    assert resources["requests"] == {"cpu": 0.5, "memory": 4 * GIB}
    assert resources["limits"] == {"cpu": 2.0, "memory": 8 * GIB}
    assert pod["metadata"]["labels"]["soc-workspace.org/profile"] == "standard"
    assert len(pod["metadata"]["annotations"][CHECKSUM_ANNOTATION]) == 16

    env = _env(pod)
    assert env["FROM_THE_CHART"] == "kept"
    assert env["SOC_WORKSPACE_KERNELS"] == "hermes,padre,reach"
    assert env["DASK_GATEWAY__ADDRESS"] == (
        f"http://traefik-swx-dask.{NAMESPACE}:80/services/dask-gateway"
    )
    assert env["DASK_GATEWAY__PROXY_ADDRESS"] == f"gateway://traefik-swx-dask.{NAMESPACE}:80"
    assert env["DASK_GATEWAY__PUBLIC_ADDRESS"] == "/services/dask-gateway/"
    assert env["DASK_GATEWAY__AUTH__TYPE"] == "jupyterhub"
    assert env["SOC_WORKSPACE__ENVIRONMENT"] == "dev"
    assert env["SOC_WORKSPACE__STORE__ENDPOINT_URL"] == "http://minio.storage.svc:9000"
    assert env["SOC_WORKSPACE__SCRATCH__URL"] == "s3://swxsoc-workspace-scratch/users"
    assert env["SOC_WORKSPACE_CONFIG"] == "/etc/soc-workspace/config.toml"
    assert env["SOC_WORKSPACE_CATALOGS"] == "/etc/soc-workspace/catalogs"
    assert env["SOC_WORKSPACE_KERNEL_IDLE_TIMEOUT"] == "3600"
    # JSON settings pass KubeSpawner's "{username}" templating unchanged
    assert json.loads(env["SOC_WORKSPACE__CALIBRATION__ENVIRONMENTS"])["hermes"] == "hermes"

    mounts, volumes = _mounts(pod), _volumes(pod)
    # the home volume of the jupyterhub chart, then ours
    assert "/home/jovyan" in mounts
    team = mounts["/home/jovyan/teams/hermes-eea"]
    assert volumes[team["name"]]["persistentVolumeClaim"]["claimName"] == "swx-team-hermes-eea"
    assert not team.get("readOnly")
    assert "/home/jovyan/teams/padre-meddea" not in mounts  # not ana's team
    shared = mounts["/home/jovyan/shared"]
    assert shared["readOnly"] is True
    assert volumes[shared["name"]]["persistentVolumeClaim"]["claimName"] == "swx-shared"
    settings = volumes[mounts["/etc/soc-workspace"]["name"]]["configMap"]
    assert settings["name"] == "swx-user"
    assert {i["path"] for i in settings["items"]} == {"config.toml", "catalogs/hermes.yaml"}


async def test_jupyter_state_is_pod_local(hub_config):
    pod = await _server_pod(hub_config, user("ana"))
    env, mounts, volumes = _env(pod), _mounts(pod), _volumes(pod)
    local = mounts["/tmp/jupyter"]
    assert volumes[local["name"]]["emptyDir"] == {"sizeLimit": "2Gi"}
    assert env["SOC_WORKSPACE_LOCAL_DIR"] == "/tmp/jupyter"
    assert env["JUPYTER_RUNTIME_DIR"] == "/tmp/jupyter/runtime"
    home = "/home/jovyan"
    assert not env["JUPYTER_RUNTIME_DIR"].startswith(home)


async def test_large_profile_only_for_its_groups(hub_config):
    member = await _server_pod(hub_config, user("ben", "padre-meddea"), "large")
    resources = _container(member)["resources"]
    assert resources["limits"] == {"cpu": 8.0, "memory": 32 * GIB}
    assert member["spec"]["nodeSelector"] == {"node.kubernetes.io/instance-type": "r6i.2xlarge"}
    assert {"key": "soc-workspace/large", "operator": "Exists", "effect": "NoSchedule"} in (
        member["spec"]["tolerations"]
    )
    assert "/home/jovyan/teams/padre-meddea" in _mounts(member)
    with pytest.raises(ValueError, match="large"):
        await _server_pod(hub_config, user("cy"), "large")


async def test_workshop_profile(hub_config):
    pod = await _server_pod(hub_config, user("dee", "workshop"), "workshop")
    assert _container(pod)["resources"]["requests"] == {"cpu": 0.25, "memory": 1 * GIB}
    assert _env(pod)["SOC_WORKSPACE_KERNELS"] == "padre"
    # the priority class the chart's workshop quota counts
    assert pod["spec"]["priorityClassName"] == f"swx-{NAMESPACE}-workshop"


async def test_admins_write_the_shared_folder(hub_config):
    pod = await _server_pod(hub_config, user("root-of-soc", admin=True))
    assert not _mounts(pod)["/home/jovyan/shared"].get("readOnly")


async def test_restarting_a_server_does_not_pile_up_volumes(hub_config):
    from kubespawner import KubeSpawner

    spawner = KubeSpawner(config=hub_config, user=user("ana", "hermes-eea"), _mock=True)
    for _ in range(3):
        await spawner.run_pre_spawn_hook()
    names = [v["name"] for v in spawner.volumes]
    assert len(names) == len(set(names))
    assert sum(name.startswith("team-") for name in names) == 1


async def test_settings_apply_at_the_next_start(hub_config, tmp_path):
    before = await _server_pod(hub_config, user("ana"))
    # `helm upgrade` with a new notebook image: the kubelet updates the mounted files
    settings_dir = tmp_path / "etc" / "soc-workspace"
    k8s = json.loads((settings_dir / "kubernetes.json").read_text())
    k8s["image"] = "ghcr.io/swxsoc/workspace-notebook:2026.12.0"
    (settings_dir / "kubernetes.json").write_text(json.dumps(k8s))
    after = await _server_pod(hub_config, user("ana"))
    assert _container(after)["image"] == "ghcr.io/swxsoc/workspace-notebook:2026.12.0"
    assert (
        after["metadata"]["annotations"][CHECKSUM_ANNOTATION]
        != before["metadata"]["annotations"][CHECKSUM_ANNOTATION]
    )


async def test_default_values_build_a_valid_server(tmp_path, monkeypatch, kubeconfig):
    import kubernetes_validate

    main = _mount_chart(tmp_path, "defaults", monkeypatch)
    config = PyFileConfigLoader(main.name, path=str(main.parent)).load_config()
    pod = await _server_pod(config, user("ana"))
    kubernetes_validate.validate(pod, "1.32.0", strict=True)
    assert _container(pod)["image"] == "ghcr.io/soc-workspace/notebook:0.1.0"
    assert pod["spec"]["serviceAccountName"] == "soc-workspace-user"
    assert "/home/jovyan/shared" in _mounts(pod)
    # the NetworkPolicy for user servers selects this pod
    policy = find(objects(rendered_set("defaults")), "NetworkPolicy", "soc-workspace-user-servers")
    labels = pod["metadata"]["labels"]
    for key, value in policy["spec"]["podSelector"]["matchLabels"].items():
        assert labels[key] == value


def test_bad_settings_fail_the_hub_with_the_file_named(tmp_path, monkeypatch, kubeconfig):
    main = _mount_chart(tmp_path, "defaults", monkeypatch)
    settings = tmp_path / "etc" / "soc-workspace" / "kubernetes.json"
    settings.write_text(settings.read_text().replace('"serviceAccount"', '"serviceAcount"'))
    with pytest.raises(
        ValueError,
        match=r"(?s)soc-workspace: kubernetes.json does not match the chart.*serviceAcount",
    ):
        PyFileConfigLoader(main.name, path=str(main.parent)).load_config()


# -- the gateway ------------------------------------------------------------------------------


def _settings_data(values: dict[str, Any] | None = None, values_set: str = "all-options"):
    rendered = render(values) if values is not None else rendered_set(values_set)
    return next(
        o["data"]
        for _, o in objects(rendered)
        if o["kind"] == "ConfigMap" and o["metadata"]["name"].endswith("-settings")
    )


@pytest.fixture
def gateway_backend():
    """A dask-gateway Kubernetes backend configured as the chart's gateway is."""

    def make(data: dict[str, str], *, max_age: float = 30.0):
        c = Config()
        # set by the dask-gateway chart's dask_gateway_config.py before its extraConfig
        c.KubeBackend.gateway_instance = "swx-dask"
        c.KubeClusterConfig.worker_extra_pod_config = {"priorityClassName": "dask-workers"}
        c.KubeClusterConfig.environment = {"FROM_THE_GATEWAY_CHART": "1"}
        source = SettingsConfigMap("swx-settings", NAMESPACE, max_age=max_age, fetch=lambda: data)
        configure_gateway(c, source=source)
        return c.DaskGateway.backend_class(config=c)

    return make


async def test_gateway_limits_per_group(gateway_backend):
    from dask_gateway_server.backends.kubernetes.backend import KubeClusterConfig
    from dask_gateway_server.models import User

    backend = gateway_backend(_settings_data())
    member = User("ana", groups=["hermes-eea"])
    _options, config = await backend.process_cluster_options(
        member, {"worker_cores": 8, "worker_memory": 32}
    )
    assert isinstance(config, KubeClusterConfig)
    # dask-gateway caps the workers by what fits in the cores and memory (scheduler included)
    assert config.cluster_max_workers == min(64, (128 - 1) // 8, (512 - 2) // 32)
    assert config.cluster_max_cores == 128
    assert config.cluster_max_memory == 512 * GIB
    assert (config.worker_cores, config.worker_cores_limit) == (8, 8)
    assert (config.worker_memory, config.worker_memory_limit) == (32 * GIB, 32 * GIB)
    assert config.idle_timeout == 900
    assert backend.max_clusters(member) == 5
    _, small = await backend.process_cluster_options(
        member, {"worker_cores": 1, "worker_memory": 1}
    )
    assert small.cluster_max_workers == 64  # the group's limit, above the default 16

    other = User("cy", groups=["padre-meddea"])
    _, config = await backend.process_cluster_options(
        other, {"worker_cores": 1, "worker_memory": 1}
    )
    assert config.cluster_max_workers == 16
    assert config.cluster_max_cores == 32
    _, config = await backend.process_cluster_options(other, {})
    assert (config.worker_cores, config.worker_memory) == (2, 8 * GIB)  # the defaults
    assert backend.max_clusters(other) == 3
    # above the user's limits: refused with the reason
    from dask_gateway_server.backends.base import PublicException

    with pytest.raises(PublicException, match="worker_cores"):
        await backend.process_cluster_options(other, {"worker_cores": 64})


async def test_gateway_clusters_run_the_notebook_image_as_the_user_account(gateway_backend):
    from dask_gateway_server.models import User

    backend = gateway_backend(_settings_data())
    _, config = await backend.process_cluster_options(User("ana"), {})
    assert config.image == NOTEBOOK
    for pod in (config.worker_extra_pod_config, config.scheduler_extra_pod_config):
        assert pod["serviceAccountName"] == "swx-scientist"
        assert pod["automountServiceAccountToken"] is False
    assert config.worker_extra_pod_config["priorityClassName"] == "dask-workers"  # kept
    assert config.environment["FROM_THE_GATEWAY_CHART"] == "1"
    assert config.environment["SOC_WORKSPACE__STORE__ENDPOINT_URL"] == (
        "http://minio.storage.svc:9000"
    )
    # the scheduler and worker pods carry the labels our NetworkPolicy selects
    labels = backend.get_labels("abc", "dask-worker")
    policy = find(objects(rendered_set("all-options")), "NetworkPolicy", "swx-dask-clusters")
    selector = policy["spec"]["podSelector"]
    assert (
        labels["gateway.dask.org/instance"] == selector["matchLabels"]["gateway.dask.org/instance"]
    )
    assert labels["app.kubernetes.io/component"] in selector["matchExpressions"][0]["values"]


@pytest.mark.parametrize("tag", ["latest", ""])
async def test_gateway_refuses_an_image_without_exact_tag(gateway_backend, tag):
    from dask_gateway_server.backends.base import PublicException
    from dask_gateway_server.models import User

    data = dict(_settings_data())
    k8s = json.loads(data["kubernetes.json"])
    k8s["image"] = "ghcr.io/swxsoc/workspace-notebook" + (f":{tag}" if tag else "")
    data["kubernetes.json"] = json.dumps(k8s)
    backend = gateway_backend(data)
    with pytest.raises(PublicException, match="exact tag"):
        await backend.process_cluster_options(User("ana"), {})


async def test_gateway_reads_new_settings_without_restart(gateway_backend):
    from dask_gateway_server.models import User

    data = dict(_settings_data())
    backend = gateway_backend(data, max_age=0)  # re-read at every cluster
    _, before = await backend.process_cluster_options(
        User("cy"), {"worker_cores": 1, "worker_memory": 1}
    )
    assert before.cluster_max_workers == 16
    # `helm upgrade` changes the ConfigMap; the running gateway reads it at the next cluster
    data.update(_settings_data({"gateway": {"maxWorkers": 4}}))
    _, after = await backend.process_cluster_options(
        User("cy"), {"worker_cores": 1, "worker_memory": 1}
    )
    assert after.cluster_max_workers == 4


def test_check_image():
    assert check_image("ghcr.io/x/notebook:2026.11.1") == "ghcr.io/x/notebook:2026.11.1"
    assert check_image("localhost:5000/notebook:1.0") == "localhost:5000/notebook:1.0"
    digest = "ghcr.io/x/notebook@sha256:" + "0" * 64
    assert check_image(digest) == digest
    for bad in ("ghcr.io/x/notebook", "ghcr.io/x/notebook:latest", "localhost:5000/notebook"):
        with pytest.raises(ValueError, match="exact tag"):
            check_image(bad)


@each_values_set
def test_chart_settings_validate_against_soc_workspace(values_set):
    """Every values set renders settings soc_workspace's own models accept."""
    data = _settings_data(values_set=values_set)
    chart = ChartSettings.parse(data["config.toml"], data["kubernetes.json"], source="test")
    assert chart.settings.gateway.max_workers >= 1
    assert chart.kubernetes.release == RELEASE
