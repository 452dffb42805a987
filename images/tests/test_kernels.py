"""One kernel per mission stack, each its own environment with the mission's packages."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

# kernel -> (module the pipeline calls, swxsoc mission)
MISSIONS = {
    "hermes": ("hermes_eea.calibration", "hermes"),
    "padre": ("padre_meddea.calibration.calibration", "padre"),
    "reach": ("swxsoc_reach.calibration.calibration", "swxsoc_pipeline"),
}


def _kernelspecs() -> dict:
    from jupyter_client.kernelspec import KernelSpecManager

    return KernelSpecManager().get_all_specs()


def test_default_kernel_is_the_base_environment():
    spec = _kernelspecs()["python3"]["spec"]
    assert spec["argv"][0] in ("python", "python3", sys.executable)


@pytest.mark.image_only
@pytest.mark.parametrize("kernel", sorted(MISSIONS))
def test_mission_kernel(kernel, tmp_path):
    module, mission = MISSIONS[kernel]
    spec = _kernelspecs()[kernel]["spec"]
    python = spec["argv"][0]
    assert Path(python).resolve() != Path(sys.executable).resolve()
    assert spec["env"]["SWXSOC_MISSION"] == mission
    environment = {
        **os.environ,
        **spec["env"],
        "HOME": str(tmp_path),
        "SWXSOC_CONFIGDIR": str(tmp_path / "swxsoc"),
        "SPACEPY": str(tmp_path / "spacepy"),
    }
    probe = (
        f"import json, {module} as m; "
        "from importlib.metadata import version; "
        "print(json.dumps({'process_file': hasattr(m, 'process_file'), "
        "'ipykernel': version('ipykernel')}))"
    )
    result = subprocess.run(
        [python, "-c", probe],
        capture_output=True,
        text=True,
        env=environment,
        cwd=tmp_path,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    found = json.loads(result.stdout.strip().splitlines()[-1])
    assert found["process_file"], f"{module} has no process_file"


def _normalise(line: str) -> tuple[str, str]:
    """("hermes-core", "git+https://...@<sha>") or ("numpy", "==2.3.5") from a requirement."""
    name, _, rest = line.partition(" @ ") if " @ " in line else line.partition("==")
    pin = rest if " @ " in line else "==" + rest
    return name.strip().lower().replace("_", "-"), pin.strip()


@pytest.mark.image_only
@pytest.mark.parametrize("kernel", sorted(MISSIONS))
def test_mission_environment_is_its_spec(kernel):
    """Each kernel's environment holds exactly its spec's pins (freeze.txt, written at build)."""
    import soc_workspace

    spec_file = Path(soc_workspace.__file__).parent / "calibration" / "specs" / f"{kernel}.txt"
    wanted = dict(
        _normalise(line)
        for line in spec_file.read_text().splitlines()
        if line.strip() and not line.startswith("#")
    )
    kernels = Path(os.environ.get("KERNELS", "/opt/kernels"))
    frozen = dict(
        _normalise(line)
        for line in (kernels / kernel / "freeze.txt").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    )
    for package, pin in wanted.items():
        assert package in frozen, f"{kernel}: {package} is missing"
        if pin.startswith("=="):
            assert frozen[package] == pin, f"{kernel}: {package}{frozen[package]}, spec {pin}"
        else:  # a git URL at a commit
            assert pin.rsplit("@", 1)[1] in frozen[package], f"{kernel}: {package} not {pin}"
    assert "ipykernel" in frozen


@pytest.mark.image_only
def test_notebook_templates_are_in_the_image():
    templates = Path("/usr/local/share/soc-workspace/templates")
    assert list(templates.glob("*.ipynb"))


@pytest.mark.image_only
def test_runs_as_the_notebook_user():
    assert os.getuid() != 0
    assert Path.home() == Path("/home/jovyan")
