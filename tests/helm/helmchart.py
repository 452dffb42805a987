"""Rendering the soc-workspace chart without a cluster, for the chart and schema tests.

The Helm engine comes from PyPI (helm-python-sdk). The umbrella renders whole: our templates
and the jupyterhub and dask-gateway charts in helm/soc-workspace/charts (their tagged sources,
see tests/helm/test_dependencies.py), with the values a release would have.
"""

from __future__ import annotations

import copy
import functools
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "helm" / "soc-workspace"
UPSTREAM = Path(__file__).with_name("upstream")
RELEASE = "soc"
NAMESPACE = "swxsoc"
KUBERNETES_VERSION = "1.32.0"

# The values sets every render test runs with: name -> override files (on top of values.yaml).
VALUES_SETS: dict[str, list[Path]] = {
    "private-trial": [CHART / "ci" / "private-trial-values.yaml"],
    "all-options": [CHART / "ci" / "all-options-values.yaml"],
    "workshop": [CHART / "ci" / "workshop-values.yaml"],
    "catalog-watch": [
        ROOT / "docs" / "examples" / "swxsoc-eks-values.yaml",
        CHART / "ci" / "catalog-watch-values.yaml",
    ],
    "swxsoc-eks": [ROOT / "docs" / "examples" / "swxsoc-eks-values.yaml"],
}


def deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Merge like `helm -f a -f b`: maps merge key by key, anything else is replaced."""
    merged = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def load_yaml(path: Path) -> dict[str, Any]:
    return yaml.safe_load(path.read_text()) or {}


def user_values(*files: Path) -> dict[str, Any]:
    """What an operator passes with -f (the chart's defaults are added by Helm itself)."""
    values: dict[str, Any] = {}
    for path in files:
        values = deep_merge(values, load_yaml(path))
    return values


def release_values(*files: Path) -> dict[str, Any]:
    """The values a release ends up with: values.yaml, then the files."""
    return deep_merge(load_yaml(CHART / "values.yaml"), user_values(*files))


@functools.cache
def _chart():
    import helm_python

    return helm_python.Chart.load(CHART)


def render(values: dict[str, Any] | None = None) -> dict[str, str]:
    """Our templates rendered for release "soc" in namespace "swxsoc": path -> text."""
    return _chart().render(values or {}, name=RELEASE, namespace=NAMESPACE)


def objects(rendered: dict[str, str]) -> list[tuple[str, dict[str, Any]]]:
    """Every Kubernetes object with the template it came from (NOTES.txt left out)."""
    found = []
    for path, text in sorted(rendered.items()):
        if path.endswith("NOTES.txt"):
            continue
        for document in yaml.safe_load_all(text):
            if document:
                found.append((path, document))
    return found


def ours(objs: list[tuple[str, dict[str, Any]]]) -> list[tuple[str, dict[str, Any]]]:
    """The objects of this chart's own templates (not the dependency charts')."""
    return [(path, obj) for path, obj in objs if path.startswith("soc-workspace/templates/")]


def crds() -> list[dict[str, Any]]:
    """The CustomResourceDefinitions the dependency charts install (their crds/ folders)."""
    found = []
    for crd in _chart().crds:
        found += [d for d in yaml.safe_load_all(crd["data"]) if d]
    return found


@functools.cache
def _rendered_set(name: str) -> str:
    return json.dumps(render(user_values(*VALUES_SETS[name])))


def rendered_set(name: str) -> dict[str, str]:
    """One of VALUES_SETS rendered (cached: each set renders once per test run)."""
    return json.loads(_rendered_set(name))


def find(objs: list[tuple[str, dict[str, Any]]], kind: str, name: str) -> dict[str, Any]:
    for _, obj in objs:
        if obj["kind"] == kind and obj["metadata"]["name"] == name:
            return obj
    raise AssertionError(
        f"no {kind} {name!r} in {[(o['kind'], o['metadata']['name']) for _, o in objs]}"
    )


# Runs a test once per values set: `@each_values_set def test_x(values_set): ...`
each_values_set = pytest.mark.parametrize("values_set", sorted(VALUES_SETS))
