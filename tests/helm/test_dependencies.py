"""The dependency charts in helm/soc-workspace/charts are their tagged sources, released.

Every file must be, byte for byte, the file of the upstream repository at the tag (its git blob
id, recorded in tests/helm/upstream/<chart>-<version>.json by helm/tools/dependencies.py from a
clone, and checkable by anyone against the public repository with ``git ls-tree <tag>``),
except the release-time changes, which are undone here to get the source's blob back: the
chart version, the image tags chartpress sets (only ``<image>.tag`` fields, only to the chart's
version), values.schema.json generated from values.schema.yaml, the artifacthub annotations
the jupyterhub release appends, and the files .helmignore leaves out. Nothing else may differ.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import dependencies
import helm_python
import lock
import pytest
import yaml
from helmchart import CHART, UPSTREAM, load_yaml

DEPENDENCIES = dependencies.dependencies()
each_dependency = pytest.mark.parametrize("name", sorted(DEPENDENCIES))


def _manifest(name: str) -> dict[str, Any]:
    path = dependencies.manifest_path(name, DEPENDENCIES[name])
    assert path.is_file(), f"{path} is missing: run helm/tools/dependencies.py with a checkout"
    return json.loads(path.read_text())


def _vendored(name: str) -> Path:
    return CHART / "charts" / name


def _files(directory: Path) -> set[str]:
    return {str(p.relative_to(directory)) for p in directory.rglob("*") if p.is_file()}


def _scalar_span(text: str, dotted: str) -> tuple[int, int]:
    """Character offsets of the scalar at a dotted path of a YAML document (with its quotes)."""
    node = yaml.compose(text)
    for key in dotted.split("."):
        assert isinstance(node, yaml.MappingNode), dotted
        node = next(v for k, v in node.value if k.value == key)
    assert isinstance(node, yaml.ScalarNode), dotted
    return node.start_mark.index, node.end_mark.index


def _unrelease_values(text: str, fields: dict[str, list[str]], version: str) -> str:
    """values.yaml with the image tags chartpress set put back to the source's placeholders."""
    # last field first, so earlier offsets stay valid
    spans = sorted(((_scalar_span(text, path), path) for path in fields), reverse=True)
    for (start, end), path in spans:
        placeholder, released = fields[path]
        assert path.endswith(".image.tag"), f"{path}: chartpress only sets image tags"
        assert released == version == yaml.safe_load(text[start:end]), path
        assert placeholder == dependencies.TAG_PLACEHOLDER, path
        text = text[:start] + text[start:end].replace(released, placeholder) + text[end:]
    return text


def _unrelease_chart(text: str, release: dict[str, Any], version: str) -> str:
    placeholder, released = release["version"]
    assert (placeholder, released) == (dependencies.VERSION_PLACEHOLDER, version)
    line = f"version: {version}\n"
    assert text.count(line) == 1
    text = text.replace(line, f"version: {placeholder}\n")
    appended = release["appended"]
    assert text.endswith(appended)
    return text[: len(text) - len(appended)]


def _images(values: Any) -> set[str]:
    """Every image name:tag in a values file (what artifacthub annotations list)."""
    found = set()
    if isinstance(values, dict):
        for key, value in values.items():
            if key == "image" and isinstance(value, dict) and {"name", "tag"} <= set(value):
                found.add(f"{value['name']}:{value['tag']}")
            else:
                found |= _images(value)
    return found


def _drop_descriptions(schema: dict[str, Any]) -> None:
    """values.schema.yaml as the projects' generate-json-schema.py ships it: no descriptions
    at schema levels (a values key called `description` stays). In place, as theirs: YAML
    anchors make some nodes shared, and a node cleaned once is cleaned everywhere."""
    schema.pop("description", None)
    for value in (schema.get("properties") or {}).values():
        if isinstance(value, dict):
            _drop_descriptions(value)


@each_dependency
def test_files_are_the_tagged_sources_released(name):
    manifest = _manifest(name)
    version = DEPENDENCIES[name]
    assert manifest["chart"] == name
    assert manifest["version"] == manifest["source"]["tag"] == version
    directory = _vendored(name)
    assert _files(directory) == set(manifest["files"]), "files added or missing"
    checked = []
    for relative, expected in sorted(manifest["files"].items()):
        data = (directory / relative).read_bytes()
        if "generated_from" in expected:
            continue  # test_values_schema_json_is_generated
        if relative == "values.yaml":
            data = _unrelease_values(
                data.decode(), manifest["release"]["values.yaml"], version
            ).encode()
        elif relative == "Chart.yaml":
            data = _unrelease_chart(data.decode(), manifest["release"]["Chart.yaml"], version)
            data = data.encode()
        assert dependencies.git_blob_id(data) == expected["blob"], (
            f"charts/{name}/{relative} differs from {expected['upstream']} at "
            f"{manifest['source']['repository']} {version}"
        )
        checked.append(relative)
    assert {"Chart.yaml", "values.yaml", "LICENSE"} <= set(checked)
    assert len(checked) == len(manifest["files"]) - 1


@each_dependency
def test_release_changed_only_the_version_and_image_tags(name):
    manifest = _manifest(name)
    version = DEPENDENCIES[name]
    chart = load_yaml(_vendored(name) / "Chart.yaml")
    assert chart["name"] == name
    assert chart["version"] == version
    values = load_yaml(_vendored(name) / "values.yaml")
    fields = manifest["release"]["values.yaml"]
    assert fields, "chartpress sets at least one image tag"
    for path in fields:
        node = values
        for key in path.split("."):
            node = node[key]
        assert node == version, path
    appended = manifest["release"]["Chart.yaml"]["appended"]
    if appended:
        # jupyterhub: tools/set-chart-yaml-annotations.py lists the chart's images
        listed = yaml.safe_load(yaml.safe_load(appended)["annotations"]["artifacthub.io/images"])
        assert {entry["image"] for entry in listed} == _images(values)
        assert chart["annotations"] == yaml.safe_load(appended)["annotations"]


@each_dependency
def test_values_schema_json_is_generated(name):
    manifest = _manifest(name)
    assert manifest["files"]["values.schema.json"] == {"generated_from": "values.schema.yaml"}
    source = _vendored(name) / "values.schema.yaml"
    if not source.is_file():
        # left out by the chart's .helmignore (jupyterhub): the file of the tag is kept here
        blob = manifest["left_out_by_helmignore"]["values.schema.yaml"]
        source = UPSTREAM / f"{name}-{DEPENDENCIES[name]}.values.schema.yaml"
        assert dependencies.git_blob_id(source.read_bytes()) == blob
    schema = yaml.safe_load(source.read_text())
    _drop_descriptions(schema)
    expected = json.dumps(schema)
    assert (_vendored(name) / "values.schema.json").read_text() == expected


@each_dependency
def test_left_out_files_are_what_helmignore_leaves_out(name):
    manifest = _manifest(name)
    left_out = manifest["left_out_by_helmignore"]
    ignore = (_vendored(name) / ".helmignore").read_text().splitlines()
    patterns = {p.strip() for p in ignore if p.strip() and not p.startswith("#")}
    for path in left_out:
        base = Path(path).name
        assert path in patterns or base in patterns or f"*{Path(path).suffix}" in patterns, path


def test_helm_finds_every_dependency_in_charts():
    """Helm's own check (`helm dependency list`): the vendored charts satisfy Chart.yaml."""
    listed = {d["name"]: d for d in helm_python.dependency_list(CHART)}
    assert {n: d["version"] for n, d in listed.items()} == DEPENDENCIES
    assert {d["status"] for d in listed.values()} == {"unpacked"}
    assert lock.check() == []


def test_a_downloaded_archive_beside_the_vendored_chart_changes_nothing(tmp_path):
    """An operator online may still run `helm dependency build`: it downloads each chart as
    <name>-<version>.tgz next to our unpacked copy (Helm keeps directories). Helm then uses
    one copy per dependency, so the render is the same."""
    import helmchart

    copy = tmp_path / "soc-workspace"
    shutil.copytree(CHART, copy)
    for name in DEPENDENCIES:
        helm_python.package(copy / "charts" / name, destination=copy / "charts")
    values = helmchart.user_values(*helmchart.VALUES_SETS["private-trial"])
    before = helmchart.render(values)
    with helm_python.Chart.load(copy) as chart:
        after = chart.render(values, name=helmchart.RELEASE, namespace=helmchart.NAMESPACE)

    def identities(rendered):  # z2jh's generated secrets differ between renders
        return sorted(
            (path, o["kind"], o["metadata"]["name"]) for path, o in helmchart.objects(rendered)
        )

    assert sorted(after) == sorted(before)
    assert identities(after) == identities(before)
