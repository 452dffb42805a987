"""Run the hub's and the gateway's real configuration as their pods do, from a whole render.

The hub: the jupyterhub chart's own ``jupyterhub_config.py`` and ``z2jh.py`` from the rendered
hub ConfigMap, its rendered Secret (``values.yaml``, tokens) and our drop-in, each where the
hub Deployment mounts it, with the Deployment's environment, loaded with traitlets'
``PyFileConfigLoader`` as ``jupyterhub --config`` does. Two lines of theirs are adapted to run
here: the absolute folder ``/usr/local/etc/jupyterhub`` becomes the test's folder, and the
pycurl HTTP client (pycurl is not installed here) is not selected. Then KubeSpawner (the real
class, ``_mock=True``) builds a user's pod after JupyterHub's pre-spawn hook and KubeSpawner's
own profile loading, for a real JupyterHub user (``jupyterhub.user.User`` on an in-memory hub
database) with real groups.

The gateway: the dask-gateway chart's rendered ``dask_gateway_config.py`` (with our
``extraConfig``), loaded by dask-gateway-server's own application (``DaskGateway.initialize``),
and its controller's config by ``KubeController.initialize``; the controller builds the
scheduler and worker pods of a cluster object the backend made. The Kubernetes API the gateway
reads our settings ConfigMap from is a small HTTP server (:class:`KubernetesAPI`) that serves
what the rendered RBAC lets the gateway read, and nothing else.
"""

from __future__ import annotations

import asyncio
import json
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from helmchart import NAMESPACE, find
from podfs import PodFiles, lay_out, rebase
from traitlets.config import Config, PyFileConfigLoader

Z2JH_DIR = "/usr/local/etc/jupyterhub"
CURL_CLIENT = 'AsyncHTTPClient.configure("tornado.curl_httpclient.CurlAsyncHTTPClient")'
GATEWAY_CONFIG = "/etc/dask-gateway/dask_gateway_config.py"


def workload(objs: list, kind: str, component: str) -> dict[str, Any]:
    """The one object of ``kind`` whose pods are the ``component`` (hub, gateway, ...)."""
    found = [
        o
        for _, o in objs
        if o["kind"] == kind
        and component
        in (
            o["spec"]["template"]["metadata"]["labels"].get("component"),
            o["spec"]["template"]["metadata"]["labels"].get("app.kubernetes.io/component"),
        )
    ]
    assert len(found) == 1, f"{len(found)} {kind} of component {component}"
    return found[0]


def _environment(pod: PodFiles) -> dict[str, str]:
    """The container's environment, its paths under the pod's mounts moved into the folder."""
    env = {}
    for name, value in pod.environment.items():
        for mount in pod.mounts:
            if value.startswith(mount.rstrip("/") + "/") or value == mount:
                value = str(pod.path(value))
                break
        env[name] = value
    return env


@contextmanager
def _process_state(environment: dict[str, str]) -> Iterator[None]:
    """The variables of the pod, and sys.path/sys.modules as they were, afterwards."""
    import os

    saved_env = dict(os.environ)
    saved_path = list(sys.path)
    saved_modules = set(sys.modules)
    os.environ.update(environment)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved_env)
        sys.path[:] = saved_path
        for name in set(sys.modules) - saved_modules:
            if name in ("z2jh",):  # the chart's module, cached per hub
                del sys.modules[name]


@dataclass
class Hub:
    config: Config
    pod: PodFiles
    deployment: dict[str, Any]


def load_hub(objs: list, root: Path) -> Hub:
    """The hub's configuration, exactly as the hub pod of this render loads it."""
    deployment = workload(objs, "Deployment", "hub")
    pod = lay_out(objs, "Deployment", deployment["metadata"]["name"], root)
    main = f"{Z2JH_DIR}/jupyterhub_config.py"
    assert pod.container["args"][:3] == ["jupyterhub", "--config", main]
    for name in ("jupyterhub_config.py", "z2jh.py"):
        path = pod.path(f"{Z2JH_DIR}/{name}")
        text = rebase(path.read_text(), pod, Z2JH_DIR)
        if name == "jupyterhub_config.py":
            assert text.count(CURL_CLIENT) == 1
            text = text.replace(CURL_CLIENT, "pass  # tests: no pycurl here")
        path.write_text(text)
    sys.modules.pop("z2jh", None)
    with _process_state(_environment(pod)):
        loader = PyFileConfigLoader("jupyterhub_config.py", path=str(pod.path(Z2JH_DIR)))
        config = loader.load_config()
    return Hub(config, pod, deployment)


class HubUsers:
    """Real JupyterHub users (``jupyterhub.user.User``) on an in-memory hub database."""

    def __init__(self) -> None:
        from jupyterhub import orm

        self._orm = orm
        self.db = orm.new_session_factory("sqlite://")()

    def user(self, name: str, *groups: str, admin: bool = False) -> Any:
        from jupyterhub.user import User

        orm_user = self._orm.User(name=name, admin=admin)
        self.db.add(orm_user)
        for group_name in groups:
            group = self.db.query(self._orm.Group).filter_by(name=group_name).first()
            if group is None:
                group = self._orm.Group(name=group_name)
                self.db.add(group)
            orm_user.groups.append(group)
        self.db.commit()
        return User(orm_user, {"db": self.db})


def new_spawner(config: Config, user: Any) -> Any:
    from kubespawner import KubeSpawner

    return KubeSpawner(config=config, user=user, _mock=True)


async def server_pod(spawner: Any, profile: str | None = None) -> dict[str, Any]:
    """The pod KubeSpawner creates for a start, in the order of one: JupyterHub sets the
    options and runs the pre-spawn hook, then KubeSpawner loads the profile and builds the
    pod."""
    from kubernetes_asyncio.client import ApiClient

    spawner.user_options = {"profile": profile} if profile else {}
    result = spawner.run_pre_spawn_hook()
    if hasattr(result, "__await__"):
        await result
    await spawner.load_user_options()
    pod = await spawner.get_pod_manifest()
    return ApiClient().sanitize_for_serialization(pod)


# -- the gateway ------------------------------------------------------------------------------


class KubernetesAPI:
    """The part of a Kubernetes API server the gateway uses: ``get`` of ConfigMaps its
    ServiceAccount's Roles name (rendered RBAC); anything else is 403, as RBAC answers."""

    def __init__(self, objs: list, service_account: str) -> None:
        self.objs = objs
        self.requests: list[str] = []
        allowed = set()
        roles = {o["metadata"]["name"]: o for _, o in objs if o["kind"] == "Role"}
        for _, binding in objs:
            if binding["kind"] != "RoleBinding" or binding["roleRef"]["kind"] != "Role":
                continue
            if not any(
                s["kind"] == "ServiceAccount"
                and s["name"] == service_account
                and s.get("namespace", NAMESPACE) == NAMESPACE
                for s in binding["subjects"]
            ):
                continue
            for rule in roles[binding["roleRef"]["name"]]["rules"]:
                if "configmaps" in rule["resources"] and "get" in rule["verbs"]:
                    allowed |= set(rule.get("resourceNames") or ["*"])
        self.allowed = allowed
        self.data_override: dict[str, dict[str, str]] = {}

    def _answer(self, path: str) -> tuple[int, dict[str, Any]]:
        self.requests.append(path)
        prefix = f"/api/v1/namespaces/{NAMESPACE}/configmaps/"
        name = path.removeprefix(prefix)
        if not path.startswith(prefix) or not ({name, "*"} & self.allowed):
            return 403, {"kind": "Status", "code": 403, "reason": "Forbidden"}
        try:
            configmap = dict(find(self.objs, "ConfigMap", name))
        except AssertionError:
            return 404, {"kind": "Status", "code": 404, "reason": "NotFound"}
        if name in self.data_override:
            configmap["data"] = self.data_override[name]
        return 200, configmap

    @contextmanager
    def serving(self, kubeconfig: Path) -> Iterator[None]:
        api = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                status, body = api._answer(self.path.split("?")[0])
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        kubeconfig.write_text(
            json.dumps(
                {
                    "apiVersion": "v1",
                    "kind": "Config",
                    "clusters": [
                        {
                            "name": "test",
                            "cluster": {"server": f"http://127.0.0.1:{server.server_port}"},
                        }
                    ],
                    "users": [{"name": "test", "user": {"token": "unused"}}],
                    "contexts": [{"name": "test", "context": {"cluster": "test", "user": "test"}}],
                    "current-context": "test",
                }
            )
        )
        try:
            yield
        finally:
            server.shutdown()
            server.server_close()


@dataclass
class Gateway:
    app: Any
    controller: Any
    pod: PodFiles


def _gateway_app(objs: list, root: Path) -> tuple[Any, PodFiles]:
    from dask_gateway_server.app import DaskGateway

    deployment = workload(objs, "Deployment", "gateway")
    pod = lay_out(objs, "Deployment", deployment["metadata"]["name"], root / "api")
    assert pod.container["args"] == ["dask-gateway-server", "--config", GATEWAY_CONFIG]
    # the namespace a pod reads from its ServiceAccount's files, which are not here
    environment = {**_environment(pod), "POD_NAMESPACE": NAMESPACE}
    with _process_state(environment):
        app = DaskGateway()
        app.initialize(["--config", str(pod.path(GATEWAY_CONFIG))])
    return app, pod


def _controller(objs: list, root: Path) -> Any:
    from dask_gateway_server.backends.kubernetes.controller import KubeController

    deployment = workload(objs, "Deployment", "controller")
    pod = lay_out(objs, "Deployment", deployment["metadata"]["name"], root / "controller")
    args = pod.container["args"]
    assert args[:3] == ["dask-gateway-server", "kube-controller", "--config"]
    with _process_state(_environment(pod)):
        controller = KubeController()
        controller.initialize(["--config", str(pod.path(args[3]))])
    return controller


async def load_gateway(objs: list, root: Path) -> Gateway:
    """The gateway API server and its controller as their pods load them (outside the test's
    event loop: the gateway reads its settings while it loads, as at a pod's start)."""

    def load() -> Gateway:
        app, pod = _gateway_app(objs, root)
        return Gateway(app, _controller(objs, root), pod)

    return await asyncio.to_thread(load)
