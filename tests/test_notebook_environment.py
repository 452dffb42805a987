"""The notebook image's base environment, without Docker: install images/notebook/requirements.lock
into a fresh venv exactly as the Dockerfile does, then run the image's own tests (images/tests)
in it. What only the image has (mission kernels built from git, the notebook user) is skipped
there, with the reason; everything else must pass.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from xml.etree import ElementTree

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "images" / "notebook"


def _uv() -> list[str]:
    found = shutil.which("uv")
    if found:
        return [found]
    # tests/run.sh installs uv for the system Python (python3 -m uv)
    return [shutil.which("python3") or "python3", "-m", "uv"]


def _run(command: list[str], **kwargs) -> subprocess.CompletedProcess:
    result = subprocess.run(command, capture_output=True, text=True, **kwargs)
    assert result.returncode == 0, (
        f"{' '.join(command)}\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    )
    return result


def _skipped(report: Path) -> set[str]:
    """Node ids ("file::name[param]") of the skipped tests in a JUnit report."""
    skipped = set()
    for case in ElementTree.parse(report).iter("testcase"):
        if case.find("skipped") is not None:
            module = case.get("classname").rsplit(".", 1)[-1]
            skipped.add(f"{module}.py::{case.get('name')}")
    return skipped


@pytest.mark.slow
def test_image_tests_pass_in_the_locked_environment(tmp_path):
    venv = tmp_path / "venv"
    python = venv / "bin" / "python"
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env.pop("SOC_WORKSPACE_IMAGE", None)
    _run([*_uv(), "venv", "--quiet", "--python", sys.executable, str(venv)], env=env)
    _run(
        [
            *_uv(),
            "pip",
            "install",
            "--quiet",
            "--python",
            str(python),
            "--no-deps",
            "-r",
            str(NOTEBOOK / "requirements.lock"),
        ],
        env=env,
    )
    # soc_workspace and its JupyterLab extension, as the Dockerfile installs them (the
    # extension's wheel is built from the frontend `uv sync` built in this checkout).
    extension = ROOT / "extensions" / "soc-workspace-lab"
    install = [*_uv(), "pip", "install", "--quiet", "--python", str(python), "--no-deps"]
    _run([*install, str(ROOT), str(extension)], env=env)
    _run([*_uv(), "pip", "check", "--python", str(python)], env=env)
    # the Dockerfile copies etc/ into the environment's prefix
    shutil.copytree(NOTEBOOK / "etc", venv / "etc", dirs_exist_ok=True)

    local = tmp_path / "pod-local"
    env.update(
        HOME=str(tmp_path / "home"),
        SOC_WORKSPACE_LOCAL_DIR=str(local),
        JUPYTER_RUNTIME_DIR=str(local / "runtime"),
        SOC_WORKSPACE_CHART=str(ROOT / "helm" / "soc-workspace" / "Chart.yaml"),
    )
    (tmp_path / "home").mkdir()
    tests = ROOT / "images" / "tests"
    pytest_cmd = [str(python), "-m", "pytest", "-p", "no:cacheprovider", "--rootdir", str(tests)]
    listed = _run(
        [*pytest_cmd, "--collect-only", "-q", "-m", "image_only", str(tests)], env=env, cwd=tmp_path
    )
    image_only = {line.split("/")[-1] for line in listed.stdout.splitlines() if "::" in line}
    report = tmp_path / "report.xml"
    result = subprocess.run(
        [*pytest_cmd, "-q", "-rs", f"--junitxml={report}", str(tests)],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=600,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-6000:]
    summary = output.strip().splitlines()[-1]
    passed = int(re.search(r"(\d+) passed", summary).group(1))
    assert passed >= 30, summary
    # exactly the tests that need the image itself are skipped, and they say why
    assert image_only, "no image-only tests were collected"
    assert _skipped(report) == image_only, summary
    assert "only in the built notebook image" in output
