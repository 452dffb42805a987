"""NetworkPolicies of the whole render (ours, the jupyterhub chart's, the dask-gateway chart's)
evaluated as a table of flows that must be allowed or denied.

The pods are the real ones: a user's server built by KubeSpawner from z2jh's configuration,
schedulers and workers built by the dask-gateway controller from a cluster the gateway made
(tests/helm/inthecharts.py), and the hub, proxy, gateway and traefik pods of the rendered
Deployments, with their labels and named ports. Each flow is evaluated twice: with ipBlock
rules matching pods' addresses (Calico) and not (Cilium, identity based); a flow must be
allowed or denied under both. The table is printed (``pytest -s``) and every row asserted.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass

import pytest
from helmchart import NAMESPACE, objects, rendered_set
from inthecharts import (
    HubUsers,
    KubernetesAPI,
    load_gateway,
    load_hub,
    new_spawner,
    server_pod,
    workload,
)
from netpol import Endpoint, connection_allowed

NAMESPACE_LABELS = {"kubernetes.io/metadata.name": NAMESPACE}


@dataclass(frozen=True)
class Flow:
    source: str
    destination: str
    port: int
    allowed: bool
    why: str
    protocol: str = "TCP"


FLOWS = [
    # what the workspace needs
    Flow("user", "traefik", 8000, True, "user -> gateway API (traefik web)"),
    Flow("user", "traefik-tcp", 8786, True, "user -> gateway proxy (scheduler traffic)"),
    Flow("user", "hub", 8081, True, "user -> hub API (z2jh)"),
    Flow("proxy", "user", 8888, True, "proxy -> user server (z2jh)"),
    Flow("worker", "scheduler", 8786, True, "worker -> scheduler"),
    Flow("scheduler", "worker", 40123, True, "scheduler -> worker (any port)"),
    Flow("worker", "worker-2", 40123, True, "worker <-> worker"),
    Flow("scheduler", "api", 8000, True, "scheduler -> gateway API"),
    Flow("traefik", "scheduler", 8786, True, "traefik -> scheduler"),
    Flow("traefik", "scheduler", 8787, True, "traefik -> dashboard"),
    Flow("api", "scheduler", 8788, True, "gateway API -> scheduler API"),
    Flow("worker", "s3", 443, True, "worker -> S3 (443)"),
    Flow("worker", "s3-ipv6", 443, True, "worker -> S3 over IPv6 (443)"),
    Flow("worker", "kube-dns", 53, True, "worker -> kube-dns (UDP)", "UDP"),
    Flow("worker", "kube-dns", 53, True, "worker -> kube-dns (TCP)"),
    Flow("hub", "traefik", 8000, True, "hub -> gateway (stops users' clusters)"),
    Flow("proxy", "traefik", 8000, True, "proxy -> gateway (/services/dask-gateway)"),
    Flow("api", "hub", 8081, True, "gateway -> hub API (checks tokens; the chart's label)"),
    # what must stay closed
    Flow("user", "other-user", 8888, False, "user -> another user's server"),
    Flow("user", "metadata", 80, False, "user -> cloud metadata"),
    Flow("worker", "metadata", 80, False, "worker -> cloud metadata"),
    Flow("scheduler", "metadata", 80, False, "scheduler -> cloud metadata"),
    Flow("worker", "private-vm", 443, False, "worker -> private range 10/8"),
    Flow("worker", "database", 443, False, "worker -> private range 172.16/12"),
    Flow("worker", "home-router", 443, False, "worker -> private range 192.168/16"),
    Flow("worker", "hub", 8081, False, "worker -> hub"),
    Flow("worker", "user", 8888, False, "worker -> user server"),
    Flow("worker", "s3", 22, False, "worker -> S3 on another port"),
    Flow("worker", "public-dns", 53, False, "worker -> DNS anywhere (only kube-dns)", "UDP"),
    Flow("user", "scheduler", 8786, False, "user -> scheduler directly"),
    Flow("user", "worker", 40123, False, "user -> worker"),
    Flow("other-worker", "scheduler", 8786, False, "another gateway's worker -> scheduler"),
    Flow("hub", "scheduler", 8786, False, "hub -> scheduler"),
    Flow("traefik", "scheduler", 8788, False, "traefik -> scheduler API"),
]

IN_CLUSTER_STORE = [
    Flow("worker", "minio", 9000, True, "worker -> in-cluster MinIO (networkPolicy.objectStore)"),
    Flow("user", "minio", 9000, True, "user -> in-cluster MinIO"),
    Flow("worker", "s3-endpoint", 443, True, "worker -> S3 interface endpoint subnet"),
    Flow("worker", "next-subnet", 443, False, "worker -> the subnet beside it"),
]


def _ports(deployment: dict) -> dict[str, int]:
    ports = {}
    for container in deployment["spec"]["template"]["spec"]["containers"]:
        ports |= {p["name"]: p["containerPort"] for p in container.get("ports", []) if "name" in p}
    return ports


def _pod(ip: str, labels: dict, ports: dict | None = None) -> Endpoint:
    return Endpoint(ip, dict(labels), NAMESPACE, NAMESPACE_LABELS, ports or {})


def _endpoints(values_set: str, tmp_path, monkeypatch) -> dict[str, Endpoint]:
    objs = objects(rendered_set(values_set))

    def deployment_pod(ip: str, component: str) -> Endpoint:
        deployment = workload(objs, "Deployment", component)
        return _pod(ip, deployment["spec"]["template"]["metadata"]["labels"], _ports(deployment))

    async def built_pods():
        hub = load_hub(objs, tmp_path / "hub")
        users = HubUsers()
        mine = await server_pod(new_spawner(hub.config, users.user("ana")))
        theirs = await server_pod(new_spawner(hub.config, users.user("ben")))
        api_pod = workload(objs, "Deployment", "gateway")["spec"]["template"]["spec"]
        api = KubernetesAPI(objs, api_pod["serviceAccountName"])
        with api.serving(tmp_path / "gateway-kubeconfig"):
            monkeypatch.setenv("KUBECONFIG", str(tmp_path / "gateway-kubeconfig"))
            gateway = await load_gateway(objs, tmp_path / "gateway")
        from dask_gateway_server.models import User
        from dask_gateway_server.utils import FrozenAttrDict

        options, config = await gateway.app.backend.process_cluster_options(User("ana"), {})
        cluster = gateway.app.backend.make_cluster_object("ana", options, config)
        frozen = FrozenAttrDict(json.loads(json.dumps(cluster["spec"]["config"])))
        name = cluster["metadata"]["name"]
        scheduler = gateway.controller.make_pod(NAMESPACE, name, frozen, is_worker=False)
        worker = gateway.controller.make_pod(NAMESPACE, name, frozen, is_worker=True)
        return mine, theirs, scheduler, worker

    mine, theirs, scheduler, worker = asyncio.run(built_pods())

    def spawned(ip: str, pod: dict) -> Endpoint:
        ports = {
            p["name"]: p["containerPort"]
            for c in pod["spec"]["containers"]
            for p in c.get("ports", [])
            if "name" in p
        }
        return _pod(ip, pod["metadata"]["labels"], ports)

    other_gateway = dict(worker["metadata"]["labels"], **{"gateway.dask.org/instance": "other"})
    traefik = deployment_pod("10.1.0.9", "traefik")
    ends = {
        "hub": deployment_pod("10.1.0.2", "hub"),
        "proxy": deployment_pod("10.1.0.3", "proxy"),
        "api": deployment_pod("10.1.0.10", "gateway"),
        "traefik": traefik,
        "traefik-tcp": traefik,
        "user": spawned("10.1.0.7", mine),
        "other-user": spawned("10.1.0.8", theirs),
        "scheduler": spawned("10.1.0.6", scheduler),
        "worker": spawned("10.1.0.5", worker),
        "worker-2": spawned("10.1.0.15", worker),
        "other-worker": spawned("10.1.0.11", {**worker, "metadata": {"labels": other_gateway}}),
        "kube-dns": Endpoint(
            "10.100.0.10",
            {"k8s-app": "kube-dns"},
            "kube-system",
            {"kubernetes.io/metadata.name": "kube-system"},
        ),
        "minio": Endpoint(
            "10.1.3.3", {"app": "minio"}, "storage", {"kubernetes.io/metadata.name": "storage"}
        ),
        "s3": Endpoint("52.216.10.1"),
        "s3-ipv6": Endpoint("2600:1fa0:80ab::1"),
        "s3-endpoint": Endpoint("10.20.30.5"),
        "next-subnet": Endpoint("10.20.31.5"),
        "public-dns": Endpoint("8.8.8.8"),
        "metadata": Endpoint("169.254.169.254"),
        "private-vm": Endpoint("10.0.5.5"),
        "database": Endpoint("172.20.1.4"),
        "home-router": Endpoint("192.168.1.1"),
    }
    return ends


def _table(values_set: str, flows: list[Flow], tmp_path, monkeypatch) -> list[tuple]:
    policies = [o for _, o in objects(rendered_set(values_set)) if o["kind"] == "NetworkPolicy"]
    ends = _endpoints(values_set, tmp_path, monkeypatch)
    rows = []
    for flow in flows:
        results = [
            connection_allowed(
                policies,
                ends[flow.source],
                ends[flow.destination],
                flow.port,
                flow.protocol,
                ip_blocks_match_pods=mode,
            )
            for mode in (True, False)
        ]
        rows.append((flow, *results))
    width = max(len(f.why) for f in flows)
    print(f"\nNetworkPolicies of {values_set} ({len(policies)} policies):")
    print(f"  {'flow':<{width}}  port      must     Calico  Cilium")
    for flow, calico, cilium in rows:
        verdict = "allow" if flow.allowed else "deny"
        ok = "" if calico is cilium is flow.allowed else "   <-- WRONG"
        print(
            f"  {flow.why:<{width}}  {flow.port:>5}/{flow.protocol:<3}  {verdict:<7}  "
            f"{'allow' if calico else 'deny':<6}  {'allow' if cilium else 'deny':<6}{ok}"
        )
    return rows


@pytest.mark.parametrize("values_set", ["swxsoc-eks", "all-options"])
def test_network_policy_table(values_set, tmp_path, monkeypatch):
    flows = FLOWS + (IN_CLUSTER_STORE if values_set == "all-options" else [])
    rows = _table(values_set, flows, tmp_path, monkeypatch)
    wrong = [
        f"{flow.why}: must {'allow' if flow.allowed else 'deny'}; Calico "
        f"{'allows' if calico else 'denies'}, Cilium {'allows' if cilium else 'denies'}"
        for flow, calico, cilium in rows
        if not (calico is cilium is flow.allowed)
    ]
    assert not wrong, "\n".join(wrong)


def test_without_our_policies_the_gateway_rides_on_ip_ranges_only(tmp_path, monkeypatch):
    """The flows our jupyterhub -> gateway policy exists for: without it, an identity-based
    CNI denies them (an IP-range one allows them), so the table above can fail."""
    policies = [
        o
        for _, o in objects(rendered_set("swxsoc-eks"))
        if o["kind"] == "NetworkPolicy" and "gateway" not in o["metadata"]["name"]
    ]
    ends = _endpoints("swxsoc-eks", tmp_path, monkeypatch)
    for source in ("hub", "proxy"):
        traefik = ends["traefik"]
        assert connection_allowed(policies, ends[source], traefik, 8000)
        assert not connection_allowed(
            policies, ends[source], traefik, 8000, ip_blocks_match_pods=False
        )
