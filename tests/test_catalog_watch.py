"""A live catalog: the embedded store (a real moto server process) sends S3 event notifications
to its SQS queue, and a real `soc-workspace catalog watch` process applies them, so an uploaded
object is found by `search` (and a removed one is gone) without anyone running `catalog update`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime

import boto3
import pytest
import s3fs
from conftest import operator_environment, serve_store

from soc_workspace.catalog import CatalogError, search
from soc_workspace.catalog.events import BadEvent, ObjectEvent, events_in

FIRST = datetime(2025, 6, 1, tzinfo=UTC)
QUEUE = "catalog-events"

# The example of AWS's documentation (notification-content-structure.html), trimmed.
AWS_EXAMPLE = {
    "Records": [
        {
            "eventVersion": "2.1",
            "eventSource": "aws:s3",
            "awsRegion": "us-west-2",
            "eventTime": "1970-01-01T00:00:00.000Z",
            "eventName": "ObjectCreated:Put",
            "s3": {
                "s3SchemaVersion": "1.0",
                "configurationId": "testConfigRule",
                "bucket": {"name": "hermes-eea", "arn": "arn:aws:s3:::hermes-eea"},
                "object": {"key": "l1/2025/06/01/a+b%2Bc.cdf", "size": 1024, "eTag": "d41d8c"},
            },
        },
        {
            "eventName": "ObjectRemoved:Delete",
            "s3": {"bucket": {"name": "padre-meddea"}, "object": {"key": "raw/x.DAT"}},
        },
        {"eventName": "ObjectTagging:Put", "s3": {"bucket": {"name": "b"}, "object": {"key": "k"}}},
    ]
}


def test_events_are_read_as_aws_writes_them():
    assert events_in(json.dumps(AWS_EXAMPLE)) == [
        ObjectEvent("hermes-eea", "l1/2025/06/01/a b+c.cdf", "created"),
        ObjectEvent("padre-meddea", "raw/x.DAT", "removed"),
    ]
    # through SNS (S3 -> SNS -> SQS), and S3's test event when notifications are configured
    wrapped = {"Type": "Notification", "Message": json.dumps(AWS_EXAMPLE)}
    assert len(events_in(json.dumps(wrapped))) == 2
    assert events_in(json.dumps({"Service": "Amazon S3", "Event": "s3:TestEvent"})) == []


@pytest.mark.parametrize(
    ("body", "said"),
    [
        ("not json", "not JSON"),
        ('{"hello": 1}', "no 'Records' list"),
        ('{"Records": [{"eventName": "ObjectCreated:Put"}]}', "without eventName, s3.bucket"),
    ],
)
def test_a_message_that_is_no_event_says_so(body, said):
    with pytest.raises(BadEvent, match=said):
        events_in(body)


@pytest.fixture(scope="module")
def live_store(tmp_path_factory):
    """A store process (objects kept on disk) with a day of demo MERIT data and its index."""
    from soc_workspace.demo import write_demo_data

    proc, info = serve_store(tmp_path_factory.mktemp("watch-store"))
    cache = tmp_path_factory.mktemp("cache")
    # max_age 0: every search reads the manifest again
    with operator_environment(info, cache, SOC_WORKSPACE__CATALOG__MAX_AGE="0") as env:
        write_demo_data(days=1, start=FIRST.date(), instruments=["merit"], progress=False)
        yield s3fs.S3FileSystem(**info, skip_instance_cache=True), env
    proc.terminate()
    proc.wait(timeout=20)


@pytest.fixture
def watcher(live_store, tmp_path):
    """`soc-workspace catalog watch --subscribe` as a process of its own, once subscribed."""
    _, env = live_store
    log = tmp_path / "watch.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "soc_workspace", "catalog", "watch", "--queue", QUEUE,
             "--subscribe"],
            env={**os.environ, **env}, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    s3 = _client("s3", env)
    deadline = time.monotonic() + 60
    while not s3.get_bucket_notification_configuration(Bucket="hermes-merit").get(
        "QueueConfigurations"
    ):
        assert proc.poll() is None, log.read_text()
        assert time.monotonic() < deadline, f"watch did not subscribe: {log.read_text()}"
        time.sleep(0.2)
    yield proc, log
    proc.terminate()
    assert proc.wait(timeout=20) == 0, log.read_text()


def _until(found, what: str, log, timeout: float = 15.0):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while True:
        result = found()
        if result:
            return result
        assert time.monotonic() < deadline, f"{what} within {timeout} s; watch said:\n" + (
            log.read_text()
        )
        time.sleep(0.2)


@pytest.mark.integration
def test_an_upload_is_found_without_a_catalog_update(live_store, watcher):
    fs, env = live_store
    proc, log = watcher
    # A new file of the pipeline: an existing CDF under the name of the next day's first hour.
    old = next(p for p in fs.find("hermes-merit/l1") if p.endswith(".cdf"))
    name = "hermes_mrt_l1_20250602T000000_v1.0.0.cdf"
    new = "hermes-merit/l1/unknown/2025/06/02/" + name
    day = ("hermes", "merit", "l1", "2025-06-02", "2025-06-03")
    assert search(*day).empty
    fs.pipe(new, fs.cat(old))
    found = _until(lambda: len(search(*day)), "the upload searchable", log)
    assert found == 1
    assert search(*day)["url"].tolist() == [f"s3://{new}"]
    # removed from the bucket: gone from searches too
    fs.rm(new)
    _until(lambda: search(*day).empty, "the removal applied", log)
    # the index's own writes are events as well: the watcher ignores them, the queue empties
    _until(lambda: _drained(env), "the queue empty", log)
    assert proc.poll() is None
    assert "FAILED" not in log.read_text()


def _client(service: str, env: dict[str, str]):  # type: ignore[no-untyped-def]
    """A client of this store: its keys given (boto3's default session keeps the first keys
    it found, another test's store's)."""
    return boto3.client(
        service,
        endpoint_url=env["AWS_ENDPOINT_URL_S3"],
        aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
        region_name="us-east-1",
    )


def _drained(env) -> bool:  # type: ignore[no-untyped-def]
    sqs = _client("sqs", env)
    url = sqs.get_queue_url(QueueName=QUEUE)["QueueUrl"]
    attributes = sqs.get_queue_attributes(
        QueueUrl=url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return all(v == "0" for v in attributes.values())


@pytest.mark.integration
def test_bad_messages_are_reported_and_the_watch_goes_on(live_store, watcher):
    _, env = live_store
    proc, log = watcher
    sqs = _client("sqs", env)
    url = sqs.get_queue_url(QueueName=QUEUE)["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="this is no event")
    unindexed = json.loads(json.dumps(AWS_EXAMPLE))
    unindexed["Records"] = unindexed["Records"][:1]  # hermes-eea: no bucket, no index here
    sqs.send_message(QueueUrl=url, MessageBody=json.dumps(unindexed))
    _until(lambda: _drained(env), "the queue empty", log)
    _until(lambda: "dropped: not JSON" in log.read_text(), "the bad message reported", log)
    assert proc.poll() is None
    assert "FAILED" not in log.read_text()  # nothing kept for redelivery: nothing to retry


@pytest.mark.integration
def test_a_queue_that_does_not_exist_is_named(live_store):
    _, env = live_store
    done = subprocess.run(
        [sys.executable, "-m", "soc_workspace", "catalog", "watch", "--queue", "no-such-queue"],
        env={**os.environ, **env}, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode != 0
    assert "no SQS queue 'no-such-queue'" in done.stderr
    assert "catalog.events_queue" in done.stderr


@pytest.mark.parametrize("endpoint", ["", "https://s3.soc.example.org"])
def test_subscribing_is_only_for_a_store_on_this_machine(monkeypatch, endpoint):
    """Notification settings of the SOC's buckets are not the workspace's to change."""
    from soc_workspace.catalog.events_queue import subscribe

    monkeypatch.setenv("SOC_WORKSPACE__STORE__ENDPOINT_URL", endpoint)
    for name in ("AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"):  # empty: AWS S3 itself
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(CatalogError, match="for a store on this machine"):
        subscribe("catalog-events")
