"""Finding objects in a bucket: one full scan, a HEAD per listed key, or new date folders.

Only ``build`` and ``update`` (the operator's tools) list anything; searches never do.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from typing import Any
from urllib.parse import unquote_plus

import pandas as pd

from ..missions import MISSIONS
from .datasets import StoredObject
from .location import CATALOG_JSON, PREFIX, IndexLocation


def tqdm(*args: Any, **kwargs: Any) -> Any:
    """A progress bar, imported on first use: in a notebook without ipywidgets merely
    importing ``tqdm.auto`` prints a warning, which searches must not cause."""
    from tqdm.auto import tqdm as bar

    return bar(*args, **kwargs)


_YEAR = re.compile(r"^\d{4}$")
_TWO = re.compile(r"^\d{2}$")


def scan(location: IndexLocation, *, progress: bool = True) -> Iterator[StoredObject]:
    """Every data object of the bucket (index files excluded), folder by folder."""
    fs, bucket = location.data, location.bucket
    forget_listings(fs, bucket)
    top = fs.ls(bucket, detail=True)
    folders = sorted(e["name"] for e in top if e["type"] == "directory")
    for entry in top:
        if entry["type"] != "directory":
            yield from stored_objects(location, {entry["name"]: entry})
    bar = tqdm(folders, desc=f"scanning s3://{bucket}", unit="folder", disable=not progress)
    for folder in bar:
        bar.set_postfix_str(folder.split("/", 1)[-1])
        yield from stored_objects(location, fs.find(folder, detail=True))


def forget_listings(fs: Any, bucket: str) -> None:
    """Drop cached listings under ``bucket`` (s3fs forgets only a path and its parents)."""
    cache = getattr(fs, "dircache", None)
    if cache is None:
        return
    for path in list(cache):
        if path == bucket or path.startswith(bucket + "/"):
            cache.pop(path, None)


def stored_objects(
    location: IndexLocation, found: dict[str, dict[str, Any]]
) -> Iterator[StoredObject]:
    """The data objects among listed entries (path -> details): folders and the index left out."""
    prefix = location.bucket + "/"
    for path, info in found.items():
        if info.get("type") == "directory":
            continue
        key = path[len(prefix) :] if path.startswith(prefix) else path
        if location.in_data_bucket and (key == CATALOG_JSON or key.startswith(PREFIX)):
            continue  # the index itself
        yield StoredObject(
            key=key,
            size=int(info.get("size", info.get("Size", 0))),
            etag=str(info.get("ETag", "")).strip('"'),
            modified=info.get("LastModified"),
        )


def normalize_key(bucket: str, key: str) -> str:
    """A key of ``bucket`` from a key or an ``s3://bucket/key`` URL."""
    key = key.strip()
    if key.startswith("s3://"):
        other, _, rest = key[5:].partition("/")
        if other != bucket:
            raise ValueError(f"{key!r} is not in bucket {bucket!r}")
        return rest
    return key.lstrip("/")


def head_objects(
    location: IndexLocation, keys: list[str], *, progress: bool = True
) -> tuple[list[StoredObject], list[str]]:
    """Look up each key (HEAD): the objects found, and the keys that are not in the bucket."""
    fs, bucket = location.data, location.bucket
    wanted = []
    missing = []
    for raw in dict.fromkeys(k for k in keys if k.strip()):
        try:
            wanted.append(normalize_key(bucket, raw))
        except ValueError:
            missing.append(raw)

    def head(key: str) -> StoredObject | str:
        try:
            info = fs.info(f"{bucket}/{key}", refresh=True)
        except FileNotFoundError:
            return key
        return next(stored_objects(location, {f"{bucket}/{key}": info}), key)

    objects = []
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = pool.map(head, wanted)
        for result in tqdm(
            results, total=len(wanted), desc="looking up keys", disable=not progress
        ):
            if isinstance(result, str):
                missing.append(result)
            else:
                objects.append(result)
    return objects, missing


def keys_from_text(text: str) -> list[str]:
    """Keys from a file: one key or ``s3://`` URL per line, or S3 event notification JSON.

    Event keys are URL-encoded by S3 (a space is ``+``); they are decoded here.
    """
    stripped = text.strip()
    if not stripped.startswith(("{", "[")):
        return [line.strip() for line in stripped.splitlines() if line.strip()]
    doc = json.loads(stripped)
    events = doc if isinstance(doc, list) else [doc]
    keys = []
    for event in events:
        for record in event.get("Records", []) if isinstance(event, dict) else []:
            s3 = record.get("s3", {})
            bucket, key = s3.get("bucket", {}).get("name"), s3.get("object", {}).get("key")
            if key:
                keys.append(f"s3://{bucket}/{unquote_plus(key)}" if bucket else unquote_plus(key))
        detail = event.get("detail", {}) if isinstance(event, dict) else {}
        if "object" in detail:  # EventBridge form
            bucket = detail.get("bucket", {}).get("name")
            key = detail["object"].get("key", "")
            keys.append(f"s3://{bucket}/{key}" if bucket else key)
    return keys


def list_newer(
    location: IndexLocation,
    manifest: dict[str, Any],
    *,
    since: date | str | None = None,
    progress: bool = True,
) -> Iterator[StoredObject]:
    """Objects in the date folders on or after each folder's newest indexed day.

    Lists folder names level by level (a few small listings) and then only the day (or, in the
    legacy layout, month) folders from that day on; never the whole bucket.
    """
    fs, bucket = location.data, location.bucket
    forget_listings(fs, bucket)
    newest: dict[str, date] = {}
    for entry in manifest["datasets"].values():
        last = pd.Timestamp(entry.get("last_start") or entry["stop"]).date()
        for folder in entry.get("prefixes", []):
            newest[folder] = max(newest.get(folder, last), last)
    explicit = pd.Timestamp(since).date() if since is not None else None
    folders = list(_date_roots(location))
    bar = tqdm(folders, desc=f"listing new folders of s3://{bucket}", disable=not progress)
    for folder in bar:
        start = explicit or newest.get(folder) or date.min
        for day_path in _date_folders(fs, f"{bucket}/{folder}", start):
            yield from stored_objects(location, fs.find(day_path, detail=True))


def _date_roots(location: IndexLocation) -> Iterator[str]:
    """``level/`` and ``level/descriptor/`` folders whose children are years."""
    fs, bucket = location.data, location.bucket
    levels = {lvl for m in MISSIONS.values() for lvl in m.levels}
    for entry in fs.ls(bucket, detail=True):
        name = entry["name"].rsplit("/", 1)[-1]
        if entry["type"] != "directory" or name not in levels:
            continue
        children = [c for c in fs.ls(entry["name"], detail=True) if c["type"] == "directory"]
        if any(_YEAR.match(c["name"].rsplit("/", 1)[-1]) for c in children):
            yield f"{name}/"
        for child in children:
            child_name = child["name"].rsplit("/", 1)[-1]
            if not _YEAR.match(child_name):
                yield f"{name}/{child_name}/"


def _date_folders(fs: Any, root: str, start: date) -> Iterator[str]:
    """Day folders (``YYYY/MM/DD``) and legacy month folders on or after ``start`` under root."""

    def subdirs(path: str, pattern: re.Pattern[str]) -> list[tuple[int, str]]:
        out = []
        for entry in fs.ls(path, detail=True):
            name = entry["name"].rsplit("/", 1)[-1]
            if entry["type"] == "directory" and pattern.match(name):
                out.append((int(name), entry["name"]))
        return sorted(out)

    for year, year_path in subdirs(root, _YEAR):
        if year < start.year:
            continue
        for month, month_path in subdirs(year_path, _TWO):
            if (year, month) < (start.year, start.month):
                continue
            entries = fs.ls(month_path, detail=True)
            if any(e["type"] != "directory" for e in entries):
                yield month_path  # legacy layout: files straight in the month folder
                continue
            for day, day_path in subdirs(month_path, _TWO):
                if (year, month, day) >= (start.year, start.month, start.day):
                    yield day_path
