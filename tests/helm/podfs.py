"""A rendered pod's files and environment, laid out in a folder, to run its program here.

From a render of the whole umbrella: the container of a Deployment, its volume mounts resolved
to the rendered ConfigMaps and Secrets (keys, items, subPath), its environment resolved (values,
the namespace, Secret and ConfigMap keys) plus the ``<SERVICE>_SERVICE_HOST/PORT`` variables
Kubernetes adds for the namespace's Services. Files land under ``root`` at their mount paths,
so ``/usr/local/etc/jupyterhub/z2jh.py`` is ``root/usr/local/etc/jupyterhub/z2jh.py``.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from helmchart import NAMESPACE, find


@dataclass
class PodFiles:
    root: Path
    container: dict[str, Any]
    environment: dict[str, str] = field(default_factory=dict)
    mounts: dict[str, str] = field(default_factory=dict)
    """mountPath -> volume name."""

    def path(self, absolute: str) -> Path:
        """Where a path of the pod is in the folder."""
        return self.root / absolute.lstrip("/")


def _data(objs: list, kind: str, name: str) -> dict[str, bytes]:
    obj = find(objs, kind, name)
    if kind == "Secret":
        data = {k: base64.b64decode(v) for k, v in (obj.get("data") or {}).items()}
        data |= {k: v.encode() for k, v in (obj.get("stringData") or {}).items()}
        return data
    return {k: v.encode() for k, v in (obj.get("data") or {}).items()}


def _volume_files(objs: list, volume: dict[str, Any]) -> dict[str, bytes] | None:
    """path in the volume -> bytes, for ConfigMap and Secret volumes (None for others)."""
    if "configMap" in volume:
        source, kind, name = volume["configMap"], "ConfigMap", volume["configMap"]["name"]
    elif "secret" in volume:
        source, kind, name = volume["secret"], "Secret", volume["secret"]["secretName"]
    else:
        return None
    data = _data(objs, kind, name)
    if source.get("items"):
        return {item["path"]: data[item["key"]] for item in source["items"]}
    return data


def _service_variables(objs: list) -> dict[str, str]:
    env = {}
    for _, obj in objs:
        if obj["kind"] != "Service" or not obj["spec"].get("ports"):
            continue
        prefix = obj["metadata"]["name"].upper().replace("-", "_")
        env[f"{prefix}_SERVICE_HOST"] = f"{obj['metadata']['name']}.{NAMESPACE}"
        env[f"{prefix}_SERVICE_PORT"] = str(obj["spec"]["ports"][0]["port"])
    return env


def lay_out(objs: list, kind: str, name: str, root: Path, container: int = 0) -> PodFiles:
    """The files and environment of a workload's container, under ``root``."""
    workload = find(objs, kind, name)
    spec = workload["spec"]["template"]["spec"]
    main = spec["containers"][container]
    volumes = {v["name"]: v for v in spec.get("volumes", [])}
    pod = PodFiles(root, main)
    for mount in main.get("volumeMounts", []):
        pod.mounts[mount["mountPath"]] = mount["name"]
        target = pod.path(mount["mountPath"])
        files = _volume_files(objs, volumes[mount["name"]])
        if files is None:
            target.mkdir(parents=True, exist_ok=True)
            continue
        if "subPath" in mount:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(files[mount["subPath"]])
            continue
        for relative, data in files.items():
            path = target / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
    pod.environment = _service_variables(objs)
    for variable in main.get("env", []):
        if "value" in variable:
            pod.environment[variable["name"]] = variable["value"]
            continue
        source = variable["valueFrom"]
        if "fieldRef" in source:
            assert source["fieldRef"]["fieldPath"] == "metadata.namespace", variable
            pod.environment[variable["name"]] = NAMESPACE
        elif "secretKeyRef" in source:
            ref = source["secretKeyRef"]
            pod.environment[variable["name"]] = _data(objs, "Secret", ref["name"])[
                ref["key"]
            ].decode()
        elif "configMapKeyRef" in source:
            ref = source["configMapKeyRef"]
            pod.environment[variable["name"]] = _data(objs, "ConfigMap", ref["name"])[
                ref["key"]
            ].decode()
    return pod


def rebase(text: str, pod: PodFiles, *prefixes: str) -> str:
    """Program text with the pod's absolute paths (``prefixes``) moved under the folder."""
    for prefix in prefixes:
        text = text.replace(prefix, str(pod.path(prefix)))
    return text
