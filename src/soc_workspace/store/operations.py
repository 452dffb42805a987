"""What an S3 request to the embedded store asks for: its bucket and key, and the IAM
permissions AWS S3 would require for it.

Bucket and key are read as moto reads them (path-style, or virtual-host-style when the
``Host`` names the bucket), so the write-through layer and the guard see the same object the
store changes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from moto.s3.responses import S3Response
from moto.s3.utils import bucket_name_from_url
from werkzeug.wrappers import Request


@dataclass(frozen=True)
class Permission:
    """One IAM check: ``action`` on ``resource`` with the request's condition keys."""

    action: str
    resource: str
    context: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class S3Call:
    """An S3 request: method, bucket ('' for the service), key ('' for the bucket), query."""

    method: str
    bucket: str
    key: str
    query: dict[str, list[str]]
    headers: dict[str, str]

    @classmethod
    def from_environ(cls, environ: dict[str, Any]) -> S3Call:
        raw = environ.get("RAW_URI") or environ.get("REQUEST_URI") or environ["PATH_INFO"]
        url = urlsplit(raw)
        path = unquote(url.path)
        request = Request(environ, shallow=True)
        if S3Response.subdomain_based_buckets(request):
            host = environ.get("HTTP_HOST", "")
            bucket = bucket_name_from_url(f"http://{host}/") or ""
            key = path[1:] if path.startswith("/") else path
        else:
            bucket, _, key = path.lstrip("/").partition("/")
        headers = {name.lower(): value for name, value in request.headers.items()}
        query = parse_qs(url.query, keep_blank_values=True)
        return cls(environ["REQUEST_METHOD"].upper(), bucket, key, query, headers)

    def has(self, *subresources: str) -> bool:
        return any(name in self.query for name in subresources)

    @property
    def arn(self) -> str:
        return f"arn:aws:s3:::{self.bucket}/{self.key}" if self.key else self.bucket_arn

    @property
    def bucket_arn(self) -> str:
        return f"arn:aws:s3:::{self.bucket}"


class UnsupportedCall(Exception):
    """A request the guard does not let users make (so it has no permission to compute)."""


# Query parameters that do not change what a GET/HEAD of an object is.
_OBJECT_READ_PARAMS = {"partNumber", "x-id"} | {
    f"response-{h}"
    for h in (
        "content-type",
        "content-language",
        "expires",
        "cache-control",
        "content-disposition",
        "content-encoding",
    )
}
# Query parameters of a bucket listing (ListObjects, ListObjectsV2).
_LIST_PARAMS = {
    "prefix",
    "delimiter",
    "marker",
    "max-keys",
    "list-type",
    "continuation-token",
    "start-after",
    "fetch-owner",
    "encoding-type",
    "x-id",
}


def required_permissions(call: S3Call, delete_keys: list[str] | None = None) -> list[Permission]:
    """The permissions AWS S3 requires for ``call``; raises :class:`UnsupportedCall` for
    anything users of the workspace have no business doing (ACLs, policies, tagging, ...).

    ``delete_keys`` are the keys of a bulk delete (``POST ?delete``), read from its body.
    """
    if not call.bucket:
        if call.method == "GET" and not call.key:
            return [Permission("s3:ListAllMyBuckets", "*")]
        raise UnsupportedCall("only listing buckets is possible without a bucket")
    if not call.key:
        return _bucket_permissions(call, delete_keys)
    return _object_permissions(call)


def _bucket_permissions(call: S3Call, delete_keys: list[str] | None) -> list[Permission]:
    params = set(call.query)
    if call.method == "HEAD" and not params:
        return [Permission("s3:ListBucket", call.bucket_arn)]  # HeadBucket, as AWS checks it
    if call.method == "GET":
        if params == {"location"}:
            return [Permission("s3:GetBucketLocation", call.bucket_arn)]
        if params <= _LIST_PARAMS:
            context = {"s3:prefix": call.query.get("prefix", [""])[0]}
            if "delimiter" in call.query:
                context["s3:delimiter"] = call.query["delimiter"][0]
            return [Permission("s3:ListBucket", call.bucket_arn, context)]
    if call.method == "POST" and "delete" in params and delete_keys is not None:
        return [Permission("s3:DeleteObject", f"{call.bucket_arn}/{k}") for k in delete_keys]
    if call.method == "PUT" and not params:
        return [Permission("s3:CreateBucket", call.bucket_arn)]
    raise UnsupportedCall(f"{call.method} on a bucket with {sorted(params) or 'no'} parameters")


def _object_permissions(call: S3Call) -> list[Permission]:
    params = set(call.query)
    if call.method in ("GET", "HEAD") and params <= _OBJECT_READ_PARAMS:
        return [Permission("s3:GetObject", call.arn)]
    if call.method == "GET" and params >= {"uploadId"}:
        return [Permission("s3:ListMultipartUploadParts", call.arn)]
    if call.method == "PUT" and (not params - {"x-id"} or params >= {"partNumber", "uploadId"}):
        return [Permission("s3:PutObject", call.arn), *_copy_source(call)]
    if call.method == "POST" and (params - {"x-id"} in ({"uploads"}, {"uploadId"})):
        return [Permission("s3:PutObject", call.arn)]  # start or complete a multipart upload
    if call.method == "DELETE" and not params - {"x-id"}:
        return [Permission("s3:DeleteObject", call.arn)]
    if call.method == "DELETE" and params - {"x-id"} == {"uploadId"}:
        return [Permission("s3:AbortMultipartUpload", call.arn)]
    raise UnsupportedCall(f"{call.method} on an object with {sorted(params)} parameters")


def _copy_source(call: S3Call) -> list[Permission]:
    """Reading the source of CopyObject / UploadPartCopy (which moto does not check)."""
    source = call.headers.get("x-amz-copy-source")
    if source is None:
        return []
    path, _, query = source.partition("?")
    bucket, _, key = unquote(path).lstrip("/").partition("/")
    if not bucket or not key:
        raise UnsupportedCall(f"copy source {source!r} names no object")
    action = "s3:GetObjectVersion" if "versionId=" in query else "s3:GetObject"
    return [Permission(action, f"arn:aws:s3:::{bucket}/{key}")]
