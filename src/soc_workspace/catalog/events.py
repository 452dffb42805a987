"""S3 event notifications, as AWS delivers them to an SQS queue: which objects came and went.

The message body is S3's event JSON (``{"Records": [{"eventName": "ObjectCreated:Put", "s3":
{"bucket": {"name": ...}, "object": {"key": ...}}}]}``, keys URL-encoded with ``+`` for spaces),
or the same wrapped in an SNS notification (S3 -> SNS -> SQS), or S3's ``s3:TestEvent`` sent when
a notification is configured. See
https://docs.aws.amazon.com/AmazonS3/latest/userguide/notification-content-structure.html
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Literal
from urllib.parse import unquote_plus

from .location import CATALOG_JSON, PREFIX


class BadEvent(ValueError):
    """A message that is not an S3 event notification."""


@dataclass(frozen=True)
class ObjectEvent:
    """One object created or removed in a bucket."""

    bucket: str
    key: str
    kind: Literal["created", "removed"]


def events_in(body: str) -> list[ObjectEvent]:
    """The object events of one SQS message body (none for S3's test event).

    Raises :class:`BadEvent` naming what is wrong when the body is not an S3 notification.
    """
    try:
        message = json.loads(body)
    except ValueError as err:
        raise BadEvent(f"not JSON ({err}): {body[:200]!r}") from None
    if isinstance(message, dict) and message.get("Type") == "Notification":
        return events_in(str(message.get("Message", "")))  # delivered through SNS
    if isinstance(message, dict) and message.get("Event") == "s3:TestEvent":
        return []
    if not isinstance(message, dict) or not isinstance(message.get("Records"), list):
        raise BadEvent(f"no 'Records' list, not an S3 event notification: {body[:200]!r}")
    events = []
    for record in message["Records"]:
        try:
            name = record["eventName"]
            bucket = record["s3"]["bucket"]["name"]
            key = unquote_plus(record["s3"]["object"]["key"])
        except (KeyError, TypeError):
            raise BadEvent(
                f"a record without eventName, s3.bucket.name or s3.object.key: {record!r:.200}"
            ) from None
        if name.startswith("ObjectCreated:"):
            events.append(ObjectEvent(bucket, key, "created"))
        elif name.startswith("ObjectRemoved:"):
            events.append(ObjectEvent(bucket, key, "removed"))
        # other events (restore, tagging, lifecycle...) change no file of the index
    return events


def is_index_file(key: str) -> bool:
    """The catalog's own files beside the data: their writes are events too, never data."""
    return key == CATALOG_JSON or key.startswith(PREFIX)
