"""The embedded store's front door: every request is signed by a known key, or refused.

moto checks signatures and IAM policies itself once ``INITIAL_NO_AUTH_ACTION_COUNT`` is 0,
but not everywhere a workspace needs it (checked over HTTP, see tests/test_store_access.py):

- its ``/moto-api`` answers anyone: it dumps every object and secret key, resets the store,
  and switches authentication off;
- unsigned requests and presigned URLs end in a server error instead of a refusal;
- it ignores policy conditions, so a user allowed to list their own scratch folder lists
  everyone's;
- CopyObject never checks that the caller may read the source: any user could copy another's
  scratch file into their own folder and read it;
- it checks HeadBucket against ``s3:HeadBucket`` (not an IAM action; AWS checks
  ``s3:ListBucket``) and bulk deletes against the bucket, not each key.

So for every request this guard verifies the SigV4 signature itself (with botocore's signer,
as the client made it), refuses anything unsigned, presigned, or of a service other than S3
for users, and evaluates the user's IAM policies (:func:`soc_workspace.store.policy.is_allowed`)
on the permissions AWS S3 would require (:mod:`soc_workspace.store.operations`). What it lets
through, moto checks again. HeadBucket and bulk deletes that the guard allowed are passed on
signed by the store's operator, since moto would refuse them for reasons AWS does not have.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from xml.etree import ElementTree
from xml.sax.saxutils import escape

from botocore.auth import S3SigV4Auth, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials as BotoCredentials
from werkzeug.datastructures import EnvironHeaders

from . import identities
from .credentials import Credentials
from .operations import S3Call, UnsupportedCall, required_permissions
from .policy import is_allowed

log = logging.getLogger(__name__)

# moto's own endpoints (state dumps, reset, auth switch) and its fake instance metadata.
_INTERNAL_PATHS = ("/moto-api", "/favicon.ico", "/latest/meta-data", "/latest/api")
_PRESIGNED_PARAMS = ("X-Amz-Signature", "X-Amz-Credential", "Signature", "AWSAccessKeyId")
_AUTH = re.compile(
    r"AWS4-HMAC-SHA256\s+Credential=(?P<key>[^/,\s]+)/(?P<date>\d{8})/(?P<region>[^/,\s]+)/"
    r"(?P<service>[^/,\s]+)/aws4_request,\s*SignedHeaders=(?P<headers>[^,\s]+),\s*"
    r"Signature=(?P<signature>[0-9a-f]{64})\s*$"
)
MAX_CLOCK_SKEW = timedelta(minutes=15)  # as AWS: older or newer signatures are refused
_MAX_DELETE_BODY = 4 * 2**20  # a bulk delete names at most 1000 keys
_MAX_FORM_BODY = 2**20  # an IAM or STS call


@dataclass(frozen=True)
class _Signature:
    access_key_id: str
    date: str
    region: str
    service: str
    signed_headers: list[str]
    signature: str


class Denied(Exception):
    """A refusal: HTTP status, S3 error code and a message for the user."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


class Guard:
    """WSGI middleware in front of moto: authenticate every request, authorise users'.

    ``operator`` is the store's operator key; its requests go to moto as they are.
    """

    def __init__(self, app: Any, operator: Credentials) -> None:
        self.app = app
        self.operator = operator

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        try:
            self._check(environ)
        except Denied as denial:
            log.info(
                "refused %s %s: %s",
                environ.get("REQUEST_METHOD"),
                environ.get("PATH_INFO"),
                denial.message,
            )
            return _error(environ, start_response, denial)
        return self.app(environ, start_response)

    def _check(self, environ: dict[str, Any]) -> None:
        if environ.get("PATH_INFO", "").startswith(_INTERNAL_PATHS):
            raise Denied(404, "NotFound", "not an S3 endpoint")
        signature = _parse_authorization(environ)
        owner = identities.find_key(signature.access_key_id)
        if owner is None:
            raise Denied(
                403,
                "InvalidAccessKeyId",
                "The AWS Access Key Id you provided does not exist in our records.",
            )
        if "HTTP_X_AMZ_SECURITY_TOKEN" in environ:
            raise Denied(403, "InvalidToken", "this store hands out no session credentials")
        self._verify(environ, signature, owner.secret_access_key)
        if owner.user == identities.OPERATOR:
            return
        if signature.service == "sts":
            return  # moto allows users nothing there but GetCallerIdentity (who am I)
        if signature.service != "s3":
            raise Denied(403, "AccessDenied", f"users may use S3 only, not {signature.service}")
        self._authorise(environ, owner.user)

    def _verify(self, environ: dict[str, Any], sig: _Signature, secret: str) -> None:
        headers = EnvironHeaders(environ)
        if "host" not in sig.signed_headers or "x-amz-date" not in sig.signed_headers:
            raise Denied(403, "AccessDenied", "the signature must cover Host and X-Amz-Date")
        stamp = headers.get("X-Amz-Date", "")
        try:
            when = datetime.strptime(stamp, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
        except ValueError:
            raise Denied(403, "AccessDenied", f"X-Amz-Date {stamp!r} is not a time") from None
        if abs(datetime.now(UTC) - when) > MAX_CLOCK_SKEW:
            raise Denied(
                403,
                "RequestTimeTooSkewed",
                "The difference between the request time and the current time is too large.",
            )
        if sig.service == "s3":
            # S3 signs the payload's hash as a header; other services sign the body itself.
            if "x-amz-content-sha256" not in sig.signed_headers:
                raise Denied(403, "AccessDenied", "the signature must cover X-Amz-Content-SHA256")
            signer_class, body = S3SigV4Auth, b""
        else:
            signer_class, body = SigV4Auth, _read_body(environ, _MAX_FORM_BODY)
        request = AWSRequest(
            method=environ["REQUEST_METHOD"],
            url=f"http://{headers.get('Host', '')}{_raw_uri(environ)}",
            headers={name: headers[name] for name in sig.signed_headers if name in headers},
            data=body,
        )
        request.context["timestamp"] = stamp
        signer = signer_class(BotoCredentials(sig.access_key_id, secret), sig.service, sig.region)
        canonical = signer.canonical_request(request)
        expected = signer.signature(signer.string_to_sign(request, canonical), request)
        if sig.date != stamp[:8] or not hmac.compare_digest(expected, sig.signature):
            raise Denied(
                403,
                "SignatureDoesNotMatch",
                "The request signature we calculated does not match the signature you "
                "provided. Check your key and signing method.",
            )

    def _authorise(self, environ: dict[str, Any], user: str) -> None:
        call = S3Call.from_environ(environ)
        path = environ.get("PATH_INFO", "")
        if path.startswith("/v20180820/") or "s3-control" in environ.get("HTTP_HOST", ""):
            raise Denied(403, "AccessDenied", "S3 Control is not for users")
        bulk_delete = call.method == "POST" and "delete" in call.query
        delete_keys = _delete_keys(environ) if bulk_delete else None
        try:
            needed = required_permissions(call, delete_keys)
        except UnsupportedCall as err:
            raise Denied(403, "AccessDenied", f"not allowed on this store: {err}") from None
        documents = identities.policies_of(user)
        for permission in needed:
            if not is_allowed(
                documents,
                permission.action,
                permission.resource,
                permission.context,
                username=user,
            ):
                raise Denied(
                    403,
                    "AccessDenied",
                    f"{user} may not {permission.action} on {permission.resource}",
                )
        if delete_keys is not None:
            # moto deletes what it reads in the body: give it exactly the keys authorised here
            # (no second XML parser to disagree with ours, no version ids).
            _replace_body(environ, _bulk_delete_body(delete_keys, _quiet(environ)))
        if delete_keys is not None or (call.method == "HEAD" and not call.key and not call.query):
            _sign_as(environ, self.operator)


def _parse_authorization(environ: dict[str, Any]) -> _Signature:
    header = environ.get("HTTP_AUTHORIZATION")
    if not header:
        query = environ.get("QUERY_STRING", "")
        if any(f"{name}=" in query for name in _PRESIGNED_PARAMS):
            raise Denied(
                403,
                "AccessDenied",
                "the embedded store does not accept presigned URLs: sign each request with "
                "your own keys",
            )
        raise Denied(
            403,
            "AccessDenied",
            "anonymous requests are refused: sign requests (AWS Signature Version 4) with "
            "your store keys (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)",
        )
    match = _AUTH.match(header.strip())
    if match is None:
        raise Denied(
            403, "AccessDenied", "only AWS Signature Version 4 (AWS4-HMAC-SHA256) is accepted"
        )
    return _Signature(
        access_key_id=match["key"],
        date=match["date"],
        region=match["region"],
        service=match["service"],
        signed_headers=match["headers"].split(";"),
        signature=match["signature"],
    )


def _raw_uri(environ: dict[str, Any]) -> str:
    raw = environ.get("RAW_URI") or environ.get("REQUEST_URI")
    if raw:
        return raw
    query = environ.get("QUERY_STRING")
    return environ.get("PATH_INFO", "") + (f"?{query}" if query else "")


def _read_body(environ: dict[str, Any], limit: int) -> bytes:
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        raise Denied(400, "InvalidRequest", "bad Content-Length") from None
    if length > limit:
        raise Denied(400, "InvalidRequest", "request body too large")
    body = environ["wsgi.input"].read(length) if length else b""
    environ["wsgi.input"] = io.BytesIO(body)  # moto reads it again
    return body


def _bulk_delete_tree(environ: dict[str, Any]) -> ElementTree.Element:
    try:
        return ElementTree.fromstring(_read_body(environ, _MAX_DELETE_BODY))
    except ElementTree.ParseError:
        raise Denied(400, "MalformedXML", "the bulk delete request is not XML") from None


def _local_name(element: ElementTree.Element) -> str:
    return element.tag.rsplit("}", 1)[-1]


def _delete_keys(environ: dict[str, Any]) -> list[str]:
    """Every ``Key`` the bulk delete names, wherever it stands in the XML."""
    keys = [el.text or "" for el in _bulk_delete_tree(environ).iter() if _local_name(el) == "Key"]
    if not keys:
        raise Denied(400, "MalformedXML", "the bulk delete request names no key")
    return keys


def _quiet(environ: dict[str, Any]) -> bool:
    quiet = [el for el in _bulk_delete_tree(environ).iter() if _local_name(el) == "Quiet"]
    return bool(quiet) and (quiet[0].text or "").strip().lower() == "true"


def _bulk_delete_body(keys: list[str], quiet: bool) -> bytes:
    objects = "".join(f"<Object><Key>{escape(key)}</Key></Object>" for key in keys)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<Delete xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
        f"<Quiet>{'true' if quiet else 'false'}</Quiet>{objects}</Delete>"
    ).encode()


def _replace_body(environ: dict[str, Any], body: bytes) -> None:
    environ["wsgi.input"] = io.BytesIO(body)
    environ["CONTENT_LENGTH"] = str(len(body))
    for name in list(environ):  # checksums of the old body
        if name.startswith("HTTP_X_AMZ_CHECKSUM_") or name in (
            "HTTP_X_AMZ_SDK_CHECKSUM_ALGORITHM",
            "HTTP_X_AMZ_TRAILER",
        ):
            del environ[name]
    digest = hashlib.md5(body, usedforsecurity=False).digest()
    environ["HTTP_CONTENT_MD5"] = base64.b64encode(digest).decode()


def _sign_as(environ: dict[str, Any], credentials: Credentials) -> None:
    """Sign the request anew with ``credentials`` (after the guard has authorised it)."""
    headers = EnvironHeaders(environ)
    skip = {"authorization", "x-amz-date", "x-amz-content-sha256", "x-amz-security-token"}
    body = _read_body(environ, _MAX_DELETE_BODY)
    request = AWSRequest(
        method=environ["REQUEST_METHOD"],
        url=f"http://{headers.get('Host', '')}{_raw_uri(environ)}",
        headers={k: v for k, v in headers.items() if k.lower() not in skip},
        data=body,
    )
    S3SigV4Auth(
        BotoCredentials(credentials.access_key_id, credentials.secret_access_key),
        "s3",
        "us-east-1",
    ).add_auth(request)
    for name in ("Authorization", "X-Amz-Date", "X-Amz-Content-SHA256"):
        environ["HTTP_" + name.upper().replace("-", "_")] = request.headers[name]


def _error(environ: dict[str, Any], start_response: Any, denial: Denied) -> Iterable[bytes]:
    error = f"<Code>{escape(denial.code)}</Code><Message>{escape(denial.message)}</Message>"
    if "/s3/aws4_request" in environ.get("HTTP_AUTHORIZATION", "/s3/aws4_request"):
        text = f"<Error>{error}<Resource>{escape(environ.get('PATH_INFO', ''))}</Resource></Error>"
    else:  # IAM and STS answer in the query protocol's form
        text = f"<ErrorResponse><Error><Type>Sender</Type>{error}</Error></ErrorResponse>"
    body = f'<?xml version="1.0" encoding="UTF-8"?>\n{text}'.encode()
    reason = {400: "Bad Request", 403: "Forbidden", 404: "Not Found"}.get(denial.status, "Error")
    start_response(
        f"{denial.status} {reason}",
        [("Content-Type", "application/xml"), ("Content-Length", str(len(body)))],
    )
    return [] if environ.get("REQUEST_METHOD") == "HEAD" else [body]
