"""A small NetworkPolicy evaluator, to test what our policies allow rather than how they look.

It follows the Kubernetes semantics for the parts our policies use: a pod selected by a policy
for a direction only allows traffic some rule of some such policy allows; a rule matches when
its ports match (none = all) and one of its peers matches (none = everyone); peers are
podSelector (same namespace), namespaceSelector (+ podSelector) and ipBlock (cidr minus
except). Policies add up; a pod selected by none allows everything.

Whether an ipBlock matches traffic of a pod inside the cluster is left to the network plugin
by Kubernetes: Calico matches pod IPs against it, Cilium (identity based) does not. A flow
that must work on both is checked with ``ip_blocks_match_pods`` True and False.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Endpoint:
    """A pod (labels, namespace) or an address outside the cluster (labels None)."""

    ip: str
    labels: dict[str, str] | None = None
    namespace: str = "swxsoc"
    namespace_labels: dict[str, str] = field(default_factory=dict)
    named_ports: dict[str, int] = field(default_factory=dict)
    """The pod's container ports by name (NetworkPolicies may name ports)."""


def selects(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expression in selector.get("matchExpressions") or []:
        present = expression["key"] in labels
        value = labels.get(expression["key"])
        operator = expression["operator"]
        if operator == "In" and value not in expression["values"]:
            return False
        if operator == "NotIn" and value in expression["values"]:
            return False
        if operator == "Exists" and not present:
            return False
        if operator == "DoesNotExist" and present:
            return False
    return True


def _peer_matches(
    peer: dict[str, Any], other: Endpoint, policy_namespace: str, ip_blocks_match_pods: bool
) -> bool:
    if "ipBlock" in peer:
        if other.labels is not None and not ip_blocks_match_pods:
            return False
        address = ipaddress.ip_address(other.ip)
        block = peer["ipBlock"]
        network = ipaddress.ip_network(block["cidr"])
        if address.version != network.version or address not in network:
            return False
        return not any(
            address.version == ipaddress.ip_network(cidr).version
            and address in ipaddress.ip_network(cidr)
            for cidr in block.get("except") or []
        )
    if other.labels is None:
        return False
    if "namespaceSelector" in peer:
        if not selects(peer["namespaceSelector"], other.namespace_labels):
            return False
    elif other.namespace != policy_namespace:
        return False
    return selects(peer.get("podSelector") or {}, other.labels)


def _port_matches(rule: dict[str, Any], port: int, protocol: str, destination: Endpoint) -> bool:
    ports = rule.get("ports")
    if not ports:
        return True
    for p in ports:
        wanted = p.get("port")
        if isinstance(wanted, str):  # a named port of the destination pod
            wanted = destination.named_ports.get(wanted, -1)
        if wanted in (None, port) and p.get("protocol", "TCP") == protocol:
            return True
    return False


def _allowed(
    policies: list[dict[str, Any]],
    pod: Endpoint,
    other: Endpoint,
    port: int,
    protocol: str,
    direction: str,
    ip_blocks_match_pods: bool,
) -> bool:
    key, peers_key, kind = (
        ("egress", "to", "Egress") if direction == "egress" else ("ingress", "from", "Ingress")
    )
    relevant = [
        p
        for p in policies
        if pod.labels is not None
        and p["metadata"].get("namespace", pod.namespace) == pod.namespace
        and selects(p["spec"]["podSelector"], pod.labels)
        and kind in p["spec"].get("policyTypes", ["Ingress"])
    ]
    if not relevant:
        return True
    for policy in relevant:
        for rule in policy["spec"].get(key) or []:
            peers = rule.get(peers_key)
            destination = other if direction == "egress" else pod
            if not _port_matches(rule, port, protocol, destination):
                continue
            if not peers or any(
                _peer_matches(peer, other, pod.namespace, ip_blocks_match_pods) for peer in peers
            ):
                return True
    return False


def connection_allowed(
    policies: list[dict[str, Any]],
    source: Endpoint,
    destination: Endpoint,
    port: int,
    protocol: str = "TCP",
    *,
    ip_blocks_match_pods: bool = True,
) -> bool:
    """Whether `source` may open a connection to `destination` on `port` under `policies`."""
    egress = _allowed(policies, source, destination, port, protocol, "egress", ip_blocks_match_pods)
    ingress = destination.labels is None or _allowed(
        policies, destination, source, port, protocol, "ingress", ip_blocks_match_pods
    )
    return egress and ingress
