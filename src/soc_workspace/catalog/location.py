"""Where a bucket's index lives, and the one guard every index write goes through.

With ``catalog.url`` empty (the default) the index of bucket ``B`` lives beside its data::

    s3://B/catalog.json                          CloudCatalog entry point (the spec puts it at
                                                 the bucket root, where HelioCloud tools look)
    s3://B/catalog/<id>_<YYYY>.csv               CloudCatalog yearly index files
    s3://B/catalog/<id>.json                     CloudCatalog info file: the extra columns
    s3://B/catalog/manifest.json                 the current generation of our columnar copy
    s3://B/catalog/parquet/<id>/<id>_<YYYY>-<hash>.parquet   immutable columnar year files
    s3://B/catalog/skipped.csv                   objects the last scan could not place

With ``catalog.url = "s3://C"`` (or a local folder) the same tree lives under ``s3://C/B/``.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import uuid
from dataclasses import dataclass
from typing import Any

from ..config import Settings, current_settings
from ..store import (
    PipelineBucketError,
    bucket_of,
    check_writable,
    is_loopback,
    is_pipeline_bucket,
    url_to_fs,
)

CATALOG_JSON = "catalog.json"
PREFIX = "catalog/"
MANIFEST = PREFIX + "manifest.json"
SKIPPED = PREFIX + "skipped.csv"


@dataclass(frozen=True)
class IndexLocation:
    """The index of one data bucket: where its files go and how to reach them.

    ``root`` is the folder holding ``catalog.json`` and ``catalog/`` (``s3://B`` by default);
    ``bucket`` is the data bucket the index describes.
    """

    bucket: str
    root: str
    fs: Any  # an fsspec filesystem reaching ``root``
    in_data_bucket: bool
    data_fs: Any = None  # the filesystem of ``bucket`` when it is not ``fs`` (a local index)

    @property
    def data(self) -> Any:
        """The filesystem holding the data bucket (S3), which only build and update list."""
        return self.data_fs if self.data_fs is not None else self.fs

    def url(self, relative: str) -> str:
        return f"{self.root.rstrip('/')}/{relative}"

    def path(self, relative: str) -> str:
        """The filesystem path (no protocol) of a file of this index."""
        return self.fs._strip_protocol(self.url(relative))

    @property
    def index_url(self) -> str:
        """The CloudCatalog ``index`` value: the folder of the yearly CSV files."""
        return self.url(PREFIX)


def locate(
    bucket: str,
    settings: Settings | None = None,
    storage_options: dict[str, Any] | None = None,
) -> IndexLocation:
    """Where the index of ``bucket`` (a name or ``s3://name``) lives under these settings."""
    settings = settings or current_settings()
    bucket = bucket.removeprefix("s3://").strip("/")
    if not bucket or "/" in bucket:
        raise ValueError(f"{bucket!r} is not a bucket name (expected e.g. 'hermes-eea')")
    base = settings.catalog.url.strip()
    data = url_to_fs(f"s3://{bucket}", settings, **(storage_options or {}))[0]
    if not base:
        return IndexLocation(bucket, f"s3://{bucket}", data, in_data_bucket=True)
    root = f"{base.rstrip('/')}/{bucket}"
    fs = data if root.startswith("s3://") else url_to_fs(root, settings)[0]
    return IndexLocation(bucket, root, fs, in_data_bucket=False, data_fs=data)


def check_index_write(
    location: IndexLocation, relative: str, *, operator: bool, endpoint: str | None
) -> str:
    """Refuse any index write that is not ours to make; return the URL to write.

    Outside the SOC's instrument buckets this is :func:`soc_workspace.store.check_writable`.
    Inside one, only ``catalog.json`` and ``catalog/...`` may be written, and only on a store
    on this machine, or by the SOC operator who says so (``operator=True``, ``--operator``).
    """
    url = location.url(relative)
    if not url.startswith("s3://") or not is_pipeline_bucket(bucket_of(url)):
        return check_writable(url)
    if relative != CATALOG_JSON and not relative.startswith(PREFIX):
        raise PipelineBucketError(
            f"refusing to write {url!r}: in a SOC pipeline bucket the catalog writes only "
            f"{CATALOG_JSON} and {PREFIX}..."
        )
    if not operator and not is_loopback(endpoint):
        where = endpoint or "AWS S3"
        raise PipelineBucketError(
            f"refusing to write the index {url!r} into the SOC pipeline bucket "
            f"{bucket_of(url)!r} at {where}: indexing the SOC's buckets is the SOC operator's "
            "act. Operators: pass --operator (operator=True). Everyone else: set catalog.url "
            "(SOC_WORKSPACE__CATALOG__URL) to a location of your own, e.g. your scratch bucket."
        )
    return url


class ChangedMeanwhile(Exception):
    """A conditional write found the file changed (or created, or gone) since it was read."""


def read_versioned(location: IndexLocation, relative: str) -> tuple[bytes, str] | None:
    """A file of the index and its version token (None when absent), read in one request.

    The token is what :meth:`IndexWriter.replace` compares: the S3 ETag, or on a local folder
    the SHA-256 of the content.
    """
    fs = location.fs
    path = location.path(relative)
    try:
        if _is_s3(fs):
            return _get_with_etag(fs, path)
        data = fs.cat_file(path)
    except FileNotFoundError:
        return None
    return data, hashlib.sha256(data).hexdigest()


def _get_with_etag(fs: Any, path: str) -> tuple[bytes, str]:
    from fsspec.asyn import sync

    bucket, key, _ = fs.split_path(path)

    async def get() -> tuple[bytes, str]:
        response = await fs._call_s3("get_object", Bucket=bucket, Key=key)
        try:
            return await response["Body"].read(), response["ETag"]
        finally:
            response["Body"].close()

    return sync(fs.loop, get)


class IndexWriter:
    """Writes the files of one index, each whole: a reader sees the old file or the new one.

    On S3 a PUT replaces an object at once. On a local folder we write a temporary file and
    rename it over the target, which POSIX makes atomic.
    """

    def __init__(self, location: IndexLocation, *, operator: bool, endpoint: str | None) -> None:
        self.location = location
        self.operator = operator
        self.endpoint = endpoint
        self.written: list[str] = []

    def put(self, relative: str, data: bytes) -> str:
        url = check_index_write(
            self.location, relative, operator=self.operator, endpoint=self.endpoint
        )
        fs = self.location.fs
        path = self.location.path(relative)
        if _is_local(fs):
            os.makedirs(os.path.dirname(path), exist_ok=True)
            tmp = f"{path}.{uuid.uuid4().hex}.tmp"
            with open(tmp, "wb") as f:
                f.write(data)
            os.replace(tmp, path)
        else:
            fs.pipe_file(path, data)
        self.written.append(url)
        return url

    def replace(self, relative: str, data: bytes, token: str | None) -> str:
        """Write ``relative`` only if it is still the version ``token`` (None: only if absent).

        Returns the new token; raises :class:`ChangedMeanwhile` when another writer got there
        first. On S3 this is a conditional PUT (``If-Match: <etag>``, ``If-None-Match: *``),
        which S3 applies atomically (the embedded store too: ``store.conditional``). On a local
        folder the check and the rename run under an exclusive ``flock`` on a lock file beside
        the target. Other filesystems have no atomic check: there the check and the write are
        two steps, safe for one writer at a time only.
        """
        check_index_write(self.location, relative, operator=self.operator, endpoint=self.endpoint)
        fs = self.location.fs
        path = self.location.path(relative)
        if _is_s3(fs):
            condition = {"IfMatch": token} if token else {"IfNoneMatch": "*"}
            try:
                response = fs.pipe_file(path, data, **condition)
            except (FileExistsError, FileNotFoundError) as err:  # 412 on create; 404 on match
                raise ChangedMeanwhile(str(err)) from err
            except OSError as err:
                if _status(err) in (409, 412):  # 409: another conditional write in flight
                    raise ChangedMeanwhile(str(err)) from err
                raise
            self.written.append(self.location.url(relative))
            return str(response["ETag"])
        if _is_local(fs):
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(f"{path}.lock", "a") as lock:
                fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
                self._check_version(relative, token)
                self.put(relative, data)
        else:
            self._check_version(relative, token)
            self.put(relative, data)
        return hashlib.sha256(data).hexdigest()

    def _check_version(self, relative: str, token: str | None) -> None:
        found = read_versioned(self.location, relative)
        if (found[1] if found else None) != token:
            raise ChangedMeanwhile(f"{self.location.url(relative)} changed since it was read")

    def delete(self, relatives: list[str]) -> None:
        for relative in relatives:
            check_index_write(
                self.location, relative, operator=self.operator, endpoint=self.endpoint
            )
        paths = [self.location.path(r) for r in relatives]
        if _is_local(self.location.fs):
            for path in paths:  # gone already is as good as deleted (S3 says so too)
                with contextlib.suppress(FileNotFoundError):
                    os.remove(path)
        elif paths:
            self.location.fs.rm(paths)


def _protocol(fs: Any) -> str:
    return fs.protocol if isinstance(fs.protocol, str) else fs.protocol[0]


def _is_local(fs: Any) -> bool:
    return _protocol(fs) in ("file", "local")


def _is_s3(fs: Any) -> bool:
    return _protocol(fs) in ("s3", "s3a")


def _status(err: BaseException) -> int | None:
    """The HTTP status of the S3 error behind an s3fs exception."""
    response = getattr(err.__cause__, "response", None) or {}
    return response.get("ResponseMetadata", {}).get("HTTPStatusCode")
