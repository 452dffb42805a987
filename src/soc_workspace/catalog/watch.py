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

from botocore.exceptions import BotoCoreError, ClientError

from ..config import Settings, current_settings
from ..store.credentials import Credentials
from .build import BuildReport, update
from .errors import CatalogError
from .events import BadEvent, ObjectEvent, events_in, is_index_file
from .events_queue import queue_client, subscribe

log = logging.getLogger(__name__)

_WAIT_SECONDS = 2  # long poll: answers as soon as a message arrives, wakes to check for stop
_RESUBSCRIBE_SECONDS = 10.0  # subscribe() again: new indexes, a restarted embedded store
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
