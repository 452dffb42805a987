"""The queue of the buckets' S3 event notifications: reaching it (a URL or a name), and on the
embedded store creating it and subscribing the indexed instrument buckets to it.

botocore clients (botocore comes with s3fs; boto3 is not needed); on AWS the queue and the
buckets' notification settings are the SOC's infrastructure, not ours.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from ..config import Settings, current_settings
from ..store.access import is_loopback
from ..store.credentials import Credentials
from .errors import CatalogError
from .location import MANIFEST, locate

EVENTS = ["s3:ObjectCreated:*", "s3:ObjectRemoved:*"]


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
    if not is_loopback(endpoint):
        # Notification settings are the buckets' own: on the SOC's store they are not ours.
        raise CatalogError(
            "--subscribe changes the instrument buckets' notification settings, so it is for "
            f"a store on this machine (the embedded store), not {endpoint or 'AWS S3'} "
            "(setting store.endpoint_url); there, have the SOC's infrastructure send the "
            "buckets' events to a queue and pass it with --queue"
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
