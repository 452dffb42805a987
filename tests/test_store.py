"""The object store: settings -> s3fs, the pipeline-bucket guard, the embedded S3 server."""

from __future__ import annotations

import os
import signal

import pytest
import requests
import s3fs
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials as BotoCredentials
from conftest import serve_store

from soc_workspace.store import (
    EmbeddedStore,
    PipelineBucketError,
    StoreError,
    check_reachable,
    check_writable,
    filesystem,
)


@pytest.mark.parametrize(
    "url", ["s3://hermes-eea/l1/x.cdf", "dev-padre-meddea/raw/y", "s3://swxsoc-pipeline-reach"]
)
def test_writes_to_pipeline_buckets_are_refused(url):
    with pytest.raises(PipelineBucketError, match=r"pipeline bucket.*scratch"):
        check_writable(url)


def test_writes_elsewhere_are_allowed():
    assert (
        check_writable("s3://soc-workspace-scratch/alice/x") == "s3://soc-workspace-scratch/alice/x"
    )


def test_settings_reach_the_embedded_store(store_env):
    fs = filesystem(skip_instance_cache=True)
    fs.mkdir("soc-test-settings")
    fs.pipe("soc-test-settings/a/b.txt", b"hello")
    assert fs.cat("soc-test-settings/a/b.txt") == b"hello"
    check_reachable()


def test_anonymous_requests_reach_the_embedded_store_and_are_refused(store_env, monkeypatch):
    operator = filesystem(skip_instance_cache=True)
    operator.mkdir("soc-test-anonymous")
    operator.pipe("soc-test-anonymous/a.txt", b"not for anyone")
    monkeypatch.setenv("SOC_WORKSPACE__STORE__CREDENTIALS", "anonymous")
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(name)
    check_reachable()  # it answers ...
    with pytest.raises(PermissionError):  # ... but lets no one in unsigned
        filesystem(skip_instance_cache=True).cat("soc-test-anonymous/a.txt")


def test_dead_endpoint_names_the_setting(monkeypatch):
    monkeypatch.setenv("SOC_WORKSPACE__STORE__ENDPOINT_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "x")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "y")
    with pytest.raises(StoreError, match=r"127\.0\.0\.1:9.*store\.endpoint_url"):
        check_reachable(timeout=1)


def test_missing_credentials_say_what_to_set(monkeypatch):
    monkeypatch.setenv("SOC_WORKSPACE__STORE__ENDPOINT_URL", "http://127.0.0.1:9")
    with pytest.raises(StoreError, match=r"AWS_ACCESS_KEY_ID.*anonymous"):
        check_reachable(timeout=1)


def test_only_one_embedded_store_per_process(embedded_store):
    with pytest.raises(RuntimeError, match="already runs"):
        EmbeddedStore(None).start()


def _client(info: dict) -> s3fs.S3FileSystem:
    return s3fs.S3FileSystem(**info, skip_instance_cache=True)


@pytest.mark.integration
def test_objects_survive_a_restart_and_a_crash(tmp_path):
    state = tmp_path / "state"
    proc, info = serve_store(state)
    try:
        assert info["endpoint_url"].startswith("http://127.0.0.1:")
        fs = _client(info)
        fs.mkdir("soc-workspace-scratch")
        fs.pipe("soc-workspace-scratch/alice/notes.txt", b"keep me")
        fs.pipe("soc-workspace-scratch/alice/odd//key", b"odd")
        fs.pipe("soc-workspace-scratch/alice/gone.txt", b"x")
        fs.rm("soc-workspace-scratch/alice/gone.txt")
        big = os.urandom(12 * 2**20)
        with fs.open("soc-workspace-scratch/alice/big.bin", "wb", block_size=5 * 2**20) as f:
            f.write(big)  # a multipart upload
        fs.mkdir("empty-bucket")
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=20)
    assert not (state / "store.json").exists()

    proc, info = serve_store(state)
    try:
        fs = _client(info)
        assert fs.cat("soc-workspace-scratch/alice/notes.txt") == b"keep me"
        assert fs.cat("soc-workspace-scratch/alice/odd//key") == b"odd"
        assert fs.cat("soc-workspace-scratch/alice/big.bin") == big
        assert not fs.exists("soc-workspace-scratch/alice/gone.txt")
        assert "empty-bucket" in fs.ls("", refresh=True)
        fs.pipe("soc-workspace-scratch/alice/after-crash.txt", b"acknowledged")
    finally:
        proc.kill()  # a crash: no clean shutdown
        proc.wait(timeout=20)

    proc, info = serve_store(state)
    try:
        assert _client(info).cat("soc-workspace-scratch/alice/after-crash.txt") == b"acknowledged"
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def _signed_virtual_host_request(
    options: dict, method: str, bucket: str, key: str, body: bytes = b""
) -> requests.Response:
    """A request as a client using virtual-host-style addresses sends it: the bucket in the
    Host header (``<bucket>.s3.amazonaws.com``), signed with the store's keys."""
    host = f"{bucket}.s3.amazonaws.com"
    request = AWSRequest(method=method, url=f"http://{host}/{key}", data=body)
    credentials = BotoCredentials(options["key"], options["secret"])
    S3SigV4Auth(credentials, "s3", "us-east-1").add_auth(request)
    headers = {**dict(request.headers), "Host": host}
    return requests.request(
        method, f"{options['endpoint_url']}/{key}", data=body, headers=headers, timeout=10
    )


@pytest.mark.integration
def test_virtual_host_style_writes_survive_a_restart(tmp_path):
    state = tmp_path / "state"
    proc, options = serve_store(state)
    try:
        fs = _client(options)
        fs.mkdir("soc-workspace-scratch")
        fs.pipe("soc-workspace-scratch/alice/gone.txt", b"x")
        put = _signed_virtual_host_request(
            options, "PUT", "soc-workspace-scratch", "alice/vhost.txt", b"by host"
        )
        assert put.status_code == 200, put.text
        gone = _signed_virtual_host_request(
            options, "DELETE", "soc-workspace-scratch", "alice/gone.txt"
        )
        assert gone.status_code == 204, gone.text
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    proc, options = serve_store(state)
    try:
        fs = _client(options)
        assert fs.cat("soc-workspace-scratch/alice/vhost.txt") == b"by host"
        assert not fs.exists("soc-workspace-scratch/alice/gone.txt")
        assert sorted(fs.ls("", refresh=True)) == ["soc-workspace-scratch"]  # no stray bucket
    finally:
        proc.terminate()
        proc.wait(timeout=20)
