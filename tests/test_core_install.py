"""The core package on its own, as a laptop or a Dask worker installs it: `pip install
soc-workspace` without extras reads and finds data, and installs no hub, gateway server or S3
server.

The core's locked dependencies (``uv export``, no extras, no groups) go into a fresh venv
(from uv's cache when it has them, else from PyPI), then the project itself; that venv then
searches the catalog and opens files on a real S3 endpoint, a `soc-workspace store serve`
process started from this test's environment (the full one) and filled with demo data.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from conftest import PROJECT_ROOT

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(900)]

# What only the workspace extra brings: none of it may come with the core.
WORKSPACE_ONLY = ["jupyterhub", "moto", "dask_gateway_server", "papermill", "kubespawner"]


def _uv() -> list[str]:
    found = shutil.which("uv")
    return [found] if found else [sys.executable, "-m", "uv"]


def _run(command: list[str], **kwargs) -> subprocess.CompletedProcess:
    done = subprocess.run(command, capture_output=True, text=True, **kwargs)
    output = f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    assert done.returncode == 0, f"{' '.join(command)}\n{output}"
    return done


def _install(python: Path, *args: str, env: dict[str, str]) -> None:
    """uv pip install, from the cache alone when it can, else from the index."""
    command = [*_uv(), "pip", "install", "--quiet", "--python", str(python), *args]
    offline = subprocess.run([*command, "--offline"], capture_output=True, text=True, env=env)
    if offline.returncode != 0:
        _run(command, env=env)


@pytest.fixture(scope="module")
def core_python(tmp_path_factory) -> Path:
    """A venv with the core package and nothing else."""
    work = tmp_path_factory.mktemp("core")
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    requirements = work / "core-requirements.txt"
    exported = _run(
        [*_uv(), "export", "--frozen", "--no-default-groups", "--no-emit-project", "--no-hashes",
         "--no-header", "--format", "requirements.txt", "--directory", str(PROJECT_ROOT)],
        env=env,
    )  # fmt: skip
    requirements.write_text(exported.stdout)
    venv = work / "venv"
    _run([*_uv(), "venv", "--quiet", "--python", sys.executable, str(venv)], env=env)
    python = venv / "bin" / "python"
    _install(python, "-r", str(requirements), env=env)
    _install(python, "--no-deps", str(PROJECT_ROOT), env=env)
    return python


def test_the_core_installs_no_workspace_parts(core_python):
    probe = "import importlib.util, json, sys; print(json.dumps({m: importlib.util.find_spec(m) is not None for m in sys.argv[1:]}))"  # noqa: E501
    found = json.loads(_run([str(core_python), "-c", probe, *WORKSPACE_ONLY]).stdout)
    assert found == dict.fromkeys(WORKSPACE_ONLY, False)
    # a command of the workspace says what to install instead of a traceback
    up = subprocess.run(
        [str(core_python), "-m", "soc_workspace", "up"], capture_output=True, text=True
    )
    assert up.returncode == 1
    assert "pip install 'soc-workspace[workspace]'" in up.stderr
    assert "Traceback" not in up.stderr


def test_the_core_searches_and_opens_data_on_s3(core_python, tmp_path):
    from soc_workspace import open_catalog_files, open_dataset, search
    from soc_workspace.catalog import clear_cache
    from soc_workspace.demo import write_demo_data
    from soc_workspace.store.process import serve_in_subprocess

    store = serve_in_subprocess(tmp_path / "store")
    try:
        write_demo_data(store.storage_options(), days=1, instruments=["merit"], progress=False)
        env = {
            "PATH": os.environ["PATH"],
            "HOME": str(tmp_path / "home"),  # no user settings file
            "SOC_WORKSPACE__CATALOG__CACHE_DIR": str(tmp_path / "cache"),
            **store.environment(),
        }
        script = textwrap.dedent(
            """
            import json
            import soc_workspace as soc

            found = soc.search("hermes", "merit", "l1", "2025-06-01T00:00", "2025-06-01T03:00")
            one = soc.open_dataset(found["url"].iloc[0])
            three = soc.open_catalog_files(found)
            time = next(d for d in three.dims if str(three[d].dtype).startswith("datetime64"))
            print(json.dumps({
                "urls": found["url"].tolist(),
                "one": {name: one[name].sizes[time] for name in one.data_vars if time in one[name].dims},
                "records": three.sizes[time],
                "first": str(three[time].values[0]),
            }))
            """  # noqa: E501
        )
        done = _run([str(core_python), "-c", script], env=env, cwd=tmp_path)
        got = json.loads(done.stdout.strip().splitlines()[-1])
        cli = _run(
            [str(core_python), "-m", "soc_workspace", "catalog", "search", "-m", "hermes",
             "-i", "merit", "-l", "l1", "--start", "2025-06-01T00:00", "--stop",
             "2025-06-01T03:00", "--format", "urls"],
            env=env, cwd=tmp_path,
        )  # fmt: skip
        # the same calls here, in the full environment, on the same store
        clear_cache()
        options = store.storage_options()
        found = search(
            "hermes", "merit", "l1", "2025-06-01T00:00", "2025-06-01T03:00",
            storage_options=options,
        )  # fmt: skip
        one = open_dataset(found["url"].iloc[0], storage_options=options)
        three = open_catalog_files(found, storage_options=options)
    finally:
        store.stop()
    assert got["urls"] == found["url"].tolist()
    assert len(got["urls"]) == 3  # hours 0, 1 and 2, newest versions
    assert cli.stdout.split() == got["urls"]
    time = next(d for d in three.dims if str(three[d].dtype).startswith("datetime64"))
    assert got["records"] == three.sizes[time] > 0
    assert got["first"] == str(three[time].values[0])
    assert got["one"] == {
        name: one[name].sizes[time] for name in one.data_vars if time in one[name].dims
    }
    assert got["one"]
