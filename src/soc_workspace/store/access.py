"""Object-store access from the settings: s3fs filesystems, and the write guard."""

from __future__ import annotations

from typing import Any

import s3fs

from ..config import Settings, load_settings
from ..missions import parse_bucket


class StoreError(RuntimeError):
    """The object store could not be reached or refused a request; the message says why."""


class PipelineBucketError(PermissionError):
    """A write to one of the SOC's pipeline buckets was refused."""


def storage_options(settings: Settings | None = None) -> dict[str, Any]:
    """Keyword arguments for ``s3fs.S3FileSystem`` (and fsspec ``storage_options``).

    Also what intake catalogs and ``xarray.open_dataset(..., storage_options=)`` take.
    """
    settings = settings or load_settings()
    store = settings.store
    options: dict[str, Any] = {
        "config_kwargs": {"retries": {"max_attempts": store.max_attempts, "mode": "standard"}},
    }
    # us-east-1 is S3's default; naming it makes s3fs send a LocationConstraint that S3
    # (and moto) reject when a bucket is created there.
    if store.region != "us-east-1":
        options["client_kwargs"] = {"region_name": store.region}
    endpoint = store.resolved_endpoint_url
    if endpoint:
        options["endpoint_url"] = endpoint
        # Path-style keys work with every S3 endpoint (MinIO, Ceph, moto); virtual hosts may not.
        options["config_kwargs"]["s3"] = {"addressing_style": "path"}
    if store.credentials == "anonymous":
        options["anon"] = True
    elif store.resolved_profile:
        options["profile"] = store.resolved_profile
    return options


def filesystem(settings: Settings | None = None, **overrides: Any) -> s3fs.S3FileSystem:
    """An s3fs filesystem configured from the settings (instances are shared by fsspec)."""
    return s3fs.S3FileSystem(**{**storage_options(settings), **overrides})


def bucket_of(url: str) -> str:
    """The bucket of ``s3://bucket/key`` or ``bucket/key``."""
    return url.removeprefix("s3://").split("/", 1)[0]


def is_pipeline_bucket(bucket: str) -> bool:
    """True for the SOC's instrument buckets (prod or dev), where only the pipeline writes."""
    try:
        parse_bucket(bucket)
    except ValueError:
        return False
    return True


def check_writable(url: str) -> str:
    """Refuse a write into a pipeline bucket; return ``url`` otherwise.

    Every code path of ours that writes to S3 calls this first.
    """
    bucket = bucket_of(url)
    if is_pipeline_bucket(bucket):
        raise PipelineBucketError(
            f"refusing to write {url!r}: {bucket!r} is a SOC pipeline bucket, which only the "
            "pipeline writes; write to your scratch location (settings: scratch.url) instead"
        )
    return url


def check_reachable(settings: Settings | None = None, *, timeout: float = 5.0) -> None:
    """Raise :class:`StoreError` naming the endpoint setting when the store does not answer."""
    import botocore.exceptions

    settings = settings or load_settings()
    endpoint = settings.store.resolved_endpoint_url or "AWS S3 (no endpoint configured)"
    fs = filesystem(
        settings,
        skip_instance_cache=True,
        config_kwargs={
            **storage_options(settings)["config_kwargs"],
            "connect_timeout": timeout,
            "read_timeout": timeout,
            "retries": {"max_attempts": 1},
        },
    )
    try:
        fs.ls("", refresh=True)
    except PermissionError:
        return  # it answered: listing buckets is simply not allowed with these credentials
    except botocore.exceptions.NoCredentialsError as err:
        raise StoreError(
            f"no credentials for the object store at {endpoint}: set AWS_ACCESS_KEY_ID and "
            "AWS_SECRET_ACCESS_KEY or AWS_PROFILE, or store.credentials = 'anonymous' "
            "(SOC_WORKSPACE__STORE__CREDENTIALS=anonymous) for public data"
        ) from err
    except (OSError, botocore.exceptions.BotoCoreError) as err:
        raise StoreError(
            f"the object store at {endpoint} does not answer ({err.__class__.__name__}: {err}). "
            "Check store.endpoint_url (SOC_WORKSPACE__STORE__ENDPOINT_URL or "
            "AWS_ENDPOINT_URL_S3), and that the store is running (`soc-workspace store serve`)."
        ) from err
