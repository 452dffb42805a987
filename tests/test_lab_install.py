"""The JupyterLab extension as it is shipped: a wheel carrying the prebuilt frontend and the
file that enables its server part, installed in this environment by `uv sync`, which
`soc-workspace up` checks for (users' servers run from this environment)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import zipfile
from importlib.metadata import version
from pathlib import Path

import pytest
from conftest import PROJECT_ROOT

from soc_workspace.local.labextension import installed_lab_extension

EXTENSION = PROJECT_ROOT / "extensions" / "soc-workspace-lab"


def test_the_versions_agree():
    package = json.loads((EXTENSION / "package.json").read_text())
    assert version("soc-workspace-lab") == package["version"]


def test_this_environment_has_it_installed_and_enabled():
    assert installed_lab_extension() == version("soc-workspace-lab")


def test_a_missing_or_disabled_extension_is_noticed(tmp_path):
    prefix = tmp_path / "env"
    for part in ("share/jupyter/labextensions/soc-workspace-lab", "etc/jupyter"):
        source = Path(sys.prefix, part)
        shutil.copytree(source, prefix / part)
    assert installed_lab_extension(prefix) == version("soc-workspace-lab")
    config = prefix / "etc/jupyter/jupyter_server_config.d/soc_workspace_lab.json"
    config.write_text(
        json.dumps({"ServerApp": {"jpserver_extensions": {"soc_workspace_lab": False}}})
    )
    assert installed_lab_extension(prefix) is None
    config.unlink()
    assert installed_lab_extension(prefix) is None
    assert installed_lab_extension(tmp_path / "nothing") is None


@pytest.mark.slow
def test_the_wheel_carries_the_built_frontend_and_the_server_config(tmp_path):
    """What the notebook image installs (its Dockerfile builds this same wheel)."""
    uv = shutil.which("uv")
    command = [uv] if uv else [sys.executable, "-m", "uv"]
    built = subprocess.run(
        [*command, "build", "--wheel", "--out-dir", str(tmp_path), str(EXTENSION)],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    [wheel] = tmp_path.glob("soc_workspace_lab-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    data = f"soc_workspace_lab-{version('soc-workspace-lab')}.data/data/"
    frontend = data + "share/jupyter/labextensions/soc-workspace-lab/"
    assert frontend + "package.json" in names
    assert frontend + "install.json" in names
    assert any(n.startswith(frontend + "static/remoteEntry.") for n in names), names
    assert data + "etc/jupyter/jupyter_server_config.d/soc_workspace_lab.json" in names
    assert "soc_workspace_lab/handlers.py" in names
    # nothing of the build's tooling goes along
    assert not [n for n in names if "node_modules" in n or n.endswith(".ts")]
