"""Building and updating indexes: scan a bucket once, then add what is new.

``build`` lists the whole bucket (the one time anything lists it) and publishes a complete
index; it also repairs: every index file that is damaged or missing (the manifest, a parquet
file, catalog.json, a yearly CSV) is rewritten from the objects. ``update`` adds objects
without a full scan: from a list of keys (the pipeline's upload events) or by listing only the
date folders from the newest indexed day on; a listed key that is indexed but no longer in the
bucket (a delete event) leaves the index. Both are idempotent: running them again with nothing
new writes nothing. Both may run while other writers publish: a writer that finds the index
changed under it reads it again and applies its change anew (see ``index``).
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Iterable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pandas as pd
import pyarrow as pa

from ..config import Settings, current_settings, stage_argument
from ..missions import bucket_for, get_mission, parse_key
from ..store import endpoint_of
from ..store.outage import store_outage
from .datasets import (
    Skipped,
    StoredObject,
    dataset_for,
    finish_table,
    group_objects,
)
from .discover import head_objects, list_newer, scan
from .errors import CatalogError, ConcurrentUpdate, repair_hint
from .index import publish, read_parquet_table
from .location import (
    CATALOG_JSON,
    SKIPPED,
    IndexLocation,
    IndexWriter,
    check_index_write,
    locate,
)
from .manifest import Snapshot, dataset_from_manifest, read_snapshot

log = logging.getLogger(__name__)

_ATTEMPTS = 10  # publishes tried when other writers keep publishing first


@dataclass
class BuildReport:
    """What a build or an update did to one bucket's index."""

    bucket: str
    index: str
    datasets: dict[str, int] = field(default_factory=dict)  # dataset id -> files now indexed
    added: int = 0  # objects seen by this run
    skipped: list[Skipped] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # listed keys that are not in the bucket
    removed: list[str] = field(default_factory=list)  # of those, the ones the index had: dropped
    generation: str | None = None  # None: the index was already up to date
    years_rewritten: int = 0
    repaired: list[str] = field(default_factory=list)  # damaged or missing index files rewritten

    def summary(self) -> str:
        state = (
            f"published generation {self.generation} ({self.years_rewritten} year file(s) written)"
            if self.generation
            else "already up to date" + ("" if self.repaired else ", nothing written")
        )
        lines = [
            f"{self.bucket}: {self.added} object(s) read, {sum(self.datasets.values())} file(s) in "
            f"{len(self.datasets)} dataset(s); {state}; index at {self.index}"
        ]
        if self.repaired:
            lines.append(f"  repaired {len(self.repaired)} damaged or missing index file(s):")
            lines += [f"    {self.index}/{name}" for name in self.repaired[:10]]
        if self.skipped:
            lines.append(f"  {len(self.skipped)} object(s) skipped (not SOC file names/keys):")
            lines += [f"    {s.key}: {s.reason}" for s in self.skipped[:10]]
            if len(self.skipped) > 10:
                lines.append(f"    ... all of them in {self.index}/{SKIPPED}")
        if self.removed:
            lines.append(f"  {len(self.removed)} indexed file(s) gone from the bucket, removed:")
            lines += [f"    {k}" for k in self.removed[:10]]
        removed = set(self.removed)
        others = [k for k in self.missing if k not in removed]
        if others:
            lines.append(f"  {len(others)} listed key(s) not in the bucket (nor in the index):")
            lines += [f"    {k}" for k in others[:10]]
        return "\n".join(lines)


def instrument_buckets(mission: str, stage: str = "prod") -> list[str]:
    m = get_mission(mission)
    return [bucket_for(m.name, i.name, stage) for i in m.instruments]


def build(
    bucket: str | None = None,
    *,
    mission: str | None = None,
    stage: str | None = None,
    operator: bool = False,
    progress: bool = True,
    settings: Settings | None = None,
    storage_options: dict[str, Any] | None = None,
    env: str | None = None,
) -> list[BuildReport]:
    """Scan ``bucket`` (or every instrument bucket of ``mission`` at ``stage``, default:
    settings ``stage``) and publish its index.

    Writes ``catalog.json`` and ``catalog/...`` beside the data (or under ``catalog.url``).
    Writing into a SOC instrument bucket on a store that is not on this machine needs
    ``operator=True``: it is the SOC operator's act (see ``location.check_index_write``).
    Buckets of the mission that do not exist are reported and skipped.
    """
    settings = settings or current_settings()
    if (bucket is None) == (mission is None):
        raise ValueError("build needs either a bucket or a mission (all its instrument buckets)")
    stage = stage_argument(stage, env, "build") or settings.stage
    buckets = [bucket] if bucket else instrument_buckets(mission or "", stage)
    reports = []
    for name in buckets:
        location = locate(name, settings, storage_options)
        with _store_outage(location, settings, storage_options, "building"):
            if mission and not location.data.exists(name):
                log.info("bucket %s does not exist: nothing to index", name)
                continue
            reports.append(_build_one(location, operator, progress, settings, storage_options))
    return reports


def _store_outage(
    location: IndexLocation, settings: Settings, options: dict[str, Any] | None, doing: str
) -> AbstractContextManager[None]:
    """A store that stops answering becomes a StoreError naming it and what to do."""
    endpoint = endpoint_of(options, settings)
    return store_outage(
        endpoint,
        f"{doing} the index of s3://{location.bucket}",
        "run the command again: an interrupted build or update leaves the index readable, and "
        "`soc-workspace catalog build` finishes whatever it left undone",
    )


def _writer(
    location: IndexLocation, operator: bool, settings: Settings, options: dict[str, Any] | None
) -> IndexWriter:
    endpoint = endpoint_of(options, settings)
    return IndexWriter(location, operator=operator, endpoint=endpoint)


def _build_one(
    location: IndexLocation,
    operator: bool,
    progress: bool,
    settings: Settings,
    options: dict[str, Any] | None,
) -> BuildReport:
    writer = _writer(location, operator, settings, options)
    # Check the write is allowed before spending a scan on it.
    check_index_write(location, CATALOG_JSON, operator=operator, endpoint=writer.endpoint)
    base = read_snapshot(location)
    if base.damage:
        log.warning("%s: rebuilding it from the objects", base.damage.fault)
    objects = list(scan(location, progress=progress))
    for _attempt in range(_ATTEMPTS):
        datasets, rows, skipped = group_objects(location.bucket, objects)
        tables = {d: finish_table(r) for d, r in rows.items()}
        try:
            result = publish(
                writer,
                datasets,
                tables,
                base,
                complete=True,
                skipped=skipped,
                prefixes=_prefixes(objects),
                check=True,
            )
        except ConcurrentUpdate as err:
            log.info("%s; looking up what the other writer changed", err)
            base = read_snapshot(location)
            objects = _with_changes_since_scan(location, objects, tables, base, progress)
            continue
        return BuildReport(
            bucket=location.bucket,
            index=location.root,
            datasets={d: len(t) for d, t in tables.items()},
            added=len(objects),
            skipped=skipped,
            generation=result.generation,
            years_rewritten=result.years_rewritten,
            repaired=result.repaired,
        )
    raise CatalogError(f"{location.root} kept changing during the build; try again")


def _with_changes_since_scan(
    location: IndexLocation,
    objects: list[StoredObject],
    tables: dict[str, pd.DataFrame],
    current: Snapshot,
    progress: bool,
) -> list[StoredObject]:
    """The scanned objects, corrected by what another writer published during the scan.

    Keys the index now holds that the scan did not see (uploaded since), and scanned keys it
    no longer holds (deleted since), are looked up again; the rest of the scan stands.
    """
    if current.manifest is None:
        return objects
    try:
        indexed = {
            url
            for ds_id in current.manifest["datasets"]
            for url in _load_rows(location, current.manifest, ds_id)["url"]
        }
    except CatalogError:
        return objects  # the new index is damaged: the scan replaces it whole
    scanned = {url for table in tables.values() for url in table["url"]}
    prefix = f"s3://{location.bucket}/"
    differing = sorted(u[len(prefix) :] for u in scanned ^ indexed if u.startswith(prefix))
    if not differing:
        return objects
    found, missing = head_objects(location, differing, progress=progress)
    gone = set(missing)
    by_key = {obj.key: obj for obj in objects if obj.key not in gone}
    by_key.update({obj.key: obj for obj in found})
    return list(by_key.values())


def _prefixes(objects: Iterable[StoredObject]) -> dict[str, list[str]]:
    """The folders (``level/`` or ``level/descriptor/``) each dataset's files live under."""
    found: dict[str, set[str]] = {}
    for obj in objects:
        try:
            key = parse_key(obj.key)
        except ValueError:
            continue
        folder = key.level + "/" + (f"{key.descriptor_path}/" if key.descriptor_path else "")
        found.setdefault(dataset_for(key).id, set()).add(folder)
    return {d: sorted(f) for d, f in found.items()}


# -- update ----------------------------------------------------------------------------------


def update(
    bucket: str,
    keys: Iterable[str] | None = None,
    *,
    since: date | str | None = None,
    operator: bool = False,
    progress: bool = True,
    settings: Settings | None = None,
    storage_options: dict[str, Any] | None = None,
) -> BuildReport:
    """Add new objects to the index of ``bucket`` without rescanning it.

    ``keys``: object keys (or ``s3://bucket/key`` URLs) to add, e.g. from upload events;
    each is looked up (HEAD) for its size and ETag. Without keys, only the date folders from
    ``since`` on are listed (default: per folder, the day of its newest indexed file).
    Idempotent: a key already indexed with the same content changes nothing; a new version of
    a file becomes the newest, the old one stays in the history (``version="all"``). A listed
    key the index has but the bucket no longer holds is removed from the index (so the
    previous version, if any, is the newest again); listing folders finds no deletions.
    """
    settings = settings or current_settings()
    location = locate(bucket, settings, storage_options)
    writer = _writer(location, operator, settings, storage_options)
    check_index_write(location, CATALOG_JSON, operator=operator, endpoint=writer.endpoint)
    with _store_outage(location, settings, storage_options, "updating"):
        return _update_one(writer, keys, since, progress)


def _update_one(
    writer: IndexWriter, keys: Iterable[str] | None, since: date | str | None, progress: bool
) -> BuildReport:
    location = writer.location
    for attempt in range(_ATTEMPTS):
        base = read_snapshot(location)
        if base.damage:
            raise CatalogError(f"cannot update: {base.damage}")
        previous = base.manifest
        if previous is None:
            raise CatalogError(
                f"no index at {location.root} to update: build one first with "
                f"`soc-workspace catalog build --bucket {location.bucket}`"
            )
        missing: list[str] = []
        if keys is not None:
            keys = list(keys)
            objects, missing = head_objects(location, keys, progress=progress)
        else:
            objects = list(list_newer(location, previous, since=since, progress=progress))
        datasets, rows, skipped = group_objects(location.bucket, objects)
        gone = _indexed_datasets(location.bucket, missing, previous)
        for ds_id in gone:
            datasets.setdefault(ds_id, dataset_from_manifest(previous["datasets"][ds_id]))
        tables = {}
        removed: list[str] = []
        for ds_id in sorted(set(rows) | set(gone)):
            old = _load_rows(location, previous, ds_id)
            deleted = old["url"].isin(gone.get(ds_id, {}))
            removed += [gone[ds_id][url] for url in old.loc[deleted, "url"]]
            merged = pd.concat([old[~deleted], rows.get(ds_id)], ignore_index=True)
            tables[ds_id] = finish_table(merged)  # an empty table drops the dataset
        prefixes = _merge_prefixes(previous, _prefixes(objects))
        all_skipped = _merge_skipped(location, skipped) if skipped else None
        try:
            result = publish(
                writer,
                dict(datasets),
                tables,
                base,
                complete=False,
                skipped=all_skipped,
                prefixes=prefixes,
            )
        except ConcurrentUpdate as err:
            log.info("%s; applying this update to it again", err)
            time.sleep(random.uniform(0, min(2.0, 0.05 * 2**attempt)))  # let the winner finish
            continue
        counts = {
            d: (len(tables[d]) if d in tables else e["files"])
            for d, e in previous["datasets"].items()
        }
        counts.update({d: len(t) for d, t in tables.items()})
        counts = {d: n for d, n in counts.items() if n}  # emptied datasets left the index
        return BuildReport(
            bucket=location.bucket,
            index=location.root,
            datasets=counts,
            added=len(objects),
            skipped=skipped,
            missing=missing,
            removed=removed,
            generation=result.generation,
            years_rewritten=result.years_rewritten,
        )
    raise CatalogError(f"{location.root} kept changing during the update; try again")


def _load_rows(location: IndexLocation, manifest: dict[str, Any], ds_id: str) -> pd.DataFrame:
    """The indexed rows of a dataset (every year), as raw rows to merge new objects into."""
    entry = manifest["datasets"].get(ds_id)
    if entry is None:
        return pd.DataFrame(columns=["start", "url", "filesize", "version", "etag", "modified"])
    paths = [location.path(y["parquet"]) for y in entry["years"].values()]
    try:
        blobs = location.fs.cat(paths)
    except FileNotFoundError as err:
        raise CatalogError(
            f"the index at {location.root} names files that are gone ({err}); "
            f"{repair_hint(location.bucket)}"
        ) from err
    try:
        tables = [read_parquet_table(blobs[p]) for p in paths]
    except (pa.ArrowInvalid, OSError) as err:
        raise CatalogError(
            f"the index at {location.root} names a damaged parquet file ({err}); "
            f"{repair_hint(location.bucket)}"
        ) from err
    frame = pa.concat_tables(tables).to_pandas()
    return frame[["start", "url", "filesize", "version", "etag", "modified"]]


def _indexed_datasets(
    bucket: str, missing: list[str], manifest: dict[str, Any]
) -> dict[str, dict[str, str]]:
    """The keys ``head_objects`` found missing, by the indexed dataset their name places them
    in: url -> key. (Its keys are normalized already; what it could not normalize is no key.)
    """
    found: dict[str, dict[str, str]] = {}
    for key in missing:
        try:
            ds_id = dataset_for(parse_key(key)).id
        except ValueError:
            continue  # not a SOC file name: it cannot be in the index
        if ds_id in manifest["datasets"]:
            found.setdefault(ds_id, {})[f"s3://{bucket}/{key}"] = key
    return found


def _merge_prefixes(manifest: dict[str, Any], new: dict[str, list[str]]) -> dict[str, list[str]]:
    merged = {d: set(e.get("prefixes", [])) for d, e in manifest["datasets"].items()}
    for d, folders in new.items():
        merged.setdefault(d, set()).update(folders)
    return {d: sorted(f) for d, f in merged.items()}


def _merge_skipped(location: IndexLocation, new: list[Skipped]) -> list[Skipped]:
    try:
        old = pd.read_csv(location.fs.open(location.path(SKIPPED)), dtype=str)
        known = [Skipped(k, r) for k, r in zip(old["key"], old["reason"], strict=True)]
    except (FileNotFoundError, KeyError, pd.errors.EmptyDataError):
        known = []
    by_key = {s.key: s for s in known}
    by_key.update({s.key: s for s in new})
    return list(by_key.values())
