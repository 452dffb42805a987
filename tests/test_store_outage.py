"""When the store dies, `demo-data` and `catalog build/update` say so and what to do.

Real commands against real stores: a `store serve` process killed while `demo-data` writes
into it, and an endpoint where nothing listens. Each command must end with exit status 1 and
one message naming the endpoint and the fix, never a botocore traceback.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time

import pytest
import s3fs

from soc_workspace.store.credentials import store_environment
from soc_workspace.store.process import serve_in_subprocess

COMMAND = [sys.executable, "-m", "soc_workspace.cli"]


def _environment(endpoint: str) -> dict[str, str]:
    return {
        **os.environ,
        **store_environment(endpoint),
        # Keys of some kind, so the commands get as far as the endpoint (which is dead).
        "AWS_ACCESS_KEY_ID": "any",
        "AWS_SECRET_ACCESS_KEY": "any",
        "SOC_WORKSPACE__STORE__MAX_ATTEMPTS": "2",  # fail within seconds, not tens of them
    }


def _dead_endpoint() -> str:
    """A loopback URL where nothing listens (the port was free a moment ago)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}"


def _says_store_is_down(result: subprocess.CompletedProcess, endpoint: str, doing: str) -> None:
    err = result.stderr
    assert result.returncode == 1, (result.returncode, result.stdout, err)
    assert "Traceback" not in err, err
    assert f"error: the object store at {endpoint} did not answer while {doing}" in err, err
    assert "Check that it is running (`soc-workspace status`" in err, err


@pytest.mark.integration
def test_demo_data_says_the_store_stopped(tmp_path):
    store = serve_in_subprocess(tmp_path / "store")
    env = {**_environment(store.endpoint_url), **store.environment()}
    fs = s3fs.S3FileSystem(**store.storage_options())
    writer = subprocess.Popen(
        [*COMMAND, "demo-data", "--days", "30", "--store", store.endpoint_url, "--no-progress"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 120
        while not any(fs.find(b) for b in fs.ls("", refresh=True)):  # writing has begun
            assert writer.poll() is None, writer.communicate()
            assert time.monotonic() < deadline, "demo-data wrote nothing in 2 minutes"
            time.sleep(0.2)
            fs.invalidate_cache()
        store.process.send_signal(signal.SIGKILL)  # the store dies mid-run
        store.process.wait(timeout=10)
        out, err = writer.communicate(timeout=300)
    finally:
        writer.kill()
        store.process.kill()
    result = subprocess.CompletedProcess(writer.args, writer.returncode, out, err)
    _says_store_is_down(result, store.endpoint_url, "writing demo data")
    assert "run `soc-workspace demo-data` again" in err


@pytest.mark.integration
@pytest.mark.parametrize(
    "command",
    [
        ["catalog", "build", "--bucket", "hermes-eea"],
        ["catalog", "update", "--bucket", "hermes-eea"],
    ],
)
def test_catalog_commands_say_the_store_is_down(command):
    endpoint = _dead_endpoint()
    result = subprocess.run(
        [*COMMAND, *command, "-q"],
        env=_environment(endpoint),
        capture_output=True,
        text=True,
        timeout=300,
    )
    doing = "building" if command[1] == "build" else "updating"
    _says_store_is_down(result, endpoint, f"{doing} the index of s3://hermes-eea")
    assert "run the command again" in result.stderr
