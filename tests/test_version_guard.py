"""The version guard on real clusters: a scheduler and a worker started from another Python
environment (this project's packages, with another xarray installed over them) are refused with
a message naming xarray and both versions; a cluster of this environment passes."""

from __future__ import annotations

import subprocess
import sys
import sysconfig
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import metadata
from pathlib import Path

import pytest
from distributed import Client

from soc_workspace.config import load_settings
from soc_workspace.local.userenv import build_environment
from soc_workspace.version_guard import (
    VersionMismatchError,
    VersionMismatchWarning,
    check_versions,
    guarded_packages,
    mismatches,
)

pytestmark = [pytest.mark.integration, pytest.mark.slow]
OTHER_XARRAY = "2024.11.0"


@pytest.fixture(scope="module")
def other_environment(tmp_path_factory) -> Path:
    """This project's packages, with xarray OTHER_XARRAY installed over them (uv, from PyPI)."""
    from soc_workspace.calibration.environments import uv_binary

    assert metadata.version("xarray") != OTHER_XARRAY
    venv = tmp_path_factory.mktemp("other") / "venv"
    build_environment(venv, Path(sys.executable).resolve(), Path(sysconfig.get_paths()["purelib"]))
    python = str(venv / "bin" / "python")
    install = [uv_binary(), "pip", "install", "--quiet", "--no-deps", "--python", python]
    done = subprocess.run([*install, f"xarray=={OTHER_XARRAY}"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    probe = "from importlib.metadata import version; print(version('xarray'))"
    found = subprocess.run([venv / "bin/python", "-c", probe], capture_output=True, text=True)
    assert found.stdout.strip() == OTHER_XARRAY, found.stderr
    return venv


@contextmanager
def cluster_of(bin_dir: Path, folder: Path) -> Iterator[Client]:
    """A real scheduler and one worker run by the ``dask`` command of ``bin_dir``."""
    folder.mkdir(parents=True, exist_ok=True)
    address_file = folder / "scheduler.json"
    common = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, "cwd": folder}
    dask = str(bin_dir / "dask")
    local = ["--host", "127.0.0.1", "--dashboard-address", ":0"]
    scheduler = [dask, "scheduler", "--port", "0", "--scheduler-file", str(address_file)]
    worker = [dask, "worker", "--scheduler-file", str(address_file), "--nthreads", "1"]
    processes = [subprocess.Popen([*scheduler, *local], **common)]
    try:
        deadline = time.monotonic() + 60
        while not address_file.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        processes.append(subprocess.Popen([*worker, *local], **common))
        with Client(scheduler_file=str(address_file), timeout=60) as client:
            client.wait_for_workers(1, timeout=60)
            yield client
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=30)


def test_a_cluster_of_another_environment_is_refused_naming_the_package(
    other_environment, tmp_path
):
    with cluster_of(other_environment / "bin", tmp_path / "other") as client:
        with pytest.raises(VersionMismatchError) as refused:
            check_versions(client, "refuse")
        message = str(refused.value)
        ours = metadata.version("xarray")
        assert f"xarray: {ours} in this kernel, {OTHER_XARRAY} on scheduler and worker " in message
        # what matches is not named
        for same in ("numpy", "pandas", "dask:", "distributed", "python"):
            assert f"\n  {same}" not in message
        assert "dask.version_check" in message  # and how to go on anyway
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            found = check_versions(client, "warn")
        assert [w.category for w in caught] == [VersionMismatchWarning]
        assert len(found) == 1
        assert found[0].startswith("xarray: ")
        assert check_versions(client, "off") == []


def test_a_cluster_of_this_environment_passes(tmp_path):
    with cluster_of(Path(sys.executable).parent, tmp_path / "same") as client:
        assert check_versions(client, "refuse") == []


def test_dask_cluster_checks_every_new_cluster(monkeypatch):
    from soc_workspace.compute import dask_cluster

    monkeypatch.setenv("SOC_WORKSPACE__DASK__VERSION_CHECK", "refuse")
    assert load_settings().dask.version_check == "refuse"
    with dask_cluster(1) as client:  # a local cluster of this environment: it passes
        assert client.submit(lambda: 2 + 2).result() == 4


def test_mismatches_name_missing_mission_packages_and_count_workers():
    client = {"host": {"python": "3.11.7.final.0"}, "packages": {"swxsoc": "0.1.0"}}
    worker = {"host": {"python": "3.11.7.final.0"}, "packages": {"swxsoc": None}}
    versions = {
        "client": client,
        "scheduler": {"host": {"python": "3.11.7.final.0"}, "packages": {"swxsoc": "0.1.0"}},
        "workers": {f"tcp://127.0.0.1:{i}": worker for i in range(3)},
    }
    assert mismatches(versions, ["swxsoc"]) == [
        "swxsoc: 0.1.0 in this kernel, missing on 3 workers"
    ]


def test_the_guard_compares_the_core_packages_and_what_the_kernel_has():
    names = guarded_packages()
    assert names[:5] == ["dask", "distributed", "numpy", "pandas", "xarray"]
    assert "swxsoc" in names  # the test environment has swxsoc (0.2.3)
    assert "hermes-eea" not in names  # not installed here
