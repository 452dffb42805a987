"""Fixtures of the rerun tests: the test instrument's mission environment, SOC data in the store.

See rerun_helpers.py for how the test instrument stands in for HERMES EEA.
"""

from __future__ import annotations

import os
import pwd
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from .rerun_helpers import ENV_NAME, SHARED_FILES_NOTE, SOC, SPEC, routing


@pytest.fixture(scope="session")
def environments_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("environments")


@pytest.fixture(scope="session")
def instrument_env(environments_dir: Path) -> Path:
    """The test instrument's environment, built ONCE per session by the real CLI with uv."""
    env = {**os.environ, **routing(environments_dir)}
    # Reuse the machine's uv cache: the hermetic HOME of the tests has none.
    real_cache = Path(pwd.getpwuid(os.getuid()).pw_dir) / ".cache" / "uv"
    if "UV_CACHE_DIR" not in env and real_cache.is_dir():
        env["UV_CACHE_DIR"] = str(real_cache)
    done = subprocess.run(
        [str(SOC), "env", "create", ENV_NAME, "--spec", str(SPEC)],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return environments_dir / ENV_NAME


@pytest.fixture(scope="module")
def rerun_env(instrument_env: Path, environments_dir: Path, embedded_store) -> Iterator[object]:
    """For one test module: settings route hermes/eea to the test instrument, store is ours."""
    with pytest.MonkeyPatch.context() as patch:
        for name, value in {**embedded_store.environment(), **routing(environments_dir)}.items():
            patch.setenv(name, value)
        yield embedded_store


@pytest.fixture(scope="module")
def s3(rerun_env):
    import s3fs

    return s3fs.S3FileSystem(**rerun_env.storage_options(), skip_instance_cache=True)


@pytest.fixture(scope="session")
def shared_file(shared_data):
    """A real SOC file by its path under ../shared/data (the test skips without it)."""

    def find(relative: str) -> Path:
        path = shared_data / relative
        if not path.is_file():
            pytest.skip(f"{path} is missing: {SHARED_FILES_NOTE}")
        return path

    return find
