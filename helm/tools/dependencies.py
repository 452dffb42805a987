"""Rebuild the dependency charts in ``helm/soc-workspace/charts/`` from their tagged sources.

The chart depends on the jupyterhub (zero-to-jupyterhub-k8s) and dask-gateway charts at the
exact versions of ``Chart.yaml``. They are kept in the repository as Helm resolves them (like a
lock file: our code never edits them), made from each project's public git tag by that
project's own release steps and nothing else:

- ``chartpress --no-build --tag <version>`` sets the chart version and the image tags chartpress
  manages (``set-by-chartpress`` in the source);
- the project's ``generate-json-schema.py`` writes ``values.schema.json`` from
  ``values.schema.yaml``; the jupyterhub release also appends the ``artifacthub.io/images``
  annotations to ``Chart.yaml`` (``tools/set-chart-yaml-annotations.py``);
- Helm's own packaging decides which files the chart has (``.helmignore``).

The bytes of every file are the source's (Helm re-serialises ``Chart.yaml`` when it packages a
chart; the source's text is kept instead, so its diff against the tag is the version line).
Each chart's licence (the repository's ``LICENSE``) is put beside it. A manifest per chart
(``tests/helm/upstream/<name>-<version>.json``) records the tag's commit, the git blob id of
every source file, what was left out and what the release changed; ``tests/helm/
test_dependencies.py`` checks the committed charts against it without network.

Usage (with clones of both repositories, e.g. ``git clone --bare``)::

    python helm/tools/dependencies.py --checkout jupyterhub=../zero-to-jupyterhub-k8s \\
        --checkout dask-gateway=../dask-gateway

chartpress is run with ``uv tool run --from chartpress==2.4.0 chartpress`` (network: PyPI; set
``CHARTPRESS`` to another command). Afterwards ``git diff`` shows what changed; after a version
bump in Chart.yaml also run ``python helm/tools/lock.py --write``.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import shlex
import shutil
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "helm" / "soc-workspace"
MANIFESTS = ROOT / "tests" / "helm" / "upstream"
# The chartpress of the releases (2026); uv comes with soc-workspace's environment.
CHARTPRESS = f"{sys.executable} -m uv tool run --from chartpress==2.4.0 chartpress"
# The placeholders chartpress replaces (in the sources at every tag).
VERSION_PLACEHOLDER = "0.0.1-set.by.chartpress"
TAG_PLACEHOLDER = "set-by-chartpress"


@dataclass(frozen=True)
class Source:
    """Where a dependency chart comes from and how its project releases it."""

    repository: str
    folder: str
    """The chart's folder in the repository."""
    chartpress_dir: str
    """Where chartpress.yaml is (chartpress runs there)."""
    release_scripts: tuple[str, ...]
    """The project's own release scripts, in the order its release workflow runs them
    around chartpress: (before, ...) and an optional one after (annotations)."""
    after_chartpress: tuple[str, ...] = ()


SOURCES: dict[str, Source] = {
    # .github/workflows/publish.yml at the tag: generate-json-schema.py, chartpress,
    # set-chart-yaml-annotations.py, then ci/publish packages the chart.
    "jupyterhub": Source(
        repository="https://github.com/jupyterhub/zero-to-jupyterhub-k8s",
        folder="jupyterhub",
        chartpress_dir=".",
        release_scripts=("tools/generate-json-schema.py",),
        after_chartpress=("tools/set-chart-yaml-annotations.py",),
    ),
    # .github/workflows/build-publish-helm-chart.yaml at the tag: generate-json-schema.py,
    # then continuous_integration/kubernetes/build-publish-helm-chart.sh (chartpress).
    "dask-gateway": Source(
        repository="https://github.com/dask/dask-gateway",
        folder="resources/helm/dask-gateway",
        chartpress_dir="resources/helm",
        release_scripts=("resources/helm/tools/generate-json-schema.py",),
    ),
}
GENERATED = "values.schema.json"
LICENSE = "LICENSE"


def git_blob_id(data: bytes) -> str:
    """The id git gives a file with these bytes (``git hash-object``)."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def dependencies(chart_dir: Path = CHART) -> dict[str, str]:
    """name -> exact version, from Chart.yaml."""
    metadata = yaml.safe_load((chart_dir / "Chart.yaml").read_text())
    return {d["name"]: str(d["version"]) for d in metadata.get("dependencies") or []}


def manifest_path(name: str, version: str) -> Path:
    return MANIFESTS / f"{name}-{version}.json"


def _git(checkout: Path, *args: str) -> bytes:
    return subprocess.run(
        ["git", "-C", str(checkout), *args], check=True, capture_output=True
    ).stdout


def _tree(checkout: Path, tag: str, path: str) -> dict[str, str]:
    """Files under ``path`` at ``tag``: path -> blob id."""
    listing = _git(checkout, "ls-tree", "-r", "-z", tag, "--", path).decode()
    files = {}
    for entry in filter(None, listing.split("\0")):
        meta, name = entry.split("\t", 1)
        _mode, kind, blob = meta.split()
        if kind == "blob":
            files[name] = blob
    return files


def _export(checkout: Path, tag: str, destination: Path) -> None:
    """The tree at ``tag`` as a fresh one-commit git repository tagged ``tag`` (chartpress
    reads git)."""
    archive = _git(checkout, "archive", "--format=tar", tag)
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(destination, filter="data")
    env = {**os.environ, "GIT_AUTHOR_NAME": "x", "GIT_AUTHOR_EMAIL": "x@localhost"}
    env |= {"GIT_COMMITTER_NAME": "x", "GIT_COMMITTER_EMAIL": "x@localhost"}
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-qm", tag], ["tag", tag]):
        subprocess.run(["git", "-C", str(destination), *args], check=True, env=env)


def _run(command: list[str], cwd: Path) -> None:
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True)
    if result.returncode:
        raise SystemExit(f"{shlex.join(command)} failed in {cwd}:\n{result.stdout}{result.stderr}")


def _packaged_files(chart_dir: Path) -> list[str]:
    """The files Helm's own packaging puts in the chart (after .helmignore)."""
    import helm_python

    with tempfile.TemporaryDirectory() as out:
        archive = helm_python.package(chart_dir, destination=out)
        with tarfile.open(archive) as tar:
            names = [m.name.split("/", 1)[1] for m in tar.getmembers() if m.isfile()]
    return sorted(names)


def _tag_paths(chartpress_yaml: Path, chart: str) -> list[str]:
    """The values.yaml paths of the image tags chartpress sets for ``chart``."""
    config = yaml.safe_load(chartpress_yaml.read_text())
    entry = next(c for c in config["charts"] if c["name"] == chart)
    paths = []
    for image in entry.get("images", {}).values():
        values_paths = image.get("valuesPath", [])
        if isinstance(values_paths, str):
            values_paths = [values_paths]
        paths += [f"{p}.tag" for p in values_paths]
    return sorted(paths)


def _get(values: dict[str, Any], dotted: str) -> Any:
    node: Any = values
    for key in dotted.split("."):
        node = node[key]
    return node


def build(name: str, version: str, checkout: Path, chartpress: list[str]) -> dict[str, Any]:
    """Rebuild charts/<name> from ``checkout`` at tag ``version``; return its manifest."""
    source = SOURCES[name]
    commit = _git(checkout, "rev-parse", f"{version}^{{commit}}").decode().strip()
    upstream = _tree(checkout, version, source.folder)
    tools = {
        path: blob
        for path in (
            *source.release_scripts,
            *source.after_chartpress,
            f"{source.chartpress_dir}/chartpress.yaml".removeprefix("./"),
            LICENSE,
        )
        for blob in _tree(checkout, version, path).values()
    }
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp) / "src"
        _export(checkout, version, work)
        for script in source.release_scripts:
            _run([sys.executable, script], work)
        _run([*chartpress, "--no-build", "--tag", version], work / source.chartpress_dir)
        for script in source.after_chartpress:
            _run([sys.executable, script], work)
        prepared = work / source.folder
        included = _packaged_files(prepared)

        destination = CHART / "charts" / name
        if destination.exists():
            shutil.rmtree(destination)
        for relative in included:
            target = destination / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(prepared / relative, target)
        shutil.copyfile(work / LICENSE, destination / LICENSE)

        original_values = yaml.safe_load(
            _git(checkout, "show", f"{version}:{source.folder}/values.yaml")
        )
        released_values = yaml.safe_load((prepared / "values.yaml").read_text())
        tag_paths = _tag_paths(work / source.chartpress_dir / "chartpress.yaml", name)
        original_chart = _git(checkout, "show", f"{version}:{source.folder}/Chart.yaml").decode()
        released_chart = (prepared / "Chart.yaml").read_text()

    unversioned = released_chart.replace(
        f"version: {version}\n", f"version: {VERSION_PLACEHOLDER}\n", 1
    )
    appended = (
        unversioned[len(original_chart) :] if unversioned.startswith(original_chart) else None
    )
    if appended is None:
        raise SystemExit(
            f"{name}: the release changed Chart.yaml beyond its version and annotations"
        )
    files: dict[str, dict[str, Any]] = {}
    for relative in included:
        upstream_path = f"{source.folder}/{relative}"
        if relative == GENERATED and upstream_path not in upstream:
            files[relative] = {"generated_from": "values.schema.yaml"}
            continue
        files[relative] = {"upstream": upstream_path, "blob": upstream[upstream_path]}
    files[LICENSE] = {"upstream": LICENSE, "blob": tools[LICENSE]}
    left_out = {
        path.removeprefix(f"{source.folder}/"): blob
        for path, blob in upstream.items()
        if path.removeprefix(f"{source.folder}/") not in included
    }
    manifest = {
        "chart": name,
        "version": version,
        "source": {
            "repository": source.repository,
            "tag": version,
            "commit": commit,
            "folder": source.folder,
        },
        "files": files,
        "left_out_by_helmignore": left_out,
        "release": {
            "Chart.yaml": {
                "version": [VERSION_PLACEHOLDER, version],
                "appended": appended,
            },
            "values.yaml": {
                path: [_get(original_values, path), _get(released_values, path)]
                for path in tag_paths
            },
        },
        "release_tools": tools,
    }
    path = manifest_path(name, version)
    path.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return manifest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--checkout",
        action="append",
        default=[],
        metavar="NAME=PATH",
        help="a git clone of a dependency's repository (with its tags)",
    )
    args = parser.parse_args(argv)
    checkouts = dict(item.split("=", 1) for item in args.checkout)
    chartpress = shlex.split(os.environ.get("CHARTPRESS", CHARTPRESS))
    wanted = dependencies()
    unknown = set(checkouts) - set(wanted)
    if unknown:
        parser.error(f"not dependencies of {CHART / 'Chart.yaml'}: {', '.join(sorted(unknown))}")
    for name, version in wanted.items():
        if name not in checkouts:
            print(f"{name} {version}: no --checkout given, left as it is")
            continue
        manifest = build(name, version, Path(checkouts[name]), chartpress)
        print(
            f"{name} {version}: {len(manifest['files'])} files from "
            f"{manifest['source']['repository']} at {manifest['source']['commit'][:12]}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
