"""A live catalog: S3 event notifications from an SQS queue, applied to the index in small batches.

On AWS the buckets' notifications (``s3:ObjectCreated:*``, ``s3:ObjectRemoved:*``) go to an SQS
queue that the SOC's infrastructure configures; ``soc-workspace catalog watch`` reads it. On the
embedded store (moto 5.2.5's server delivers the same event JSON to its own SQS queues, checked
by experiment and by tests/test_catalog_watch.py), ``subscribe=True`` creates the queue and
points the indexed buckets' notifications at it; a bucket subscribed anew is then caught up
once with ``update`` (its newest date folders listed), for what came before its events did.

Each batch is what the queue holds at that moment (up to ``max_batch`` messages): its keys are
handed, per bucket, to :func:`~soc_workspace.catalog.update` (HEAD each key: a created object is
added, a removed one dropped; conditional writes make concurrent updates safe), then the
messages are deleted. A batch that fails (store down) is not deleted: SQS delivers it again
after the queue's visibility timeout, and applying an event twice changes nothing.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from botocore.exceptions import BotoCoreError, ClientError

from ..config import Settings, current_settings
from ..store.credentials import Credentials
from .build import BuildReport, update
from .errors import CatalogError
from .events import BadEvent, ObjectEvent, events_in, is_index_file
from .location import MANIFEST, locate

log = logging.getLogger(__name__)

EVENTS = ["s3:ObjectCreated:*", "s3:ObjectRemoved:*"]
_WAIT_SECONDS = 2  # long poll: answers as soon as a message arrives, wakes to check for stop
_RESUBSCRIBE_SECONDS = 10.0
_RETRY_SECONDS = 2.0


@dataclass
class Batch:
    """What one batch did: messages read, keys per bucket, the updates' reports, failures."""

    messages: int = 0
    keys: dict[str, list[str]] = field(default_factory=dict)
    reports: list[BuildReport] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)  # bucket -> why (kept on the queue)
    ignored: list[str] = field(default_factory=list)  # why messages were dropped

    def summary(self) -> str:
        parts = [f"{self.messages} message(s)"]
        for report in self.reports:
            parts.append(
                f"{report.bucket}: {report.added} object(s) read, {len(report.removed)} removed, "
                + (f"generation {report.generation}" if report.generation else "unchanged")
            )
        parts += [f"{b}: FAILED ({why}), kept for redelivery" for b, why in self.failed.items()]
        parts += self.ignored
        return "; ".join(parts)


def queue_client(
    queue: str, settings: Settings | None = None, credentials: Credentials | None = None
) -> tuple[Any, str]:
    """An SQS client and the queue's URL, for a queue URL or a queue name.

    A URL names its endpoint (an AWS one is left to botocore); a name is looked up on the store's
    endpoint (``store.endpoint_url``, the embedded store's SQS) or AWS.
    """
    settings = settings or current_settings()
    keys = _client_keys(credentials, region=_region(queue))
    if queue.startswith(("http://", "https://")):
        parts = urlsplit(queue)
        if not parts.hostname or not parts.hostname.endswith("amazonaws.com"):
            keys["endpoint_url"] = f"{parts.scheme}://{parts.netloc}"
        return _client("sqs", keys), queue
    endpoint = settings.store.resolved_endpoint_url
    if endpoint:
        keys["endpoint_url"] = endpoint
    client = _client("sqs", keys)
    try:
        return client, client.get_queue_url(QueueName=queue)["QueueUrl"]
    except client.exceptions.QueueDoesNotExist:
        raise CatalogError(
            f"no SQS queue {queue!r} at {endpoint or 'AWS'} (setting catalog.events_queue, "
            "SOC_WORKSPACE__CATALOG__EVENTS_QUEUE, or --queue): give the queue the buckets' "
            "notifications go to"
        ) from None


def _client(service: str, keys: dict[str, Any]) -> Any:
    """A botocore client (botocore comes with s3fs; boto3 is not needed): the same calls."""
    import botocore.session

    return botocore.session.get_session().create_client(service, **keys)


def _client_keys(
    credentials: Credentials | None, region: str = "us-east-1", **more: Any
) -> dict[str, Any]:
    """Client arguments: the region, these keys (None: botocore's own chain), ``more``."""
    keys: dict[str, Any] = {"region_name": region, **more}
    if credentials is not None:
        keys.update(
            aws_access_key_id=credentials.access_key_id,
            aws_secret_access_key=credentials.secret_access_key,
        )
    return keys


def _region(queue: str) -> str:
    host = urlsplit(queue).hostname or ""
    if host.startswith("sqs.") and host.endswith(".amazonaws.com"):
        return host.split(".")[1]
    return "us-east-1"


def subscribe(
    queue: str,
    settings: Settings | None = None,
    credentials: Credentials | None = None,
    storage_options: dict[str, Any] | None = None,
) -> tuple[Any, str, list[str], list[str]]:
    """Create the queue and send it the object events of every indexed pipeline bucket.

    For the embedded store (on AWS the SOC's infrastructure does this): moto keeps queues and
    notification settings in memory, so this runs whenever ``watch`` starts and then again
    every few seconds, for buckets indexed later and for a restarted store. Returns the
    client, the queue URL, the buckets subscribed, and those of them subscribed just now
    (their uploads before this moment sent no event to the queue).
    """
    from ..store.policy import pipeline_buckets

    settings = settings or current_settings()
    endpoint = settings.store.resolved_endpoint_url
    if not endpoint:
        raise CatalogError(
            "subscribing buckets to a queue is for the embedded store (store.endpoint_url is "
            "empty: AWS); on AWS configure the buckets' event notifications with the SOC's "
            "infrastructure and pass the queue with --queue"
        )
    keys = _client_keys(credentials, endpoint_url=endpoint)
    sqs = _client("sqs", keys)
    name = queue.rstrip("/").rsplit("/", 1)[-1]
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    s3 = _client("s3", keys)
    existing = {b["Name"] for b in s3.list_buckets().get("Buckets", [])}
    wanted = {"QueueConfigurations": [{"QueueArn": arn, "Events": EVENTS}]}
    subscribed, added = [], []
    for bucket in sorted(existing & set(pipeline_buckets())):
        location = locate(bucket, settings, storage_options)
        if not location.fs.exists(location.path(MANIFEST)):
            continue  # not indexed (yet): `catalog build` first, events follow
        current = s3.get_bucket_notification_configuration(Bucket=bucket)
        if current.get("QueueConfigurations", [{}])[0].get("QueueArn") != arn:
            s3.put_bucket_notification_configuration(
                Bucket=bucket, NotificationConfiguration=wanted
            )
            added.append(bucket)
        subscribed.append(bucket)
    return sqs, url, subscribed, added


def apply(
    events: Iterable[ObjectEvent],
    *,
    operator: bool = False,
    settings: Settings | None = None,
    storage_options: dict[str, Any] | None = None,
) -> tuple[dict[str, list[str]], list[BuildReport], dict[str, str]]:
    """Apply object events to the indexes: per bucket, one :func:`update` of its keys.

    Returns the keys per bucket, the reports, and the buckets whose update failed (why):
    only those that may succeed later (the store did not answer, ...). A bucket without an
    index, or with a damaged one, raises nothing here: it is logged, and its events are
    dropped, since ``catalog build`` (which it needs) rescans the bucket anyway.
    """
    keys: dict[str, list[str]] = {}
    for event in events:
        if is_index_file(event.key):
            continue  # the catalog's own writes
        bucket_keys = keys.setdefault(event.bucket, [])
        if event.key not in bucket_keys:
            bucket_keys.append(event.key)
    reports, failed = [], {}
    for bucket, bucket_keys in keys.items():
        try:
            reports.append(
                update(
                    bucket,
                    bucket_keys,
                    operator=operator,
                    progress=False,
                    settings=settings,
                    storage_options=storage_options,
                )
            )
        except CatalogError as err:
            log.warning("events of s3://%s not applied: %s", bucket, err)
        except Exception as err:
            failed[bucket] = f"{type(err).__name__}: {err}"
    return keys, reports, failed


def watch(
    queue: str,
    *,
    operator: bool = False,
    subscribe_buckets: bool = False,
    max_batch: int = 100,
    stop: threading.Event | None = None,
    on_batch: Callable[[Batch], None] | None = None,
    settings: Settings | None = None,
    credentials: Credentials | None = None,
    storage_options: dict[str, Any] | None = None,
) -> None:
    """Read object events from ``queue`` and apply them to the indexes until ``stop`` is set.

    ``max_batch``: at most this many messages per batch (S3 sends one object per message).
    ``on_batch`` hears of every batch (the command prints its summary).
    """
    settings = settings or current_settings()
    stop = stop or threading.Event()

    def subscribed() -> tuple[Any, str]:
        sqs, url, buckets, added = subscribe(queue, settings, credentials, storage_options)
        log.info("queue %s receives the events of %s", url, ", ".join(buckets) or "no bucket yet")
        # What came before the subscription sent no event: list the newest date folders once.
        for bucket in added:
            try:
                update(bucket, operator=operator, progress=False, settings=settings,
                       storage_options=storage_options)  # fmt: skip
            except Exception as err:
                log.warning("catching up s3://%s after subscribing: %s", bucket, err)
        return sqs, url

    subscribed_at = time.monotonic()
    if subscribe_buckets:
        sqs, url = subscribed()
    else:
        sqs, url = queue_client(queue, settings, credentials)
    while not stop.is_set():
        try:
            if subscribe_buckets and time.monotonic() - subscribed_at > _RESUBSCRIBE_SECONDS:
                sqs, url = subscribed()
                subscribed_at = time.monotonic()
            messages = _receive(sqs, url, max_batch)
        except (BotoCoreError, ClientError) as err:
            # The queue or its store is away (a restarting embedded store loses its queue):
            # wait, and subscribe again at once where this process subscribes.
            log.warning("reading %s: %s; trying again in %g s", queue, err, _RETRY_SECONDS)
            stop.wait(_RETRY_SECONDS)
            subscribed_at = 0.0
            continue
        if not messages:
            continue
        batch, touched = _apply_messages(messages, operator, settings, storage_options)
        done = [
            m
            for m, buckets in zip(messages, touched, strict=True)
            if not buckets & set(batch.failed)
        ]
        for i in range(0, len(done), 10):
            sqs.delete_message_batch(
                QueueUrl=url,
                Entries=[
                    {"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]}
                    for n, m in enumerate(done[i : i + 10])
                ],
            )
        if on_batch is not None:
            on_batch(batch)


def _receive(sqs: Any, url: str, max_batch: int) -> list[dict[str, Any]]:
    """What the queue holds now: wait for a first message, then take what else is there."""
    got = sqs.receive_message(
        QueueUrl=url, MaxNumberOfMessages=min(10, max_batch), WaitTimeSeconds=_WAIT_SECONDS
    ).get("Messages", [])
    while got and len(got) < max_batch:
        more = sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=min(10, max_batch - len(got)), WaitTimeSeconds=0
        ).get("Messages", [])
        if not more:
            break
        got += more
    return got


def _apply_messages(
    messages: list[dict[str, Any]],
    operator: bool,
    settings: Settings,
    storage_options: dict[str, Any] | None,
) -> tuple[Batch, list[set[str]]]:
    """The batch applied, and the buckets each message named (its fate follows theirs)."""
    batch = Batch(messages=len(messages))
    events: list[ObjectEvent] = []
    touched: list[set[str]] = []
    for message in messages:
        try:
            found = events_in(message["Body"])
        except BadEvent as err:
            batch.ignored.append(f"message {message.get('MessageId', '?')} dropped: {err}")
            found = []
        touched.append({e.bucket for e in found})
        events += found
    batch.keys, batch.reports, batch.failed = apply(
        events, operator=operator, settings=settings, storage_options=storage_options
    )
    return batch, touched
