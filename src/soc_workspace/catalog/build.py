"""Building and updating indexes: scan a bucket once, then add what is new.

``build`` lists the whole bucket (the one time anything lists it) and publishes a complete
index. ``update`` adds objects without a full scan: from a list of keys (the pipeline's upload
events) or by listing only the date folders from the newest indexed day on; a listed key
that is indexed but no longer in the bucket (a delete event) leaves the index. Both are
idempotent: running them again with nothing new writes nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pandas as pd
import pyarrow as pa

from ..config import Settings, load_settings
from ..missions import bucket_for, get_mission, parse_key
from .datasets import (
    Skipped,
    StoredObject,
    dataset_for,
    finish_table,
    group_objects,
)
from .discover import head_objects, list_newer, scan
from .index import (
    CatalogError,
    ConcurrentUpdate,
    dataset_from_manifest,
    load_manifest,
    publish,
    read_parquet_table,
)
from .location import (
    CATALOG_JSON,
    SKIPPED,
    IndexLocation,
    IndexWriter,
    check_index_write,
    locate,
)

log = logging.getLogger(__name__)


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

    def summary(self) -> str:
        state = (
            f"published generation {self.generation} ({self.years_rewritten} year file(s) written)"
            if self.generation
            else "already up to date, nothing written"
        )
        lines = [
            f"{self.bucket}: {self.added} object(s) read, {sum(self.datasets.values())} file(s) in "
            f"{len(self.datasets)} dataset(s); {state}; index at {self.index}"
        ]
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


def instrument_buckets(mission: str, env: str = "prod") -> list[str]:
    m = get_mission(mission)
    return [bucket_for(m.name, i.name, env) for i in m.instruments]


def build(
    bucket: str | None = None,
    *,
    mission: str | None = None,
    env: str | None = None,
    operator: bool = False,
    progress: bool = True,
    settings: Settings | None = None,
    storage_options: dict[str, Any] | None = None,
) -> list[BuildReport]:
    """Scan ``bucket`` (or every instrument bucket of ``mission``) and publish its index.

    Writes ``catalog.json`` and ``catalog/...`` beside the data (or under ``catalog.url``).
    Writing into a SOC instrument bucket on a store that is not on this machine needs
    ``operator=True``: it is the SOC operator's act (see ``location.check_index_write``).
    Buckets of the mission that do not exist are reported and skipped.
    """
    settings = settings or load_settings()
    if (bucket is None) == (mission is None):
        raise ValueError("build needs either a bucket or a mission (all its instrument buckets)")
    buckets = [bucket] if bucket else instrument_buckets(mission or "", env or settings.environment)
    reports = []
    for name in buckets:
        location = locate(name, settings, storage_options)
        if mission and not location.fs.exists(name):
            log.info("bucket %s does not exist: nothing to index", name)
            continue
        reports.append(_build_one(location, operator, progress, settings, storage_options))
    return reports


def _writer(
    location: IndexLocation, operator: bool, settings: Settings, options: dict[str, Any] | None
) -> IndexWriter:
    endpoint = (options or {}).get("endpoint_url") or settings.store.resolved_endpoint_url
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
    previous = load_manifest(location)
    objects = list(scan(location, progress=progress))
    datasets, rows, skipped = group_objects(location.bucket, objects)
    tables = {d: finish_table(r) for d, r in rows.items()}
    try:
        result = publish(
            writer,
            datasets,
            tables,
            previous,
            complete=True,
            skipped=skipped,
            prefixes=_prefixes(objects),
        )
    except ConcurrentUpdate:
        log.warning("%s was updated during the scan; publishing the scan over it", location.root)
        result = publish(
            writer,
            datasets,
            tables,
            load_manifest(location),
            complete=True,
            skipped=skipped,
            prefixes=_prefixes(objects),
        )
    return BuildReport(
        bucket=location.bucket,
        index=location.root,
        datasets={d: len(t) for d, t in tables.items()},
        added=len(objects),
        skipped=skipped,
        generation=result.generation,
        years_rewritten=result.years_rewritten,
    )


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
    settings = settings or load_settings()
    location = locate(bucket, settings, storage_options)
    writer = _writer(location, operator, settings, storage_options)
    check_index_write(location, CATALOG_JSON, operator=operator, endpoint=writer.endpoint)
    for _attempt in range(3):
        previous = load_manifest(location)
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
                previous,
                complete=False,
                skipped=all_skipped,
                prefixes=prefixes,
            )
        except ConcurrentUpdate as err:
            log.info("%s; merging again", err)
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
            f"the index at {location.root} names files that are gone ({err}); rebuild it with "
            f"`soc-workspace catalog build --bucket {location.bucket}`"
        ) from err
    tables = [read_parquet_table(blobs[p]) for p in paths]
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
