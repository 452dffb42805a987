"""Start and stop a real workspace for a test module (``soc-workspace up`` / ``down``)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from soc_workspace.local.client import BrowserSession, HubAPI
from soc_workspace.local.workspace import Connection


def write_config(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def cli(
    *args: str, timeout: float = 300, codes: tuple[int, ...] = (0, 3)
) -> subprocess.CompletedProcess[str]:
    """Run the real ``soc-workspace`` command; fail with its output on another exit code."""
    result = subprocess.run(
        [sys.executable, "-m", "soc_workspace", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if result.returncode not in codes:
        raise AssertionError(
            f"soc-workspace {' '.join(args)} exited {result.returncode}:\n"
            f"{result.stdout}\n{result.stderr}"
        )
    return result


@contextmanager
def running_workspace(state_dir: Path, config: Path) -> Iterator[Connection]:
    """``up`` in ``state_dir`` with settings file ``config``; ``down`` at the end."""
    started = time.monotonic()
    result = cli("up", "--state-dir", str(state_dir), "--config", str(config))
    print(f"\nsoc-workspace up took {time.monotonic() - started:.1f} s:\n{result.stderr}")
    try:
        yield Connection.read(state_dir)
    finally:
        cli("down", "--state-dir", str(state_dir), "--config", str(config))


@contextmanager
def personal_demo_workspace(prefix: str) -> Iterator[Connection]:
    """A personal-mode workspace with a day of demo data, in a fresh state directory."""
    import shutil
    import textwrap

    state = public_dir(prefix)
    config = write_config(
        state.parent / f"{state.name}.toml",
        textwrap.dedent(
            """
            [workspace]
            port = 0
            demo_days = 1
            """
        ),
    )
    try:
        with running_workspace(state, config) as connection:
            yield connection
    finally:
        shutil.rmtree(state, ignore_errors=True)
        config.unlink()


def admin_session(connection: Connection) -> BrowserSession:
    session = BrowserSession(connection.hub_url)
    session.login(connection.admin_user, Path(connection.admin_password_file).read_text().strip())
    return session


def new_user(
    connection: Connection, admin: BrowserSession, name: str, password: str
) -> BrowserSession:
    """Sign up as a person does, get approved by the admin, log in."""
    session = BrowserSession(connection.hub_url)
    session.signup(name, password)
    admin.approve(name)
    session.login(name, password)
    return session


def hub_api(connection: Connection) -> HubAPI:
    return HubAPI(connection.api_url, connection.api_token)


def gateway_clusters(connection: Connection, user: str) -> dict[str, dict]:
    """A user's running clusters, asked of the gateway with a token of theirs."""
    import requests

    token = hub_api(connection).new_token(user, scopes=["access:services!service=dask-gateway"])
    response = requests.get(
        f"{connection.gateway_address}/api/v1/clusters/?status=pending,running",
        headers={"Authorization": f"jupyterhub {token}"},
        timeout=30,
    )
    response.raise_for_status()
    return response.json()


def public_dir(prefix: str) -> Path:
    """A temporary folder other system users may enter (pytest's tmp_path is private)."""
    import tempfile

    path = Path(tempfile.mkdtemp(prefix=prefix, dir="/tmp"))
    path.chmod(0o755)
    return path


def read_json(path: Path) -> dict:
    return json.loads(path.read_text())


def env_without(*names: str) -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in names}
