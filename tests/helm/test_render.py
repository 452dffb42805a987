"""The whole umbrella renders, and every object it renders is valid, for every values set.

Ours and the jupyterhub and dask-gateway charts' together, as `helm install` renders them:
built-in kinds against the Kubernetes 1.32 schemas (kubernetes-validate, strict: an unknown
field is an error), traefik's IngressRoute and Middleware against the CRDs the dask-gateway
chart installs (strict the same way), and no kind/name twice.
"""

from __future__ import annotations

import collections
import copy
import re
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
from helmchart import KUBERNETES_VERSION, crds, each_values_set, objects, rendered_set

DNS_1123 = re.compile(r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")
OBJECT_META = {"name", "namespace", "labels", "annotations"}


def _strict(schema: Any) -> Any:
    """A CRD's structural schema as the API server applies it with strict field validation:
    unknown fields are errors unless the schema keeps unknown fields."""
    if isinstance(schema, list):
        return [_strict(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    strict = {k: _strict(v) for k, v in schema.items()}
    if (
        "properties" in schema
        and "additionalProperties" not in schema
        and not schema.get("x-kubernetes-preserve-unknown-fields")
    ):
        strict["additionalProperties"] = False
    if schema.get("x-kubernetes-int-or-string"):
        strict.pop("type", None)
        strict["anyOf"] = [{"type": "integer"}, {"type": "string"}]
    return strict


def _custom_schemas() -> dict[tuple[str, str], dict[str, Any]]:
    """(apiVersion, kind) -> schema of every served version of the charts' CRDs."""
    schemas = {}
    for crd in crds():
        spec = crd["spec"]
        for version in spec["versions"]:
            if not version.get("served"):
                continue
            schema = copy.deepcopy(version["schema"]["openAPIV3Schema"])
            schema.setdefault("properties", {}).pop("metadata", None)
            schema["properties"]["metadata"] = {"type": "object"}
            schemas[(f"{spec['group']}/{version['name']}", spec["names"]["kind"])] = _strict(schema)
    return schemas


CUSTOM = _custom_schemas()


def test_the_charts_crds_are_valid_kubernetes():
    assert {kind for _, kind in CUSTOM} >= {"IngressRoute", "Middleware", "DaskCluster"}
    for crd in crds():
        kubernetes_validate.validate(crd, KUBERNETES_VERSION, strict=True)


def _errors(obj: dict[str, Any]) -> list[str]:
    key = (obj["apiVersion"], obj["kind"])
    if key not in CUSTOM:
        try:
            kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)
        except kubernetes_validate.ValidationError as err:
            return [err.message]
        except kubernetes_validate.SchemaNotFoundError:
            return [f"{key}: neither Kubernetes {KUBERNETES_VERSION} nor a CRD of the charts"]
        return []
    validator = jsonschema.Draft7Validator(CUSTOM[key])
    errors = [f"{'.'.join(map(str, e.path))}: {e.message}" for e in validator.iter_errors(obj)]
    meta = obj["metadata"]
    errors += [f"metadata.{field}: unknown field" for field in set(meta) - OBJECT_META]
    if not DNS_1123.match(meta.get("name", "")) or len(meta["name"]) > 253:
        errors.append(f"metadata.name {meta.get('name')!r} is not a DNS-1123 subdomain")
    return errors


@each_values_set
def test_every_object_is_valid(values_set):
    objs = objects(rendered_set(values_set))
    assert len(objs) > 50  # ours and both subcharts'
    paths = {path.split("/templates/")[0] for path, _ in objs}
    assert paths == {
        "soc-workspace",
        "soc-workspace/charts/jupyterhub",
        "soc-workspace/charts/dask-gateway",
    }
    problems = []
    for path, obj in objs:
        problems += [
            f"{path}: {obj['kind']} {obj['metadata'].get('name')}: {error}"
            for error in _errors(obj)
        ]
    assert not problems, "\n".join(problems)
    custom = {o["kind"] for _, o in objs if (o["apiVersion"], o["kind"]) in CUSTOM}
    assert custom == {"IngressRoute", "Middleware"}


def test_custom_objects_are_checked_strictly():
    """The CRD check refuses what the API server would (a misspelt field, a wrong type)."""
    route = next(
        o for _, o in objects(rendered_set("private-trial")) if o["kind"] == "IngressRoute"
    )
    assert _errors(route) == []
    typo = copy.deepcopy(route)
    typo["spec"]["routes"][0]["middleware"] = typo["spec"]["routes"][0].pop("middlewares")
    assert any("middleware" in e for e in _errors(typo))
    wrong = copy.deepcopy(route)
    wrong["spec"]["routes"][0]["services"][0]["port"] = [80]
    assert _errors(wrong)


@each_values_set
def test_no_object_renders_twice(values_set):
    objs = objects(rendered_set(values_set))
    counts = collections.Counter((o["kind"], o["metadata"]["name"]) for _, o in objs)
    assert [key for key, n in counts.items() if n > 1] == []


@pytest.mark.parametrize("values_set", ["private-trial"])
def test_every_namespaced_object_lands_in_the_release_namespace(values_set):
    """Nothing sets another namespace (Helm installs into the release's)."""
    for path, obj in objects(rendered_set(values_set)):
        assert obj["metadata"].get("namespace") in (None, "swxsoc"), path
