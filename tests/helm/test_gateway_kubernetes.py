"""The gateway in the loop: the dask-gateway chart's own config, from the whole render.

dask-gateway-server loads the rendered ``dask_gateway_config.py`` (with our ``extraConfig``)
through its own application, reading our settings ConfigMap through the Kubernetes API as its
RBAC allows (tests/helm/inthecharts.py); users' cluster options are checked per group; the
chart's controller, loaded from its own rendered config, builds the scheduler and worker pods
of a cluster the backend made, and they must run the notebook image as the user account, be
valid Kubernetes 1.32 pods, and be the pods our NetworkPolicy selects.
"""

from __future__ import annotations

import json

import kubernetes_validate
import pytest
from helmchart import KUBERNETES_VERSION, NAMESPACE, VALUES_SETS, find, objects, rendered_set
from inthecharts import KubernetesAPI, load_gateway, workload

GIB = 2**30


def _settings(objs) -> tuple[str, dict]:
    configmap = next(
        o
        for _, o in objs
        if o["kind"] == "ConfigMap" and o["metadata"]["name"].endswith("-settings")
    )
    return configmap["metadata"]["name"], configmap


@pytest.fixture
def gateway_of(tmp_path, monkeypatch):
    """load(values_set) -> (gateway, api): the gateway of a values set and its Kubernetes API."""
    started = []

    async def load(values_set: str, objs=None):
        objs = objs or objects(rendered_set(values_set))
        api_pod = workload(objs, "Deployment", "gateway")["spec"]["template"]["spec"]
        api = KubernetesAPI(objs, api_pod["serviceAccountName"])
        kubeconfig = tmp_path / f"kubeconfig-{len(started)}"
        serving = api.serving(kubeconfig)
        serving.__enter__()
        started.append(serving)
        monkeypatch.setenv("KUBECONFIG", str(kubeconfig))
        gateway = await load_gateway(objs, tmp_path / f"gateway-{len(started)}")
        return gateway, api

    yield load
    for serving in started:
        serving.__exit__(None, None, None)


def _user(name: str, *groups: str):
    from dask_gateway_server.models import User

    return User(name, groups=list(groups))


async def _pods(gateway, user, request: dict) -> tuple[dict, dict, object]:
    """The scheduler and a worker pod of a cluster ``user`` asks for, as the controller makes
    them from the cluster object the backend made."""
    from dask_gateway_server.utils import FrozenAttrDict

    backend = gateway.app.backend
    options, config = await backend.process_cluster_options(user, request)
    cluster = backend.make_cluster_object(user.name, options, config)
    spec_config = FrozenAttrDict(json.loads(json.dumps(cluster["spec"]["config"])))
    name = cluster["metadata"]["name"]
    controller = gateway.controller
    scheduler = controller.make_pod(NAMESPACE, name, spec_config, is_worker=False)
    worker = controller.make_pod(NAMESPACE, name, spec_config, is_worker=True)
    return scheduler, worker, config


@pytest.mark.parametrize("values_set", sorted(VALUES_SETS))
async def test_gateway_loads_the_charts_config_and_reads_our_settings(values_set, gateway_of):
    objs = objects(rendered_set(values_set))
    gateway, api = await gateway_of(values_set)
    settings_name, _ = _settings(objs)
    # it read our settings at start, through the API, as its Role allows
    assert api.requests == [f"/api/v1/namespaces/{NAMESPACE}/configmaps/{settings_name}"]
    app = gateway.app
    assert type(app.backend).__name__ == "LimitedKubeBackend"
    assert type(app.authenticator).__name__ == "JupyterHubAuthenticator"
    # the hub's API and the gateway service's token, from the jupyterhub chart's objects
    hub_service = workload(objs, "Deployment", "hub")["metadata"]["name"]
    from urllib.parse import urlsplit

    url = urlsplit(app.authenticator.jupyterhub_api_url)
    assert url.hostname.removesuffix(f".{NAMESPACE}") == hub_service  # the Service's address
    assert (url.port, url.path) == (8081, "/hub/api")
    import base64

    secret = find(objs, "Secret", hub_service)
    token = base64.b64decode(secret["data"]["hub.services.dask-gateway.apiToken"]).decode()
    # (the authenticator reads it from this variable of the pod, from the hub's Secret)
    assert gateway.pod.environment["JUPYTERHUB_API_TOKEN"] == token
    k8s = json.loads(_settings(objs)[1]["data"]["kubernetes.json"])
    assert app.backend.cluster_config_class.__name__ == "KubeClusterConfig"
    assert app.config.KubeClusterConfig.image == k8s["image"]


@pytest.mark.parametrize("values_set", sorted(VALUES_SETS))
async def test_scheduler_and_worker_pods(values_set, gateway_of):
    objs = objects(rendered_set(values_set))
    gateway, _ = await gateway_of(values_set)
    k8s = json.loads(_settings(objs)[1]["data"]["kubernetes.json"])
    scheduler, worker, config = await _pods(gateway, _user("ana"), {})
    policy = next(
        o
        for _, o in objs
        if o["kind"] == "NetworkPolicy" and o["metadata"]["name"].endswith("-dask-clusters")
    )
    selector = policy["spec"]["podSelector"]
    for pod in (scheduler, worker):
        kubernetes_validate.validate(pod, KUBERNETES_VERSION, strict=True)
        spec = pod["spec"]
        container = spec["containers"][0]
        assert container["image"] == k8s["image"]
        assert spec["serviceAccountName"] == k8s["serviceAccount"]
        assert spec["automountServiceAccountToken"] is False
        env = {e["name"]: e.get("value") for e in container["env"]}
        assert env["SOC_WORKSPACE__SCRATCH__URL"]
        assert env["SOC_WORKSPACE__STAGE"] in ("prod", "dev")
        labels = pod["metadata"]["labels"]
        for key, value in selector["matchLabels"].items():
            assert labels[key] == value
        assert labels["app.kubernetes.io/component"] in selector["matchExpressions"][0]["values"]
    # workers: requests equal limits (what the user asked, within the group's limits)
    resources = worker["spec"]["containers"][0]["resources"]
    assert resources["requests"] == resources["limits"]
    assert resources["requests"]["memory"] == str(config.worker_memory)


async def test_cluster_options_per_group(gateway_of):
    gateway, _ = await gateway_of("all-options")
    backend = gateway.app.backend
    member = _user("ana", "hermes-eea")
    _options, config = await backend.process_cluster_options(
        member, {"worker_cores": 8, "worker_memory": 32}
    )
    # dask-gateway caps the workers by what fits in the cores and memory (scheduler included)
    assert config.cluster_max_workers == min(64, (128 - 1) // 8, (512 - 2) // 32)
    assert config.cluster_max_cores == 128
    assert config.cluster_max_memory == 512 * GIB
    assert (config.worker_cores, config.worker_cores_limit) == (8, 8)
    assert (config.worker_memory, config.worker_memory_limit) == (32 * GIB, 32 * GIB)
    assert config.idle_timeout == 900
    assert backend.max_clusters(member) == 5

    other = _user("cy", "padre-meddea")
    _, config = await backend.process_cluster_options(
        other, {"worker_cores": 1, "worker_memory": 1}
    )
    assert config.cluster_max_workers == 16
    assert config.cluster_max_cores == 32
    _, config = await backend.process_cluster_options(other, {})
    assert (config.worker_cores, config.worker_memory) == (2, 8 * GIB)  # the defaults
    assert backend.max_clusters(other) == 3
    from dask_gateway_server.backends.base import PublicException

    with pytest.raises(PublicException, match="worker_cores"):
        await backend.process_cluster_options(other, {"worker_cores": 64})

    workshop = _user("dee", "workshop")
    _, config = await backend.process_cluster_options(workshop, {})
    # the larger of the default (16 workers) and the group's (2), then what fits: 2-core
    # workers in 32 cores with a 1-core scheduler
    assert config.cluster_max_workers == (32 - 1) // 2


async def test_a_mission_kernel_gets_its_environment_in_the_image(gateway_of):
    """The option `environment`: schedulers and workers run an image kernel's `dask` (the
    version guard of dask_cluster() then finds the kernel's versions on the cluster)."""
    gateway, _ = await gateway_of("all-options")
    backend = gateway.app.backend
    options = await backend.get_cluster_options(_user("ana"))
    field = next(f for f in options.fields if f.field == "environment")
    assert list(field.options) == ["", "hermes", "padre", "reach"]  # the profiles' kernels
    scheduler, worker, config = await _pods(gateway, _user("ana"), {"environment": "hermes"})
    assert config.scheduler_cmd == ["/opt/kernels/hermes/bin/dask", "scheduler"]
    for pod, role in ((scheduler, "scheduler"), (worker, "worker")):
        kubernetes_validate.validate(pod, KUBERNETES_VERSION, strict=True)
        args = pod["spec"]["containers"][0]["args"]
        assert args[:2] == ["/opt/kernels/hermes/bin/dask", role]
    _, default_worker, config = await _pods(gateway, _user("ana"), {})
    assert default_worker["spec"]["containers"][0]["args"][0] != "/opt/kernels/hermes/bin/dask"
    from dask_gateway_server.backends.base import PublicException

    with pytest.raises(PublicException):
        await backend.process_cluster_options(_user("ana"), {"environment": "other"})


async def test_workshop_group_gets_its_small_clusters(gateway_of):
    gateway, _ = await gateway_of("workshop")
    backend = gateway.app.backend
    participant = _user("dee", "workshop")
    _, config = await backend.process_cluster_options(participant, {})
    # the chart's defaults are above the group's (2 workers): 1-core workers in 8 cores
    assert config.cluster_max_workers == (8 - 1) // 1
    assert backend.max_clusters(participant) == 2


def _with_settings(objs, **changes):
    """The render with kubernetes.json of the settings ConfigMap changed."""
    import copy

    objs = copy.deepcopy(objs)
    _, configmap = _settings(objs)
    k8s = json.loads(configmap["data"]["kubernetes.json"])
    k8s.update(changes)
    configmap["data"]["kubernetes.json"] = json.dumps(k8s)
    return objs


@pytest.mark.parametrize("image", ["ghcr.io/swxsoc/workspace-notebook:latest", "ghcr.io/x/nb"])
async def test_gateway_refuses_an_image_without_exact_tag(image, gateway_of):
    objs = _with_settings(objects(rendered_set("all-options")), image=image)
    with pytest.raises(ValueError, match="exact tag"):
        await gateway_of("all-options", objs)


async def test_gateway_reads_new_settings_without_restart(gateway_of):
    """`helm upgrade` changes the ConfigMap; the next cluster gets the new settings."""
    from soc_workspace.kubernetes.settings import SettingsConfigMap

    objs = objects(rendered_set("all-options"))
    _, api = await gateway_of("all-options", objs)
    name, _ = _settings(objs)
    source = SettingsConfigMap(name, NAMESPACE, max_age=0)  # the gateway's: max_age 30 s
    assert (await source.current()).settings.gateway.max_workers == 16
    new = _settings(objects(rendered_set("workshop")))[1]["data"]
    api.data_override[name] = new
    assert (await source.current()).settings.gateway.max_workers == 8


async def test_gateway_without_read_access_says_what_to_fix(gateway_of):
    """A gateway whose ServiceAccount may not read the settings fails at start, naming the
    Role and the variable."""
    objs = objects(rendered_set("private-trial"))
    objs = [
        (p, o)
        for p, o in objs
        if o["kind"] != "RoleBinding" or "settings-reader" not in o["metadata"]["name"]
    ]
    with pytest.raises(Exception, match=r"gateway-settings-reader"):
        await gateway_of("private-trial", objs)
