"""The embedded store honours S3 conditional writes over HTTP, also when writers race.

What the catalog's publishing relies on (AWS S3 semantics): ``If-None-Match: *`` creates only
a missing key, ``If-Match: <etag>`` replaces only that version; the loser gets 412. The race
test shortens the interpreter's thread switch interval so that the store's request threads
interleave often: without serialised writes, moto lets two writers through (its check and its
write are separate steps).
"""

from __future__ import annotations

import sys
import threading

import boto3
import botocore.config
import botocore.exceptions
import pytest


@pytest.fixture
def s3(embedded_store):
    client = boto3.client(
        "s3",
        endpoint_url=embedded_store.endpoint_url,
        aws_access_key_id=embedded_store.operator.access_key_id,
        aws_secret_access_key=embedded_store.operator.secret_access_key,
        region_name="us-east-1",
        config=botocore.config.Config(max_pool_connections=32, retries={"max_attempts": 1}),
    )
    if "conditional-writes" not in {b["Name"] for b in client.list_buckets()["Buckets"]}:
        client.create_bucket(Bucket="conditional-writes")
    return client


def _outcome(call) -> str:  # type: ignore[no-untyped-def]
    try:
        call()
    except botocore.exceptions.ClientError as err:
        return (
            f"{err.response['ResponseMetadata']['HTTPStatusCode']} {err.response['Error']['Code']}"
        )
    return "ok"


def test_conditional_puts_over_http(s3):
    put = s3.put_object
    bucket, key = "conditional-writes", "manifest.json"
    assert _outcome(lambda: put(Bucket=bucket, Key=key, Body=b"1", IfNoneMatch="*")) == "ok"
    assert _outcome(lambda: put(Bucket=bucket, Key=key, Body=b"2", IfNoneMatch="*")) == (
        "412 PreconditionFailed"
    )
    etag = s3.head_object(Bucket=bucket, Key=key)["ETag"]
    assert _outcome(lambda: put(Bucket=bucket, Key=key, Body=b"3", IfMatch=etag)) == "ok"
    assert _outcome(lambda: put(Bucket=bucket, Key=key, Body=b"4", IfMatch=etag)) == (
        "412 PreconditionFailed"
    )
    assert _outcome(lambda: put(Bucket=bucket, Key="absent", Body=b"5", IfMatch=etag)) == (
        "404 NoSuchKey"
    )
    assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == b"3"


def _race(s3, key: str, condition: dict[str, str], writers: int, tag: str) -> list[str]:  # type: ignore[no-untyped-def]
    """``writers`` threads PUT ``key`` at once under ``condition``; their outcomes.

    Bodies differ by writer and ``tag``: equal bodies have equal ETags, and If-Match cannot
    tell them apart (on S3 neither).
    """
    start = threading.Barrier(writers)
    outcomes: list[str] = []

    def write(i: int) -> None:
        body = f"{tag} writer {i}".encode() * 1000
        start.wait()
        put = s3.put_object
        outcomes.append(
            _outcome(lambda: put(Bucket="conditional-writes", Key=key, Body=body, **condition))
        )

    threads = [threading.Thread(target=write, args=(i,)) for i in range(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return outcomes


@pytest.mark.slow
def test_one_winner_among_racing_conditional_writers(s3):
    s3.put_object(Bucket="conditional-writes", Key="race", Body=b"0")
    several: list[str] = []
    before = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        for round_ in range(80):
            etag = s3.head_object(Bucket="conditional-writes", Key="race")["ETag"]
            for key, condition in (
                ("race", {"IfMatch": etag}),
                (f"new{round_}", {"IfNoneMatch": "*"}),
            ):
                outcomes = _race(s3, key, condition, writers=8, tag=str(round_))
                if outcomes.count("ok") != 1 or set(outcomes) - {"ok", "412 PreconditionFailed"}:
                    several.append(f"round {round_} {condition}: {sorted(outcomes)}")
    finally:
        sys.setswitchinterval(before)
    assert not several, "\n".join(several)
