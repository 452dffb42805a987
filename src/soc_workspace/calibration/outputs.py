"""Where a rerun writes: ``<scratch>/<user>/reruns/<run-id>/``, never a pipeline bucket.

Products keep the SOC key layout below the run folder (``<run>/l1/unknown/2025/06/01/...``),
so the archived product a rerun output stands for is the object with the same key in the
instrument bucket (:func:`archived_url`). Logs and provenance records sit beside them::

    <run>/logs/<input name>.log
    <run>/provenance/<input name>.json
    <run>/summary.csv            (written by a batch)
"""

from __future__ import annotations

import contextlib
import getpass
import json
import os
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..config import Settings, current_settings
from ..missions import bucket_for, key_for, parse_filename
from ..store import check_writable, url_to_fs

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def current_user() -> str:
    """The user's name for their scratch folder: the hub user inside the workspace."""
    name = os.environ.get("JUPYTERHUB_USER") or getpass.getuser()
    return _UNSAFE.sub("-", name).strip("-") or "user"


def new_run_id() -> str:
    """A run id that sorts by start time: ``20250601T120000-1a2b3c``."""
    return f"{datetime.now(UTC):%Y%m%dT%H%M%S}-{secrets.token_hex(3)}"


@dataclass(frozen=True)
class RunLocation:
    """The folder of one rerun (one file or a batch) and the places of what it writes."""

    url: str
    run_id: str

    def product_url(self, name: str) -> str:
        """Where a product goes: its SOC key below the run folder (``unsorted/`` if unnamed)."""
        try:
            key = key_for(parse_filename(name), name=name)
        except ValueError:
            key = f"unsorted/{name}"
        return f"{self.url}/{key}"

    def log_url(self, input_name: str) -> str:
        return f"{self.url}/logs/{input_name}.log"

    def provenance_url(self, input_name: str) -> str:
        return f"{self.url}/provenance/{input_name}.json"

    @property
    def summary_url(self) -> str:
        return f"{self.url}/summary.csv"


def run_location(
    run_id: str | None = None, *, output: str | None = None, settings: Settings | None = None
) -> RunLocation:
    """The run folder: ``output`` if given, else ``<scratch.url>/<user>/reruns/<run-id>``.

    Raises :class:`~soc_workspace.store.PipelineBucketError` for a folder in a pipeline bucket.
    """
    settings = settings or current_settings()
    run_id = run_id or new_run_id()
    if output is None:
        output = f"{settings.scratch.url.rstrip('/')}/{current_user()}/reruns/{run_id}"
    return RunLocation(url=check_writable(output.rstrip("/")), run_id=run_id)


def put_file(local: Path, url: str, settings: Settings | None = None) -> str:
    """Upload one file (refusing pipeline buckets); create the scratch bucket if needed."""
    check_writable(url)
    fs, path = url_to_fs(url, settings)
    _ensure_bucket(fs, url, path)
    fs.put_file(str(local), path)
    return url


def put_text(text: str, url: str, settings: Settings | None = None) -> str:
    check_writable(url)
    fs, path = url_to_fs(url, settings)
    _ensure_bucket(fs, url, path)
    fs.pipe_file(path, text.encode())
    return url


def put_json(record: dict[str, Any], url: str, settings: Settings | None = None) -> str:
    return put_text(json.dumps(record, indent=2, default=str), url, settings)


_buckets_seen: set[str] = set()


def _ensure_bucket(fs: Any, url: str, path: str) -> None:
    if url.startswith("s3://"):
        bucket = path.split("/", 1)[0]
        if bucket not in _buckets_seen and not fs.exists(bucket):
            # the scratch bucket of a fresh store (checked writable above); another worker may
            # make it at the same moment
            with contextlib.suppress(FileExistsError):
                fs.mkdir(bucket)
        _buckets_seen.add(bucket)
    else:
        fs.makedirs(path.rsplit("/", 1)[0], exist_ok=True)


def archived_url(product: str, settings: Settings | None = None) -> str:
    """The pipeline's archived product with the same name as ``product`` (a name, path or URL)."""
    settings = settings or current_settings()
    name = str(product).rstrip("/").rsplit("/", 1)[-1]
    info = parse_filename(name)
    bucket = bucket_for(info.mission, info.instrument, settings.stage)
    return f"s3://{bucket}/{key_for(info, name=name)}"
