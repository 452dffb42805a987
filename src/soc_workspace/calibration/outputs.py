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
from ..missions import bucket_for, get_mission, key_for, parse_filename
from ..store import bucket_of, check_writable, url_to_fs

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
    """The folder of one rerun (one file or a batch) and the places of what it writes.

    ``note`` says why the folder is a local one when the scratch store could not be used.
    """

    url: str
    run_id: str
    note: str | None = None

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


def local_runs_dir() -> Path:
    """Where reruns write when no scratch store can take them: ``~/soc-workspace-reruns``."""
    return Path.home() / "soc-workspace-reruns"


def run_location(
    run_id: str | None = None, *, output: str | None = None, settings: Settings | None = None
) -> RunLocation:
    """The run folder: ``output`` if given, else ``<scratch.url>/<user>/reruns/<run-id>``.

    When the scratch location is in an object store that cannot be reached (none configured,
    no credentials, not answering), the run folder is ``~/soc-workspace-reruns/<run-id>``
    instead, and ``note`` says why and which setting to set.

    Raises :class:`~soc_workspace.store.PipelineBucketError` for a folder in a pipeline bucket.
    """
    settings = settings or current_settings()
    run_id = run_id or new_run_id()
    note = None
    if output is None:
        output = f"{settings.scratch.url.rstrip('/')}/{current_user()}/reruns/{run_id}"
        problem = scratch_problem(settings) if output.startswith("s3://") else None
        if problem:
            local = local_runs_dir() / run_id
            note = local_note(settings.scratch.url, problem, local)
            output = str(local)
    return RunLocation(url=check_writable(output.rstrip("/")), run_id=run_id, note=note)


def local_run_location(location: RunLocation, problem: str) -> RunLocation:
    """The local folder that stands in for ``location`` when writing there failed."""
    local = local_runs_dir() / location.run_id
    return RunLocation(str(local), location.run_id, local_note(location.url, problem, local))


def local_note(url: str, problem: str, local: Path) -> str:
    return (
        f"outputs, logs and provenance are in the local folder {local}, because {url} could "
        f"not be written: {problem}. To keep reruns in the object store, set scratch.url "
        "(SOC_WORKSPACE__SCRATCH__URL) to a bucket you may write and store.endpoint_url / "
        "store.credentials to reach it (`soc-workspace config show` lists the settings)"
    )


_scratch_checked: dict[tuple[Any, ...], str | None] = {}


def scratch_problem(settings: Settings) -> str | None:
    """Why the scratch store cannot take a rerun's outputs, or None (asked once per process)."""
    from ..store import StoreError, check_reachable

    store = settings.store
    key = (
        settings.scratch.url,
        store.resolved_endpoint_url,
        store.credentials,
        store.resolved_profile,
        os.environ.get("AWS_ACCESS_KEY_ID"),
    )
    if key not in _scratch_checked:
        try:
            check_reachable(settings)
            _scratch_checked[key] = None
        except StoreError as err:
            _scratch_checked[key] = str(err)
    return _scratch_checked[key]


def put_file(local: Path, url: str, settings: Settings | None = None) -> str:
    """Upload one file (refusing pipeline buckets); create the scratch bucket if needed."""
    check_writable(url)
    fs, path = url_to_fs(url, settings)
    _ensure_bucket(fs, url, path)
    fs.put_file(str(local), path)
    return url


def put_files(files: list[tuple[Path, str]], settings: Settings | None = None) -> None:
    """Upload several files in one go (concurrently, to a store), refusing pipeline buckets.

    A rerun's products, log and provenance: one round trip instead of one per file.
    """
    if not files:
        return
    for _, url in files:
        check_writable(url)
    fs, _ = url_to_fs(files[0][1], settings)
    paths = []
    for _, url in files:
        path = url_to_fs(url, settings)[1]
        _ensure_bucket(fs, url, path)
        paths.append(path)
    fs.put([str(local) for local, _ in files], paths)


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


class NotPlaced(LookupError):
    """No archived product could be found for a product; the message says where we looked."""


def archived_for_input(product: str, input_url: str, settings: Settings | None = None) -> str:
    """The archived product of ``product``'s name made from ``input_url``.

    For products whose name the registry cannot parse (so :func:`archived_url` cannot place
    them): the pipeline archives a product in the input's instrument bucket, at a later level
    than the input, on the date of its data; this looks for that name there, on the input's
    date, in the current and the legacy key layouts. Raises :class:`NotPlaced` naming the
    folders searched.
    """
    settings = settings or current_settings()
    name = str(product).rstrip("/").rsplit("/", 1)[-1]
    info = parse_filename(input_url.rstrip("/").rsplit("/", 1)[-1])
    if input_url.startswith("s3://"):
        bucket = bucket_of(input_url)
    else:
        bucket = bucket_for(info.mission, info.instrument, settings.stage)
    levels = get_mission(info.mission).levels
    later = levels[levels.index(info.level) + 1 :] if info.level in levels else levels[1:]
    fs, _ = url_to_fs(f"s3://{bucket}", settings)
    day, month = f"{info.time:%Y/%m/%d}", f"{info.time:%Y/%m}"
    searched = []
    for level in later:
        try:
            below = [p.rstrip("/").rsplit("/", 1)[-1] for p in fs.ls(f"{bucket}/{level}/")]
        except FileNotFoundError:
            continue
        # descriptor folders (l1/unknown/2025/...) or none (l1/2025/...)
        folders = [f"{level}/{d}" for d in below if not d.isdigit()]
        if any(d.isdigit() for d in below):
            folders.append(level)
        for folder in folders:
            for date in (day, month):
                key = f"{folder}/{date}/{name}"
                searched.append(f"{folder}/{date}/")
                if fs.exists(f"{bucket}/{key}"):
                    return f"s3://{bucket}/{key}"
    where = ", ".join(searched) if searched else f"no level after {info.level} has files"
    raise NotPlaced(
        f"{name} is not a file name the mission registry can place, and no archived "
        f"product of that name is in s3://{bucket} on {day} ({where})"
    )
