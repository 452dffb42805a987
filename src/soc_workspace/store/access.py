"""The one door to the object store: a URL becomes a filesystem here, with the store settings.

- :func:`url_to_fs`: ``s3://bucket/key`` (or any fsspec URL, or a local path) -> (filesystem,
  path); ``s3://`` URLs reach the configured store;
- :func:`storage_options`: the s3fs options of the configured store, for code that hands them
  on (intake, ``xarray.open_dataset(..., storage_options=)``);
- :func:`s3fs_options`: the one place s3fs options are made, from an endpoint and credentials
  (the configured store's, or an embedded store's keys);
- :func:`check_writable`: the write guard every write of ours goes through.
"""

from __future__ import annotations

import ipaddress
import os
import socket
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import fsspec
import s3fs

from ..config import Settings, current_settings
from ..missions import bucket_of, is_pipeline_bucket

if TYPE_CHECKING:
    from .credentials import Credentials


class StoreError(RuntimeError):
    """The object store could not be reached or refused a request; the message says why."""


class PipelineBucketError(PermissionError):
    """A write to one of the SOC's pipeline buckets was refused."""


def s3fs_options(
    endpoint_url: str | None = None,
    *,
    credentials: Credentials | None = None,
    anonymous: bool = False,
    profile: str | None = None,
    region: str = "us-east-1",
    max_attempts: int | None = None,
) -> dict[str, Any]:
    """Keyword arguments for ``s3fs.S3FileSystem``: an endpoint (None: AWS) and how to sign.

    ``credentials`` (a key pair), ``anonymous`` (unsigned) or ``profile`` (an AWS profile);
    none of them: boto3's own credential chain.
    """
    config: dict[str, Any] = {}
    if max_attempts is not None:
        config["retries"] = {"max_attempts": max_attempts, "mode": "standard"}
    options: dict[str, Any] = {}
    # us-east-1 is S3's default; naming it makes s3fs send a LocationConstraint that S3
    # (and moto) reject when a bucket is created there.
    if region != "us-east-1":
        options["client_kwargs"] = {"region_name": region}
    if endpoint_url:
        options["endpoint_url"] = endpoint_url
        # Path-style keys work with every S3 endpoint (MinIO, Ceph, moto); virtual hosts may not.
        config["s3"] = {"addressing_style": "path"}
    if config:
        options["config_kwargs"] = config
    if credentials is not None:
        options["key"] = credentials.access_key_id
        options["secret"] = credentials.secret_access_key
    elif anonymous:
        options["anon"] = True
    elif profile:
        options["profile"] = profile
    return options


def storage_options(
    settings: Settings | None = None, *, endpoint_url: str | None = None
) -> dict[str, Any]:
    """Keyword arguments for ``s3fs.S3FileSystem`` (and fsspec ``storage_options``) that reach
    the configured store (at ``endpoint_url`` instead, when given).

    Also what intake catalogs and ``xarray.open_dataset(..., storage_options=)`` take.
    """
    store = (settings or current_settings()).store
    return s3fs_options(
        endpoint_url or store.resolved_endpoint_url,
        anonymous=store.credentials == "anonymous",
        profile=store.resolved_profile,
        region=store.region,
        max_attempts=store.max_attempts,
    )


def filesystem(settings: Settings | None = None, **overrides: Any) -> s3fs.S3FileSystem:
    """An s3fs filesystem configured from the settings (instances are shared by fsspec)."""
    return s3fs.S3FileSystem(**{**storage_options(settings), **overrides})


def url_to_fs(
    url: str | os.PathLike[str], settings: Settings | None = None, **options: Any
) -> tuple[fsspec.AbstractFileSystem, str]:
    """The filesystem and path of ``url``: ``s3://`` URLs reach the configured store (with
    ``options`` on top of its settings); other fsspec URLs and local paths are fsspec's.

    >>> fs, path = url_to_fs("s3://hermes-eea/l1/x.cdf")  # doctest: +SKIP
    >>> path
    'hermes-eea/l1/x.cdf'
    """
    text = os.fspath(url)
    if text.startswith(("s3://", "s3a://")):
        fs = filesystem(settings, **options)
        return fs, fs._strip_protocol(text)
    return fsspec.core.url_to_fs(text, **options)


def endpoint_of(options: dict[str, Any] | None, settings: Settings | None = None) -> str | None:
    """The endpoint s3fs ``options`` reach: theirs, else the configured one (None: AWS)."""
    options = options or {}
    return (
        options.get("endpoint_url")
        or (options.get("client_kwargs") or {}).get("endpoint_url")
        or (settings or current_settings()).store.resolved_endpoint_url
    )


def is_loopback(endpoint_url: str | None) -> bool:
    """True when the endpoint's host is this machine (the embedded store, a test store)."""
    host = urlsplit(endpoint_url or "").hostname
    if not host:
        return False  # no endpoint: AWS itself
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        pass
    if host.lower() == "localhost":
        return True
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(host, None)}
    except OSError:
        return False
    return bool(addresses) and all(ipaddress.ip_address(a).is_loopback for a in addresses)


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

    settings = settings or current_settings()
    endpoint = settings.store.resolved_endpoint_url or "AWS S3 (no endpoint configured)"
    fs = filesystem(
        settings,
        skip_instance_cache=True,
        config_kwargs={
            **storage_options(settings).get("config_kwargs", {}),
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
