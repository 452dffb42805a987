"""The embedded S3 endpoint: a moto server on loopback whose objects are kept in a folder.

moto keeps objects in memory only, so the server here writes every object it accepts through
to ``<state_dir>/objects/<bucket>/<key>`` before it answers, and loads that folder back when it
starts. A client that was told "200 OK" therefore finds its object again after a restart or a
crash. Object metadata (content type, user metadata, tags) and version history are not kept.

Every request must be signed by a key of the store's IAM users (see :mod:`.guard`): the
operator's (:attr:`EmbeddedStore.operator`, kept in ``<state_dir>/operator.json``) may do
anything; users' keys are made through the IAM API (:mod:`soc_workspace.store.credentials`)
and give what :func:`soc_workspace.store.policy.user_policy` allows. Users, policies and keys
are kept in ``<state_dir>/identities.json`` (:mod:`.identities`).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

from moto import settings as moto_settings
from moto.core.models import DEFAULT_ACCOUNT_ID
from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from moto.s3.models import FakeKey, s3_backends
from werkzeug.serving import BaseWSGIServer, make_server

from . import identities
from .access import s3fs_options
from .conditional import SerialObjectWrites
from .credentials import OPERATOR_FILE, Credentials, store_environment, write_private_json
from .guard import Guard
from .identities import SaveIdentities
from .operations import S3Call
from .wsgi import run_then

log = logging.getLogger(__name__)

IDENTITIES_FILE = "identities.json"


_running_lock = threading.Lock()
_running: EmbeddedStore | None = None


class EmbeddedStore:
    """An S3 endpoint on ``host`` (loopback by default) with objects kept in ``state_dir``.

    ``state_dir=None`` keeps nothing (a scratch store for tests). moto's state is global to the
    process, so one embedded store runs per process; starting a second one is an error.

    >>> with EmbeddedStore(None) as store:  # doctest: +SKIP
    ...     fs = s3fs.S3FileSystem(**store.storage_options())
    """

    def __init__(
        self, state_dir: str | os.PathLike[str] | None, host: str = "127.0.0.1", port: int = 0
    ) -> None:
        self.state_dir = Path(state_dir) if state_dir is not None else None
        self.host = host
        self.port = port
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None
        self._operator: Credentials | None = None
        self._no_auth_count: float | None = None

    @property
    def objects_dir(self) -> Path | None:
        return self.state_dir / "objects" if self.state_dir else None

    @property
    def endpoint_url(self) -> str:
        if self._server is None:
            raise RuntimeError("the embedded store is not running: call start() first")
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def operator(self) -> Credentials:
        """The keys of the store's operator, who may do anything (seeding, catalogs, users)."""
        if self._operator is None:
            raise RuntimeError("the embedded store is not running: call start() first")
        return self._operator

    def storage_options(self) -> dict[str, Any]:
        """s3fs keyword arguments that reach this store as its operator."""
        return s3fs_options(self.endpoint_url, credentials=self.operator)

    def environment(self) -> dict[str, str]:
        """Environment variables that point boto3, s3fs and soc-workspace at this store,
        as its operator."""
        return store_environment(self.endpoint_url, self.operator)

    def start(self) -> EmbeddedStore:
        global _running
        with _running_lock:
            if _running is not None:
                raise RuntimeError(
                    f"an embedded store already runs in this process at {_running.endpoint_url}; "
                    "moto keeps one state per process, so stop it first"
                )
            _reset_moto()
            restored = _restore(self.objects_dir) if self.objects_dir else 0
            self._operator = self._start_identities()
            app: Any = DomainDispatcherApplication(create_backend_app)
            if self.state_dir is not None:
                app = SaveIdentities(app, self.state_dir / IDENTITIES_FILE)
            if self.objects_dir is not None:
                self.objects_dir.mkdir(parents=True, exist_ok=True)
                app = _WriteThrough(app, self.objects_dir)
            app = SerialObjectWrites(app)  # If-Match/If-None-Match hold under concurrency
            app = Guard(app, self._operator)
            self._server = make_server(
                self.host, self.port, app, threaded=True, request_handler=_QuietHandler
            )
            self._thread = threading.Thread(
                target=self._server.serve_forever, name="soc-workspace-s3", daemon=True
            )
            self._thread.start()
            _running = self
        log.info("embedded S3 store at %s (%d objects restored)", self.endpoint_url, restored)
        return self

    def stop(self) -> None:
        global _running
        with _running_lock:
            if self._server is not None:
                self._server.shutdown()
                self._server.server_close()
            if self._thread is not None:
                self._thread.join(timeout=10)
            self._server = self._thread = None
            if _running is self:
                _running = None
                _reset_moto()
                if self._no_auth_count is not None:
                    moto_settings.INITIAL_NO_AUTH_ACTION_COUNT = self._no_auth_count
                    self._no_auth_count = None

    def _start_identities(self) -> Credentials:
        """Load the saved IAM users, make sure the operator exists, and switch moto's IAM
        checks on for every request."""
        saved = self.state_dir / IDENTITIES_FILE if self.state_dir else None
        if saved is not None and saved.exists():
            identities.restore(json.loads(saved.read_text()))
        operator = identities.ensure_operator()
        if self.state_dir is not None:
            self.state_dir.mkdir(parents=True, exist_ok=True)
            write_private_json(self.state_dir / IDENTITIES_FILE, identities.snapshot())
            write_private_json(self.state_dir / OPERATOR_FILE, operator.to_json())
        self._no_auth_count = moto_settings.INITIAL_NO_AUTH_ACTION_COUNT
        moto_settings.INITIAL_NO_AUTH_ACTION_COUNT = 0
        return operator

    def write_connection_file(self, path: str | os.PathLike[str]) -> Path:
        """Write the endpoint and this process id, so other commands can find the store."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"endpoint_url": self.endpoint_url, "pid": os.getpid()}))
        os.replace(tmp, path)
        return path

    def __enter__(self) -> EmbeddedStore:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class _QuietHandler(MotoRequestHandler):
    def log_request(self, *args: Any, **kwargs: Any) -> None:  # one line per request is noise
        pass


def _reset_moto() -> None:
    for account_backends in list(s3_backends.values()):
        for backend in list(account_backends.values()):
            backend.reset()
    s3_backends.bucket_accounts.clear()
    identities.reset()


def _backend_for(bucket: str) -> Any:
    partition, account = s3_backends.bucket_accounts.get(bucket, ("aws", DEFAULT_ACCOUNT_ID))
    return s3_backends[account][partition]


# -- on disk: one file per object ------------------------------------------------------------
# Keys whose segments are plain names map to a path under the bucket folder. Any other key
# (empty segments, "." or "..", a trailing "/") is kept in one file "%<quoted key>" at the top
# of the bucket folder, which no plain key can collide with because plain segments never start
# with "%".


def _is_plain(key: str) -> bool:
    return all(seg not in ("", ".", "..") and not seg.startswith("%") for seg in key.split("/"))


def _object_path(objects: Path, bucket: str, key: str) -> Path:
    if _is_plain(key):
        return objects / bucket / key
    return objects / bucket / ("%" + quote(key, safe=""))


def _walk_objects(bucket_dir: Path) -> Iterator[tuple[str, Path]]:
    for root, _dirs, files in os.walk(bucket_dir):
        for name in files:
            if name.endswith(".soc-tmp"):
                continue  # an interrupted write: the object was never acknowledged
            path = Path(root) / name
            if path.parent == bucket_dir and name.startswith("%"):
                yield unquote(name[1:]), path
            else:
                yield path.relative_to(bucket_dir).as_posix(), path


def _restore(objects: Path) -> int:
    if not objects.is_dir():
        return 0
    count = 0
    for bucket_dir in sorted(p for p in objects.iterdir() if p.is_dir()):
        backend = s3_backends[DEFAULT_ACCOUNT_ID]["aws"]
        backend.create_bucket(bucket_dir.name, "us-east-1")
        for key, path in _walk_objects(bucket_dir):
            backend.put_object(bucket_dir.name, key, path.read_bytes(), disable_notification=True)
            count += 1
    return count


class _WriteThrough:
    """WSGI middleware: after moto accepts a change, put the same change on disk, then answer."""

    def __init__(self, app: Any, objects: Path) -> None:
        self.app = app
        self.objects = objects
        self.lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        method = environ["REQUEST_METHOD"]
        if method not in ("PUT", "POST", "DELETE"):
            return self.app(environ, start_response)
        # Bucket and key as moto read them: path-style or virtual-host-style.
        call = S3Call.from_environ(environ)

        def mirror() -> None:  # once moto made the change, before the client hears of it
            with self.lock:
                self._mirror(method, call.bucket, call.key, call.query)

        return run_then(self.app, environ, start_response, mirror)

    def _mirror(self, method: str, bucket: str, key: str, query: dict[str, list[str]]) -> None:
        if not bucket:
            return
        if not key:
            if method == "PUT" and not query:
                (self.objects / bucket).mkdir(parents=True, exist_ok=True)
            elif method == "DELETE" and not query:
                shutil.rmtree(self.objects / bucket, ignore_errors=True)
            elif method == "POST" and "delete" in query:
                self._sync_bucket(bucket)
            return
        if method == "PUT" and "uploadId" in query:
            return  # a part of a multipart upload: the object appears when it completes
        self._sync_key(bucket, key)

    def _sync_key(self, bucket: str, key: str) -> None:
        backend = _backend_for(bucket)
        fake = backend.buckets.get(bucket)
        obj = fake.keys.get(key) if fake is not None else None
        path = _object_path(self.objects, bucket, key)
        if isinstance(obj, FakeKey):
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(path.name + ".soc-tmp")
            tmp.write_bytes(obj.value)
            os.replace(tmp, path)
        elif path.exists():
            path.unlink()
            _prune_empty(path.parent, self.objects / bucket)

    def _sync_bucket(self, bucket: str) -> None:
        fake = _backend_for(bucket).buckets.get(bucket)
        live = set(fake.keys.keys()) if fake is not None else set()
        bucket_dir = self.objects / bucket
        for key, path in list(_walk_objects(bucket_dir)):
            if key not in live:
                path.unlink()
                _prune_empty(path.parent, bucket_dir)


def _prune_empty(folder: Path, stop: Path) -> None:
    while folder != stop and folder.is_dir() and not any(folder.iterdir()):
        folder.rmdir()
        folder = folder.parent
