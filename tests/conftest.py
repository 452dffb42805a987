"""Shared test set-up: a hermetic environment, the real SOC sample files, an embedded store.

Every test run points HOME, XDG_*, SPACEPY and SWXSOC_CONFIGDIR into a temporary directory and
drops the caller's AWS and SOC_WORKSPACE settings, so no test reads or writes the user's files
or reaches a real bucket.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(
    os.environ.get("SOC_WORKSPACE_SHARED_DATA", PROJECT_ROOT.parent / "shared" / "data")
)
_SANDBOX = Path(tempfile.mkdtemp(prefix="soc-workspace-tests-"))


def pytest_configure(config: pytest.Config) -> None:
    # Before any test module is imported: libraries read these at import time.
    for name in list(os.environ):
        if name.startswith(("AWS_", "SOC_WORKSPACE__", "DASK_GATEWAY__")) or name in (
            "SOC_WORKSPACE_CONFIG",
            "LAMBDA_ENVIRONMENT",
            "SWXSOC_MISSION",
        ):
            del os.environ[name]
    home = _SANDBOX / "home"
    for sub in ("", ".config", ".cache", ".local/share", ".spacepy", ".config/swxsoc"):
        (home / sub).mkdir(parents=True, exist_ok=True)
    os.environ.update(
        HOME=str(home),
        XDG_CONFIG_HOME=str(home / ".config"),
        XDG_CACHE_HOME=str(home / ".cache"),
        XDG_DATA_HOME=str(home / ".local/share"),
        SPACEPY=str(home / ".spacepy"),
        SWXSOC_CONFIGDIR=str(home / ".config/swxsoc"),
        AWS_CONFIG_FILE=str(home / ".aws-config-absent"),
        AWS_SHARED_CREDENTIALS_FILE=str(home / ".aws-credentials-absent"),
        AWS_EC2_METADATA_DISABLED="true",
        MPLBACKEND="Agg",
    )


def pytest_unconfigure(config: pytest.Config) -> None:
    shutil.rmtree(_SANDBOX, ignore_errors=True)


@pytest.fixture(autouse=True, scope="session")
def _work_in_sandbox() -> Iterator[Path]:
    """Run from a scratch working directory (swxsoc writes swxsoc.log into the cwd)."""
    work = _SANDBOX / "cwd"
    work.mkdir(exist_ok=True)
    before = Path.cwd()
    os.chdir(work)
    yield work
    os.chdir(before)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real HERMES and PADRE files beside the project (``../shared/data``)."""
    if not SHARED_DATA.is_dir():
        pytest.skip(
            f"the real SOC sample files are not at {SHARED_DATA}; put the shared/ folder beside "
            "the project (or set SOC_WORKSPACE_SHARED_DATA) to run this test"
        )
    return SHARED_DATA


def shared_files(pattern: str = "*") -> list[Path]:
    """Real sample files for parametrised tests (empty when shared/ is absent)."""
    if not SHARED_DATA.is_dir():
        return []
    return sorted(p for p in SHARED_DATA.glob(f"*/*/*/{pattern}") if p.is_file())


@pytest.fixture(scope="session")
def embedded_store() -> Iterator[object]:
    """One embedded S3 store (moto server on loopback) for the whole run, with no state dir."""
    from soc_workspace.store import EmbeddedStore

    with EmbeddedStore(None) as store:
        yield store


@pytest.fixture
def store_env(embedded_store, monkeypatch: pytest.MonkeyPatch):
    """Point the settings and boto3 at the embedded store for one test."""
    for name, value in embedded_store.environment().items():
        monkeypatch.setenv(name, value)
    return embedded_store


def serve_store(state: Path, *extra: str, timeout: float = 60) -> tuple[subprocess.Popen, dict]:
    """Start `soc-workspace store serve` as a real process; return it and its connection info.

    The process writes text to ``proc.stdout``; extra arguments go to ``store serve``.
    """
    connection = state / "store.json"
    connection.unlink(missing_ok=True)  # a crashed server leaves its file behind
    proc = subprocess.Popen(
        [sys.executable, "-m", "soc_workspace.cli", "store", "serve", "--state-dir", str(state),
         *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )  # fmt: skip
    deadline = time.monotonic() + timeout
    while not connection.exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise AssertionError(f"store did not start: {proc.stdout.read()}")
        time.sleep(0.05)
    return proc, json.loads(connection.read_text())
