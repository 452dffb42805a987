"""Mission environments: pinned specs, `env create` with uv (for real), `env list`, routing."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from soc_workspace.calibration.environments import (
    SPECS_DIR,
    MissionEnvironmentError,
    check_spec,
    create_environment,
    environment_for,
    overrides_for,
    resolve_environment,
    spec_names,
)
from soc_workspace.config import load_settings

from .rerun_helpers import ENV_NAME, SOC, SPEC, kernels_dir, routing


def test_pinned_lines_pass_and_unpinned_lines_are_named():
    good = "\n".join(
        [
            "# comment",
            "numpy==2.4.6",
            "sunpy[all]==6.0.3 ; python_version >= '3.10'",
            "hermes_eea @ git+https://github.com/HERMES-SOC/hermes_eea@1cdd68e4ac8c8c1e1a2c3b1f0a4c5e6d7f8a9b0c",
            "./instrument",
            "-e ../other",
            "pkg @ file:///opt/pkgs/pkg",
            "pkg @ https://example.org/pkg-1.0.tar.gz#sha256=" + "0" * 64,
            "--index-url https://pypi.org/simple",
        ]
    )
    assert check_spec(good) == []
    bad = "numpy>=1.26\nhermes_core @ git+https://github.com/HERMES-SOC/hermes_core@main\n"
    bad += "swxsoc\npkg @ https://example.org/pkg.tar.gz\n-r other.txt\n"
    problems = check_spec(bad)
    assert len(problems) == 5
    assert problems[0].startswith("line 1: 'numpy>=1.26' is not pinned")
    assert "not pinned to a commit" in problems[1]
    assert "line 3: 'swxsoc'" in problems[2]
    assert "sha256" in problems[3]
    assert "'-r'" in problems[4]


@pytest.mark.parametrize("mission", ["hermes", "padre", "reach"])
def test_the_real_missions_specs_are_pinned(mission):
    spec = SPECS_DIR / f"{mission}.txt"
    text = spec.read_text()
    assert check_spec(text) == []
    # the instrument packages come from git, pinned to commits (they are not on PyPI)
    assert "git+https://github.com/" in text
    # the overrides beside it (used by env create and the image's kernels) are pinned too
    (overrides,) = overrides_for(spec)
    assert check_spec(overrides.read_text()) == []


def test_hermes_spec_pins_the_stack_hermes_needs():
    names = spec_names((SPECS_DIR / "hermes.txt").read_text())
    assert {"swxsoc", "hermes-core", "hermes-eea"} <= names
    assert "swxsoc==0.1.0" in (SPECS_DIR / "hermes.txt").read_text()
    padre = (SPECS_DIR / "padre.txt").read_text()
    assert "astropy==6.1" in padre
    assert "sunpy==6." in padre
    assert "padre-meddea @ git+" in padre or "padre_meddea @ git+" in padre


@pytest.mark.integration
def test_env_create_built_a_working_environment(instrument_env, environments_dir):
    python = instrument_env / "bin" / "python"
    done = subprocess.run(
        [
            str(python),
            "-c",
            "import soc_test_instrument.calibration.calibration as c; print(c.ITERATIONS)",
        ],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    marker = json.loads((instrument_env / "soc-workspace-env.json").read_text())
    assert marker["spec"] == SPEC.read_text()
    assert marker["name"] == ENV_NAME
    # the instrument is installed from a folder of this git checkout: its commit is recorded
    head = subprocess.run(
        ["git", "-C", str(SPEC.parent / "instrument"), "rev-parse", "HEAD"],
        capture_output=True,
        text=True,
    ).stdout.strip()
    if head:  # CI runs on a clone; a source archive has no commit to record
        assert marker["sources"]["soc-test-instrument"]["commit"] == head
        assert marker["sources"]["soc-test-instrument"]["path"].endswith("rerun/instrument")
    # the environment's exact package list, and its hash (the "lock" a notebook records)
    freeze = (instrument_env / "freeze.txt").read_text()
    assert "numpy==2.4.6" in freeze
    assert marker["lock_sha256"] == __import__("hashlib").sha256(freeze.encode()).hexdigest()


@pytest.mark.integration
def test_env_create_registers_a_kernel_with_soc_workspace_in_it(instrument_env, environments_dir):
    spec = json.loads(
        (kernels_dir(environments_dir) / "kernels" / ENV_NAME / "kernel.json").read_text()
    )
    python = instrument_env / "bin" / "python"
    assert spec["argv"][:3] == [str(python), "-m", "ipykernel_launcher"]
    assert spec["display_name"] == "HERMES: soc-test-instrument (soc_test_instrument)"
    assert spec["env"] == {"SWXSOC_MISSION": "hermes"}
    probe = (
        "import json, soc_workspace, xarray, ipykernel, numpy\n"
        "from importlib.metadata import version\n"
        "from soc_workspace import open_dataset\n"
        "print(json.dumps({'soc': soc_workspace.__file__, 'numpy': numpy.__version__,"
        " 'engines': sorted(xarray.backends.list_engines())}))"
    )
    done = subprocess.run([str(python), "-c", probe], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout)
    import soc_workspace

    # this installation's soc_workspace, the mission's numpy, xarray's "soc" engine
    assert Path(found["soc"]).resolve() == Path(soc_workspace.__file__).resolve()
    assert found["numpy"] == "2.4.6"
    assert "soc" in found["engines"]


@pytest.mark.integration
def test_env_remove_removes_the_kernel(instrument_env, environments_dir, monkeypatch):
    for name, value in routing(environments_dir).items():
        monkeypatch.setenv(name, value)
    spare = create_environment("spare", SPEC, display_name="Spare kernel")
    kernel = kernels_dir(environments_dir) / "kernels" / "spare" / "kernel.json"
    assert json.loads(kernel.read_text())["display_name"] == "Spare kernel"
    assert spare.kernel == "Spare kernel"
    done = subprocess.run(
        [str(SOC), "env", "remove", "spare", "--yes"], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert not kernel.parent.exists()
    assert not (environments_dir / "spare").exists()


@pytest.mark.integration
def test_env_list_shows_what_each_environment_holds(instrument_env, environments_dir):
    env = {**__import__("os").environ, **routing(environments_dir)}
    done = subprocess.run(
        [str(SOC), "env", "list", "--json"], env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    rows = {row["name"]: row for row in json.loads(done.stdout)}
    ours = rows[ENV_NAME]
    assert ours["exists"]
    assert ours["used_by"] == ["hermes/eea"]
    assert ours["packages"]["numpy"] == "2.4.6"
    assert ours["packages"]["cdflib"] == "1.3.16"
    assert ours["packages"]["soc-test-instrument"].startswith("file://")
    # the defaults still route HERMES to an environment called "hermes", not built here
    assert rows["hermes"]["exists"] is False
    table = subprocess.run(
        [str(SOC), "env", "list"], env={**env, "COLUMNS": "80"}, capture_output=True, text=True
    )
    lines = table.stdout.splitlines()
    # readable in an 80-column terminal: nothing wider, every name whole on its line
    assert max(len(line) for line in lines) <= 80, table.stdout
    assert any(ENV_NAME in line for line in lines)
    assert "missing" in table.stdout
    assert "To build hermes: soc-workspace env create hermes --spec" in table.stdout
    assert "HERMES:" in table.stdout  # its kernel (folded in the narrow column)
    assert "(soc_test_instrument)" in table.stdout
    assert "numpy" not in table.stdout  # packages only when asked
    packages = subprocess.run(
        [str(SOC), "env", "list", "--packages"],
        env={**env, "COLUMNS": "80"},
        capture_output=True,
        text=True,
    )
    assert max(len(line) for line in packages.stdout.splitlines()) <= 80
    assert "numpy" in packages.stdout
    assert "2.4.6" in packages.stdout


@pytest.mark.integration
def test_env_create_refuses_unpinned_specs_and_existing_environments(
    tmp_path, instrument_env, environments_dir, monkeypatch
):
    monkeypatch.setenv("SOC_WORKSPACE__CALIBRATION__ENVIRONMENTS_DIR", str(environments_dir))
    loose = tmp_path / "loose.txt"
    loose.write_text("numpy\n")
    with pytest.raises(ValueError, match=r"loose\.txt is not a pinned spec:\n  line 1: 'numpy'"):
        create_environment("loose", loose)
    assert not (environments_dir / "loose").exists()
    with pytest.raises(FileExistsError, match="pass force"):
        create_environment(ENV_NAME, SPEC)
    done = subprocess.run(
        [str(SOC), "env", "create", "loose", "--spec", str(loose)],
        capture_output=True,
        text=True,
        env={**__import__("os").environ},
    )
    assert done.returncode == 1
    assert "not pinned" in done.stderr


def test_missing_environment_says_how_to_build_it(tmp_path, monkeypatch):
    monkeypatch.setenv("SOC_WORKSPACE__CALIBRATION__ENVIRONMENTS_DIR", str(tmp_path))
    with pytest.raises(MissionEnvironmentError) as caught:
        environment_for("hermes", "eea")
    message = str(caught.value)
    assert "'hermes' does not exist" in message
    assert f"soc-workspace env create hermes --spec {SPECS_DIR / 'hermes.txt'}" in message


def test_routes_instrument_first_then_mission_and_accept_interpreter_paths(tmp_path, monkeypatch):
    python = tmp_path / "kernel" / "bin" / "python"
    python.parent.mkdir(parents=True)
    python.write_text("")
    monkeypatch.setenv(
        "SOC_WORKSPACE__CALIBRATION__ENVIRONMENTS", json.dumps({"padre/meddea": str(python)})
    )
    settings = load_settings()
    assert environment_for("padre", "meddea", settings).python == python
    with pytest.raises(MissionEnvironmentError, match="'padre' does not exist"):
        environment_for("padre", "sharp", settings)  # falls back to the mission's default
    with pytest.raises(MissionEnvironmentError, match="no Python interpreter at that path"):
        resolve_environment(str(tmp_path / "nope" / "python"), settings)


def test_remove_deletes_only_a_named_environment(tmp_path, monkeypatch):
    from soc_workspace.calibration import remove_environment

    monkeypatch.setenv("SOC_WORKSPACE__CALIBRATION__ENVIRONMENTS_DIR", str(tmp_path))
    (tmp_path / "old" / "bin").mkdir(parents=True)
    (tmp_path / "old" / "soc-workspace-env.json").write_text("{}")
    assert remove_environment("old") == tmp_path / "old"
    assert not (tmp_path / "old").exists()
    with pytest.raises(FileNotFoundError, match=r"no environment '\.\./etc'"):
        remove_environment("../etc")


def test_env_create_never_replaces_a_kernel_it_did_not_make(tmp_path, monkeypatch):
    from soc_workspace.calibration.kernels import check_kernel_name

    monkeypatch.setenv("SOC_WORKSPACE__CALIBRATION__ENVIRONMENTS_DIR", str(tmp_path / "envs"))
    monkeypatch.setenv("SOC_WORKSPACE__CALIBRATION__JUPYTER_DATA_DIR", str(tmp_path / "jupyter"))
    theirs = tmp_path / "jupyter" / "kernels" / "python3"
    theirs.mkdir(parents=True)
    (theirs / "kernel.json").write_text('{"argv": ["python"], "display_name": "Python 3"}')
    with pytest.raises(FileExistsError, match="env create did not make it"):
        create_environment("python3", SPEC)
    assert not (tmp_path / "envs" / "python3").exists()
    check_kernel_name("hermes")  # no kernel of that name: fine
