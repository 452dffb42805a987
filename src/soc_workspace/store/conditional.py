"""Conditional writes that hold under concurrency in the embedded store.

moto (5.2.5) honours ``If-Match`` and ``If-None-Match: *`` on PUT (and ``If-Match`` on
DELETE) over HTTP: a stale ETag or an existing key answers 412 PreconditionFailed, as AWS S3
does. But it checks the condition and stores the object as two steps with no lock between
them, and the server answers requests on many threads: two writers holding the same ETag can
both pass the check and both be told 200 (seen with a short thread switch interval: 9 of 100
rounds of 8 such writers had two winners). Concurrent PUTs of one key can also make moto
answer 500 ("I/O operation on closed file").

This WSGI middleware makes every write of one object run alone: requests that change objects
take a lock chosen by the key's last path segment (the same in path-style and virtual-host
requests), so a conditional write's check and its write are one step to every other write of
that key, as on S3. Writes of different keys still run in parallel (64 stripes). Not covered:
multi-object delete (POST ?delete names its keys in the body); it is not conditional on S3
either, and the catalog never aims one at a key it writes conditionally.

Only S3 requests are serialised: the same endpoint answers SQS (the catalog's event queue), whose
long polls would otherwise hold a stripe's lock for seconds.
"""

from __future__ import annotations

import threading
import zlib
from collections.abc import Iterable
from typing import Any

_STRIPES = 64
_WRITES = ("PUT", "POST", "DELETE")


class SerialObjectWrites:
    """WSGI middleware: writes of one object key never overlap; writes of others may."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.locks = [threading.Lock() for _ in range(_STRIPES)]

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        if environ["REQUEST_METHOD"] not in _WRITES or not _is_s3(environ):
            return self.app(environ, start_response)
        name = environ.get("PATH_INFO", "").rstrip("/").rsplit("/", 1)[-1]
        with self.locks[zlib.crc32(name.encode("utf-8", "surrogateescape")) % _STRIPES]:
            # Run the request to its end inside the lock: moto changes its state while the
            # response is made, not while it is sent.
            return list(self.app(environ, start_response))


def _is_s3(environ: dict[str, Any]) -> bool:
    """Signed for S3 (the guard in front refuses unsigned requests): not SQS, IAM or STS."""
    return "/s3/aws4_request" in environ.get("HTTP_AUTHORIZATION", "")
