"""The chart's values: schema generated and current, every values file valid, typos refused,
every key documented, the values handed to the subcharts valid for them, dependencies locked.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import helm_python
import jsonschema
import lock
import pytest
import schema as schema_tool
import yaml
from helmchart import CHART, ROOT, VALUES_SETS, load_yaml, release_values, render

OWN_SCHEMA = schema_tool.load_schema()
PASSTHROUGH = {"jupyterhub", "dask-gateway", "global"}


def _values_files() -> list[Path]:
    """Every values file in the repository (chart defaults, CI sets, documentation examples)."""
    files = {CHART / "values.yaml", *(p for files in VALUES_SETS.values() for p in files)}
    files |= set((CHART / "ci").glob("*.yaml")) | set((ROOT / "docs").rglob("*values*.yaml"))
    return sorted(files)


def test_generated_files_are_current():
    assert schema_tool.stale() == [], "run `python helm/tools/schema.py --write`"


def test_helm_reads_the_generated_schema():
    with helm_python.Chart.load(CHART) as chart:
        assert chart.schema == OWN_SCHEMA


@pytest.mark.parametrize("path", _values_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_values_file_is_valid(path):
    values = release_values() if path.name == "values.yaml" else release_values(path)
    jsonschema.Draft7Validator(OWN_SCHEMA).validate(values)
    with helm_python.Chart.load(CHART) as chart:
        chart.validate_schema(load_yaml(path))


@pytest.mark.parametrize(
    ("values", "key"),
    [
        ({"gateway": {"maxWorker": 3}}, "maxWorker"),
        ({"profile": {}}, "profile"),
        ({"profiles": {"standard": {"memory": {"limits": "8G"}}}}, "limits"),
        ({"teams": {"groups": {"HERMES team": {}}}}, "HERMES team"),
        ({"networkPolicy": {"objectStore": {"cidr": []}}}, "cidr"),
    ],
)
def test_a_misspelt_key_is_refused(values, key):
    with pytest.raises(helm_python.HelmValuesError) as err:
        render(values)
    assert key in str(err.value)


@pytest.mark.parametrize(
    "values",
    [
        {"gateway": {"workerMemory": "lots"}},
        {"profiles": {"standard": {"kernels": ["hermes", "cassini"]}}},
        {"scratch": {"url": "/tmp/scratch"}},
        {"serviceAccount": {"awsRoleArn": "swxsoc-users"}},
        {"stage": "staging"},
        {"environment": "staging"},
    ],
)
def test_a_wrong_value_is_refused(values):
    with pytest.raises(helm_python.HelmValuesError):
        render(values)


def _object_nodes(node: Any, path: str = ""):
    """Every schema node of ours (not the subchart passthroughs) with its path."""
    if not isinstance(node, dict):
        return
    yield path, node
    for key, child in (node.get("properties") or {}).items():
        if path == "" and key in PASSTHROUGH:
            continue
        yield from _object_nodes(child, f"{path}.{key}")
    for pattern, child in (node.get("patternProperties") or {}).items():
        yield from _object_nodes(child, f"{path}.<{pattern}>")
    if isinstance(node.get("items"), dict):
        yield from _object_nodes(node["items"], f"{path}[]")
    for key, child in (node.get("definitions") or {}).items():
        yield from _object_nodes(child, f"#{key}")


def test_every_key_is_typed_described_and_closed():
    free_form = {  # maps whose keys are data (labels, annotations), typed by additionalProperties
        ".serviceAccount.annotations",
        "#nodeSelector",
        "#image",  # the subcharts' image objects also take pullPolicy and the like
    }
    for path, node in _object_nodes(OWN_SCHEMA):
        if path and not path.endswith("[]") and not path.startswith("#"):
            assert node.get("description") or "$ref" in node, f"{path} has no description"
            assert "type" in node or "$ref" in node, f"{path} has no type"
        closable = "properties" in node or "patternProperties" in node
        if node.get("type") == "object" and path not in free_form and closable:
            assert node.get("additionalProperties") is False, f"{path} accepts unknown keys"


def _schema_node(path: list[str]) -> dict[str, Any] | None:
    """The schema node describing the value at ``path`` (``$ref`` and patterns followed)."""
    node: Any = OWN_SCHEMA
    for key in path:
        node = schema_tool._resolve(node, OWN_SCHEMA)
        child = (node.get("properties") or {}).get(key)
        if child is None:
            child = next(
                (c for p, c in (node.get("patternProperties") or {}).items() if re.search(p, key)),
                None,
            )
        if child is None:
            return None
        node = child
    return schema_tool._resolve(node, OWN_SCHEMA)


def _own_keys(values: Any, path: list[str]):
    if not isinstance(values, dict):
        return
    for key, value in values.items():
        if not path and key in PASSTHROUGH:
            continue  # the subcharts' keys are described by the subcharts' own schemas
        yield [*path, key]
        yield from _own_keys(value, [*path, key])


def test_every_key_of_values_yaml_is_described_in_the_schema():
    """As in zero-to-jupyterhub: descriptions live in the schema (and the reference generated
    from it), so values.yaml's comments are left to say why a default is what it is."""
    values = load_yaml(CHART / "values.yaml")
    undescribed = []
    for path in _own_keys(values, []):
        node = _schema_node(path)
        if node is None or not node.get("description"):
            undescribed.append(".".join(path))
    assert not undescribed, undescribed


def test_values_yaml_comments_do_not_repeat_the_schema():
    """A comment that only restates a key's description says nothing the reference does not."""

    def words(text: str) -> str:
        return " ".join(re.findall(r"[a-z0-9]+", text.lower()))

    lines = (CHART / "values.yaml").read_text().splitlines()
    descriptions = {
        words(node["description"])
        for _, node in _object_nodes(OWN_SCHEMA)
        if isinstance(node.get("description"), str)
    }
    repeated = []
    for number, line in enumerate(lines, 1):
        comment = line.strip()
        long_enough = comment.startswith("#") and len(words(comment)) > 12
        if long_enough and any(words(comment) in d for d in descriptions):
            repeated.append(f"values.yaml:{number}: {comment}")
    assert not repeated, "\n".join(repeated)


# -- the values we hand to the subcharts, against the subcharts' own schemas ----------------


def _without_required(node: Any) -> Any:
    """The schema minus `required`: Helm checks the subchart's values merged with its defaults,
    which are not here; what we can check is that every key we set exists and has the right
    type."""
    if isinstance(node, dict):
        return {k: _without_required(v) for k, v in node.items() if k != "required"}
    if isinstance(node, list):
        return [_without_required(v) for v in node]
    return node


@pytest.fixture(scope="module")
def upstream_schemas() -> dict[str, dict]:
    """The schemas the dependency charts ship (helm/soc-workspace/charts/*/values.schema.json)."""
    names = [d["name"] for d in load_yaml(CHART / "Chart.yaml")["dependencies"]]
    return {
        name: _without_required(
            json.loads((CHART / "charts" / name / "values.schema.json").read_text())
        )
        for name in names
    }


@pytest.mark.parametrize("values_set", sorted(VALUES_SETS))
def test_subchart_values_are_valid_for_the_subcharts(values_set, upstream_schemas):
    values = release_values(*VALUES_SETS[values_set])
    for name, subschema in upstream_schemas.items():
        errors = sorted(jsonschema.Draft7Validator(subschema).iter_errors(values[name]), key=str)
        assert not errors, f"{name}: " + "; ".join(
            f"{'.'.join(map(str, e.path))}: {e.message}" for e in errors
        )


def test_helm_refuses_a_typo_in_subchart_values():
    """With the dependency charts present, Helm validates their values with their schemas."""
    with pytest.raises(helm_python.HelmValuesError) as err:
        render(
            {
                "jupyterhub": {"singleuser": {"defaultURL": "/lab"}},
                "dask-gateway": {"gateway": {"extraConfg": {}}},
            }
        )
    assert "'defaultURL' not allowed" in str(err.value)
    assert "'extraConfg' not allowed" in str(err.value)


# -- dependencies ----------------------------------------------------------------------------


def test_chart_lock_is_current():
    assert lock.check() == []


def test_lock_digest_is_the_one_helm_computes(tmp_path):
    """Cross-check the offline digest with Helm's own `dependency update` (a local chart)."""
    (tmp_path / "dep").mkdir()
    (tmp_path / "dep" / "Chart.yaml").write_text("apiVersion: v2\nname: dep\nversion: 1.2.3\n")
    parent = tmp_path / "parent"
    parent.mkdir()
    (parent / "Chart.yaml").write_text(
        "apiVersion: v2\nname: parent\nversion: 0.1.0\ndependencies:\n"
        '  - name: dep\n    version: "1.2.3"\n    repository: file://../dep\n'
    )
    helm_python.dependency_update(parent)
    written = yaml.safe_load((parent / "Chart.lock").read_text())
    assert written["digest"] == lock.expected_lock(parent)["digest"]
    shutil.rmtree(parent / "charts")


def test_dependencies_match_the_images():
    """The dask-gateway chart is the version of the dask-gateway in our lock files."""
    versions = {d["name"]: d["version"] for d in load_yaml(CHART / "Chart.yaml")["dependencies"]}
    uv_lock = (ROOT / "uv.lock").read_text()
    for package in ("dask-gateway", "dask-gateway-server"):
        match = re.search(rf'\nname = "{package}"\nversion = "([^"]+)"', uv_lock)
        assert match, f"{package} is not in uv.lock"
        assert match.group(1) == versions["dask-gateway"], package
    notebook_lock = (ROOT / "images" / "notebook" / "requirements.lock").read_text()
    assert f"dask-gateway=={versions['dask-gateway']}" in notebook_lock
