"""Shared test set-up: a hermetic environment, the real SOC sample files, an embedded store.

Every test run points HOME, XDG_*, SPACEPY and SWXSOC_CONFIGDIR into a temporary directory and
drops the caller's AWS and SOC_WORKSPACE settings, so no test reads or writes the user's files
or reaches a real bucket.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
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
    """Start `soc-workspace store serve` as a real process; return it and the s3fs options
    that reach it as its operator (``endpoint_url``, ``key``, ``secret``, ...).

    The process writes text to ``proc.stdout``; extra arguments go to ``store serve``.
    """
    from soc_workspace.store.process import serve_in_subprocess

    store = serve_in_subprocess(state, *extra, timeout=timeout, stdout=subprocess.PIPE, text=True)
    return store.process, store.storage_options()


@contextlib.contextmanager
def operator_environment(info: dict, cache_dir: Path, **more: str) -> Iterator[dict[str, str]]:
    """This process pointed at a store process (``serve_store``'s options) as its operator,
    with a catalog cache of its own; yields the variables (for child processes too)."""
    from soc_workspace.catalog import clear_cache

    env = {
        "AWS_ENDPOINT_URL_S3": info["endpoint_url"],
        "AWS_ACCESS_KEY_ID": info["key"],
        "AWS_SECRET_ACCESS_KEY": info["secret"],
        "AWS_DEFAULT_REGION": "us-east-1",
        "SOC_WORKSPACE__STORE__ENDPOINT_URL": info["endpoint_url"],
        "SOC_WORKSPACE__CATALOG__CACHE_DIR": str(cache_dir),
        **more,
    }
    with pytest.MonkeyPatch.context() as mp:
        for name, value in env.items():
            mp.setenv(name, value)
        clear_cache()
        try:
            yield env
        finally:
            clear_cache()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    from isolation_table import table
    from screenshots import summary

    lines = table()
    if lines:
        terminalreporter.section("isolation matrix (multi-user workspace)")
        for line in lines:
            terminalreporter.write_line(line)
    folders = summary()
    if folders:
        terminalreporter.section("screenshots for review")
        for line in folders:
            terminalreporter.write_line(line)
