"""The images, checked without Docker: Dockerfiles lint clean and pin their bases, the locks
cover what the project needs at the versions the chart needs, the mission specs are fully
pinned. (The images' own tests run inside them: images/tests; CI runs those against the
notebook lock in tests/test_notebook_environment.py.)
"""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
IMAGES = ROOT / "images"
SPECS = ROOT / "src" / "soc_workspace" / "calibration" / "specs"
BIN = Path(sys.executable).parent
DOCKERFILES = sorted(IMAGES.glob("*/Dockerfile"))


def _chart_versions() -> dict[str, str]:
    chart = yaml.safe_load((ROOT / "helm" / "soc-workspace" / "Chart.yaml").read_text())
    return {d["name"]: d["version"] for d in chart["dependencies"]}


def _pins(path: Path) -> dict[str, str]:
    """name -> version of every `name==version` line of a lock or spec file."""
    pins = {}
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if "==" in line:
            name, version = line.split("==", 1)
            pins[canonicalize_name(name)] = version.strip()
    return pins


def _pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def _requirements_of(*extras: str) -> list[str]:
    """The project's requirements with these extras, its extras' references to itself
    (``soc-workspace[workspace]``) followed."""
    project = _pyproject()["project"]
    wanted, seen, todo = list(project["dependencies"]), set(), list(extras)
    while todo:
        extra = todo.pop()
        if extra in seen:
            continue
        seen.add(extra)
        for text in project["optional-dependencies"][extra]:
            requirement = Requirement(text)
            if canonicalize_name(requirement.name) == "soc-workspace":
                todo += sorted(requirement.extras)
            else:
                wanted.append(text)
    return wanted


def _unsatisfied(requirements: list[str], pins: dict[str, str]) -> list[str]:
    missing = []
    for text in requirements:
        requirement = Requirement(text)
        version = pins.get(canonicalize_name(requirement.name))
        if version is None or (requirement.specifier and version not in requirement.specifier):
            missing.append(f"{text} (locked: {version})")
    return missing


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: p.parent.name)
def test_dockerfile_lints_clean(dockerfile):
    result = subprocess.run(
        [str(BIN / "hadolint"), "--no-color", "--failure-threshold", "info", str(dockerfile)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_shell_scripts_lint_clean():
    scripts = sorted(IMAGES.glob("*/*.sh"))
    assert len(scripts) >= 3
    result = subprocess.run(
        [str(BIN / "shellcheck"), *map(str, scripts)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: p.parent.name)
def test_dockerfile_base_is_pinned_and_sources_exist(dockerfile):
    text = dockerfile.read_text()
    bases = re.findall(r"^FROM\s+(\S+)", text, re.M)
    assert bases
    for base in bases:
        name, _, tag = base.partition("@")[0].rpartition(":")
        assert name, f"{base}: no tag"
        assert re.match(r"^\d+(\.\d+)+", tag), f"{base}: not an exact version tag"
    # every COPY source is a path of this repository (the build context is its root)
    for source in re.findall(r"^COPY\s+(?!--from)(.+)\s+\S+$", text, re.M):
        for path in source.split():
            assert (ROOT / path).exists(), f"{dockerfile}: COPY {path} does not exist"


def test_notebook_base_is_pinned_by_digest():
    base = re.search(r"^FROM\s+(\S+)", (IMAGES / "notebook" / "Dockerfile").read_text(), re.M)
    assert re.search(r":3\.11\.\d+-slim-bookworm@sha256:[0-9a-f]{64}$", base.group(1))


def test_notebook_lock_covers_the_project_and_the_chart():
    lock = IMAGES / "notebook" / "requirements.lock"
    pins = _pins(lock)
    extension = tomllib.loads(
        (ROOT / "extensions" / "soc-workspace-lab" / "pyproject.toml").read_text()
    )
    wanted = (
        _requirements_of("workspace")
        + extension["project"]["dependencies"]
        + [
            line.split("#")[0].strip()
            for line in (IMAGES / "notebook" / "requirements.in").read_text().splitlines()
            if line.split("#")[0].strip()
        ]
    )
    assert _unsatisfied(wanted, pins) == [], "run images/notebook/lock.sh"
    assert pins["dask-gateway"] == _chart_versions()["dask-gateway"]
    assert pins["jupyterhub"] == "5.5.0"  # the hub of the jupyterhub chart 4.4.0
    assert all(re.match(r"^\d", v) for v in pins.values())


def test_packages_txt_is_the_lock():
    packages = IMAGES / "notebook" / "packages.txt"
    assert _pins(packages) == _pins(IMAGES / "notebook" / "requirements.lock")
    lines = [line for line in packages.read_text().splitlines() if not line.startswith("#")]
    assert lines == sorted(lines, key=str.lower), "packages.txt is sorted, one pin per line"


def test_hub_lock_keeps_the_charts_hub_and_adds_the_gateway():
    pins = _pins(IMAGES / "hub" / "requirements.lock")
    wanted = _requirements_of("kubernetes")
    assert _unsatisfied(wanted, pins) == [], "run images/hub/lock.sh"
    # what quay.io/jupyterhub/k8s-hub:4.4.0 ships, unchanged
    assert pins["jupyterhub"] == "5.5.0"
    assert pins["jupyterhub-kubespawner"] == "7.0.0"
    assert pins["dask-gateway-server"] == _chart_versions()["dask-gateway"]
    assert "k8s-hub:4.4.0" in (IMAGES / "hub" / "Dockerfile").read_text()
    assert _chart_versions()["jupyterhub"] == "4.4.0"


# -- mission specs (shared with `soc-workspace env create`) ------------------------------------

MISSION_SPECS = sorted(p for p in SPECS.glob("*.txt") if not p.name.endswith(".overrides.txt"))


def _requirements(path: Path) -> list[Requirement]:
    return [
        Requirement(line)
        for line in path.read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]


def test_there_is_a_spec_per_mission_stack():
    assert [p.stem for p in MISSION_SPECS] == ["hermes", "padre", "reach"]


@pytest.mark.parametrize("spec", MISSION_SPECS, ids=lambda p: p.stem)
def test_spec_is_completely_pinned(spec):
    requirements = _requirements(spec)
    assert len(requirements) > 20  # a whole environment, not just the top packages
    for requirement in requirements:
        if requirement.url:
            assert re.match(
                r"^git\+https://github\.com/[\w.-]+/[\w.-]+@[0-9a-f]{40}$", requirement.url
            ), f"{requirement}: git URLs are pinned to a full commit"
        else:
            (specifier,) = requirement.specifier
            assert specifier.operator == "==", f"{requirement}: not an exact version"
    names = [canonicalize_name(r.name) for r in requirements]
    assert len(names) == len(set(names)), "a package is listed twice"


@pytest.mark.parametrize("spec", MISSION_SPECS, ids=lambda p: p.stem)
def test_overrides_agree_with_the_spec(spec):
    overrides = spec.with_name(f"{spec.stem}.overrides.txt")
    pinned = {canonicalize_name(r.name): r for r in _requirements(spec)}
    for override in _requirements(overrides):
        assert str(pinned[canonicalize_name(override.name)]) == str(override)


def test_mission_stacks_pin_what_their_code_needs():
    hermes = _pins(SPECS / "hermes.txt")
    assert hermes["swxsoc"] == "0.1.0"  # hermes_core / hermes_eea work with nothing else
    padre = _pins(SPECS / "padre.txt")
    assert padre["astropy"].startswith("6.1.")
    assert padre["sunpy"].startswith("6.")
    assert tuple(map(int, padre["numpy"].split(".")[:2])) < (2, 4)
    git = {
        spec.stem: {canonicalize_name(r.name) for r in _requirements(spec) if r.url}
        for spec in MISSION_SPECS
    }
    assert git == {
        "hermes": {"hermes-core", "hermes-eea"},
        "padre": {"padre-meddea", "swxsoc"},
        "reach": {"swxsoc", "swxsoc-reach"},
    }
    # the padre commit the SOC runs (PADRESat/padre_meddea a246af7)
    assert "@a246af72f5d8a0d23691fa65665da47d4fed7d94" in (SPECS / "padre.txt").read_text()


def test_specs_ship_with_the_package():
    """`soc-workspace env create` and the image read the specs from the installed package."""
    import soc_workspace

    installed = Path(soc_workspace.__file__).parent / "calibration" / "specs"
    assert sorted(p.name for p in installed.glob("*.txt")) == sorted(
        p.name for p in SPECS.glob("*.txt")
    )


@pytest.mark.slow
@pytest.mark.integration
def test_build_kernels_is_env_create(tmp_path):
    """The image's kernels come from `soc-workspace env create`, as on one machine: here with
    the test instrument's spec (the real specs need GitHub)."""
    import json
    import os
    import pwd
    import shutil

    specs = tmp_path / "specs"
    specs.mkdir()
    shutil.copytree(ROOT / "tests" / "rerun" / "instrument", specs / "instrument")
    shutil.copyfile(ROOT / "tests" / "rerun" / "instrument.txt", specs / "soc-test.txt")
    envs, jupyter = tmp_path / "envs", tmp_path / "jupyter"
    env = {
        **os.environ,
        "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}",
        "SOC_WORKSPACE__CALIBRATION__JUPYTER_DATA_DIR": str(jupyter),
        "SOC_WORKSPACE__CALIBRATION__ENVIRONMENTS": '{"hermes/eea": "soc-test"}',
        "SOC_WORKSPACE__CALIBRATION__PACKAGES": '{"hermes/eea": "soc_test_instrument"}',
    }
    cache = Path(pwd.getpwuid(os.getuid()).pw_dir) / ".cache" / "uv"
    if cache.is_dir():  # the sandboxed HOME of the tests has no uv cache
        env.setdefault("UV_CACHE_DIR", str(cache))
    script = IMAGES / "notebook" / "build-kernels.sh"
    done = subprocess.run(
        ["bash", str(script), str(specs), str(envs), sys.executable],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    kernel = json.loads((jupyter / "kernels" / "soc-test" / "kernel.json").read_text())
    assert kernel["argv"][0] == str(envs / "soc-test" / "bin" / "python")
    assert kernel["display_name"] == "HERMES: soc-test (soc_test_instrument)"
    assert kernel["env"] == {"SWXSOC_MISSION": "hermes"}
    # what the image's own test (images/tests/test_kernels.py) reads
    frozen = (envs / "soc-test" / "freeze.txt").read_text().splitlines()
    assert "numpy==2.4.6" in frozen
    assert any(line.startswith("ipykernel==") for line in frozen)
