"""Publishing an index: new parquet files, then the manifest, then the CloudCatalog files.

Our readers follow ``catalog/manifest.json``. It names, per dataset and year, an immutable
parquet file, so a reader that has the manifest reads exactly that generation. A new
generation writes its new parquet files first, under names no other writer uses (the hash of
the content and a random tag of this attempt), then the manifest: one PUT, which S3 applies at
once, so no reader ever sees half an index.

Writers may run at once (two `catalog update`s fed by upload events). The manifest is written
only over the version the writer read (a conditional PUT: ``If-Match`` its ETag, or
``If-None-Match: *`` when there was none). The loser is told (:class:`ConcurrentUpdate`),
deletes the files only it wrote and tries again from the new manifest (``build.update``).
Clean-up never lists and guesses: after publishing generation N it deletes the files that
generation N-2 named and N-1 no longer did. A file leaves the chain of manifests only once
(new files always get new names, kept files are only ever taken from the manifest a writer
published over), so no published or future manifest can name what is deleted; readers holding
generation N-1 still find its files. The CloudCatalog files are derived from the manifest and
written after it (``cloudcatalog_files``).
"""

from __future__ import annotations

import hashlib
import io
import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from ..timestamps import to_utc
from . import cloudcatalog
from .cloudcatalog_files import csv_name, info_name, stored_names, write_cloudcatalog
from .datasets import Dataset, Skipped, to_arrow
from .errors import ConcurrentUpdate
from .location import MANIFEST, SKIPPED, ChangedMeanwhile, IndexLocation, IndexWriter
from .manifest import (
    FORMAT,
    NO_MANIFEST,
    PARQUET_PREFIX,
    Snapshot,
    parquet_files,
    read_snapshot,
    year_digest,
)

ROW_GROUP_ROWS = 4096  # ~ two weeks of 5-minute files: a day or a month reads one or a few
# `build` deletes parquet files no manifest names once they are this old: files of a writer
# that died between writing them and publishing (a live writer publishes within seconds).
ORPHAN_AGE = timedelta(hours=1)


def encode_parquet(table: pd.DataFrame) -> bytes:
    arrow = to_arrow(table).replace_schema_metadata(None)
    buffer = io.BytesIO()
    pq.write_table(
        arrow,
        buffer,
        row_group_size=ROW_GROUP_ROWS,
        compression="zstd",
        write_statistics=True,
        sorting_columns=[pq.SortingColumn(0)],
        # Sorted times differ little from row to row: delta encoding stores them in ~2 bytes
        # instead of ~7 (a year file halves, and so does a cold search's download).
        use_dictionary=["version"],
        column_encoding={
            c: "DELTA_BINARY_PACKED" for c in ("start", "stop", "modified", "filesize")
        },
    )
    return buffer.getvalue()


@dataclass
class PublishResult:
    """What one publish changed."""

    generation: str | None  # None: nothing published (already up to date)
    files_written: list[str] = field(default_factory=list)
    years_rewritten: int = 0
    years_unchanged: int = 0
    repaired: list[str] = field(default_factory=list)  # index files found damaged, rewritten


def publish(
    writer: IndexWriter,
    datasets: dict[str, Dataset],
    tables: dict[str, pd.DataFrame],
    base: Snapshot | None,
    *,
    complete: bool,
    skipped: list[Skipped] | None = None,
    prefixes: dict[str, list[str]] | None = None,
    check: bool = False,
) -> PublishResult:
    """Write the index of ``tables`` (finished file tables per dataset) over ``base``.

    ``base`` is the manifest as the caller read it (None: there is none). ``complete=True`` (a
    full scan): datasets absent from ``tables`` are dropped. Otherwise (an update) they keep
    their entries of ``base``; a dataset given an empty table is dropped. Years whose content
    did not change keep their files; when nothing changed nothing is written, so a repeated
    update is a no-op. ``skipped=None`` keeps the previous count.
    ``check=True`` (``build``): also read the stored index files and rewrite every one that
    is damaged or missing, including the CloudCatalog files; ``repaired`` lists them.
    Raises :class:`ConcurrentUpdate`, having deleted what it wrote, when another writer
    published since ``base`` was read.
    """
    base = base or NO_MANIFEST
    location = writer.location
    previous = base.manifest
    old = (previous or {}).get("datasets", {})
    now = datetime.now(UTC)
    tag = uuid.uuid4().hex[:8]  # this attempt's files: no other writer makes these names
    intact = _intact_files(location, previous) if check else None
    result = PublishResult(generation=None)
    if base.damage:
        result.repaired.append(MANIFEST)
    new_files: dict[str, bytes] = {}
    parts: dict[str, pd.DataFrame] = {}  # parquet name -> its year's table (for the CSVs)
    entries: dict[str, Any] = {}
    for ds_id in sorted(tables):
        table = tables[ds_id]
        if table.empty:
            continue
        years: dict[str, Any] = {}
        old_years = old.get(ds_id, {}).get("years", {})
        for year, part in table.groupby(table["start"].dt.year, sort=True):
            part = part.reset_index(drop=True)
            data = encode_parquet(part)
            digest = hashlib.sha256(data).hexdigest()[:16]
            kept = old_years.get(str(year))
            reuse = kept is not None and year_digest(kept) == digest
            if reuse and intact is not None and kept["parquet"] not in intact:
                result.repaired.append(kept["parquet"])  # named, but gone or damaged
                reuse = False
            if reuse:
                parquet = kept["parquet"]
                result.years_unchanged += 1
            else:
                parquet = f"{PARQUET_PREFIX}{ds_id}/{ds_id}_{year}-{digest}-{tag}.parquet"
                new_files[parquet] = data
                result.years_rewritten += 1
            parts[parquet] = part
            years[str(year)] = {
                "parquet": parquet,
                "digest": digest,
                "csv": csv_name(ds_id, int(year)),
                "rows": len(part),
                "latest_rows": int(part["latest"].sum()),
                "start": cloudcatalog.isotime(part["start"].iloc[0]),
                "stop": cloudcatalog.isotime(part["stop"].max()),
            }
        unchanged = all(y["parquet"] not in new_files for y in years.values())
        modified = old.get(ds_id, {}).get("modified") if unchanged else None
        entries[ds_id] = {
            "dataset": datasets[ds_id].to_dict(),
            "start": cloudcatalog.isotime(table["start"].iloc[0]),
            "stop": cloudcatalog.isotime(table["stop"].max()),
            "files": len(table),
            "latest_files": int(table["latest"].sum()),
            "last_start": cloudcatalog.isotime(table["start"].iloc[-1]),
            "modified": modified or cloudcatalog.isotime(now),
            "prefixes": sorted((prefixes or {}).get(ds_id, old.get(ds_id, {}).get("prefixes", []))),
            "years": years,
        }
    if not complete:
        for ds_id, entry in old.items():
            if ds_id not in tables:  # given anew (an empty table: every file of it was deleted)
                entries.setdefault(ds_id, entry)
    skipped_data = None if skipped is None else _skipped_csv(skipped)
    skipped_digest = (
        (previous or {}).get("skipped_digest")
        if skipped_data is None
        else hashlib.sha256(skipped_data).hexdigest()[:16]
    )
    same = (
        previous is not None
        and not new_files
        and _same_entries(entries, old)
        and skipped_digest == previous.get("skipped_digest")
    )
    if same:
        if check:  # nothing new: still make every index file whole
            names = stored_names(location) | _cloudcatalog_names(previous)
            result.repaired += write_cloudcatalog(
                writer, previous, base.token, names, tables=parts, check=True, before=previous
            )
            result.repaired += _put_if_differs(writer, SKIPPED, skipped_data, previous)
            writer.delete(sorted(_orphans(location, previous)))
        result.files_written = list(writer.written)
        return result  # already up to date

    for relative, data in new_files.items():  # 1. the new year files, under new names
        writer.put(relative, data)
    generation = f"{now:%Y%m%dT%H%M%S}Z-{uuid.uuid4().hex[:8]}"
    manifest = {
        "format": FORMAT,
        "generation": generation,
        "created": cloudcatalog.isotime(now),
        "bucket": location.bucket,
        "index": location.root,
        "files": sum(e["files"] for e in entries.values()),
        "skipped": (previous or {}).get("skipped", 0) if skipped is None else len(skipped),
        "skipped_digest": skipped_digest,
        "datasets": entries,
        "previous": sorted(parquet_files(previous)),
    }
    # 2. the manifest, only over the version we read: from here on readers see the new
    # generation, whole.
    try:
        token = writer.replace(MANIFEST, json.dumps(manifest, indent=1).encode(), base.token)
    except ChangedMeanwhile:
        current = read_snapshot(location)
        if current.generation != generation:
            writer.delete(sorted(set(new_files) - parquet_files(current.manifest)))
            raise ConcurrentUpdate(
                f"{location.url(MANIFEST)} changed while this index was prepared (now "
                f"generation {current.generation}); nothing was published"
            ) from None
        token = current.token  # our write landed, its answer was lost
    # 3. what is derived from the manifest: the skipped list, the CloudCatalog files.
    if check:
        result.repaired += _put_if_differs(writer, SKIPPED, skipped_data, previous)
    elif skipped_data is not None and skipped_digest != (previous or {}).get("skipped_digest"):
        writer.put(SKIPPED, skipped_data)
    names = _cloudcatalog_changes(manifest, previous, new_files)
    if check:
        names |= stored_names(location) | _cloudcatalog_names(manifest)
    result.repaired += write_cloudcatalog(
        writer, manifest, token, names, tables=parts, check=check, before=previous
    )
    # 4. tidy: what generation N-2 named and N-1 no longer does (see the module's docstring).
    doomed = set((previous or {}).get("previous", [])) - parquet_files(previous)
    if check:
        doomed |= _orphans(location, manifest)
    writer.delete(sorted(doomed - parquet_files(manifest)))
    result.generation = generation
    result.files_written = list(writer.written)
    return result


def _same_entries(entries: dict[str, Any], old: dict[str, Any]) -> bool:
    return set(entries) == set(old) and all(
        entries[d]["years"] == old[d].get("years")
        and entries[d]["prefixes"] == old[d].get("prefixes")
        for d in entries
    )


def _cloudcatalog_names(manifest: dict[str, Any]) -> set[str]:
    names = {info_name(d) for d in manifest["datasets"]}
    return names | {y["csv"] for e in manifest["datasets"].values() for y in e["years"].values()}


def _cloudcatalog_changes(
    manifest: dict[str, Any], previous: dict[str, Any] | None, new_files: dict[str, bytes]
) -> set[str]:
    """The CloudCatalog files that differ between ``previous`` and ``manifest``."""
    changed = {
        y["csv"]
        for e in manifest["datasets"].values()
        for y in e["years"].values()
        if y["parquet"] in new_files
    }
    if previous is None:
        return _cloudcatalog_names(manifest)
    stale = _cloudcatalog_names(previous) - _cloudcatalog_names(manifest)
    added = {info_name(d) for d in manifest["datasets"] if d not in previous["datasets"]}
    return changed | stale | added


def _intact_files(location: IndexLocation, manifest: dict[str, Any] | None) -> set[str]:
    """The parquet files of ``manifest`` that are there and hold what their digest says."""
    named = sorted(parquet_files(manifest))
    if not named:
        return set()
    found = location.fs.cat([location.path(p) for p in named], on_error="return")
    by_name = {p: found.get(location.path(p)) for p in named}
    digests = {
        y["parquet"]: year_digest(y)
        for e in (manifest or {})["datasets"].values()
        for y in e["years"].values()
    }
    return {
        p
        for p, data in by_name.items()
        if isinstance(data, bytes) and hashlib.sha256(data).hexdigest()[:16] == digests[p]
    }


def _orphans(location: IndexLocation, manifest: dict[str, Any]) -> set[str]:
    """Parquet files no manifest names, written over ``ORPHAN_AGE`` ago (a dead writer's).

    The one place that lists the index's parquet folder; only ``build`` does it.
    """
    base = location.path(PARQUET_PREFIX)
    location.fs.invalidate_cache(base)  # other processes write here: no remembered listing
    try:
        found = location.fs.find(base, detail=True)
    except FileNotFoundError:
        return set()
    root = location.fs._strip_protocol(location.root).rstrip("/") + "/"
    keep = parquet_files(manifest) | set(manifest.get("previous", []))
    cutoff = datetime.now(UTC) - ORPHAN_AGE
    doomed = set()
    for path, info in found.items():
        relative = path[len(root) :] if path.startswith(root) else None
        if not relative or not relative.endswith(".parquet") or relative in keep:
            continue
        modified = _modified(info)
        if modified is not None and modified < cutoff:
            doomed.add(relative)
    return doomed


def _modified(info: dict[str, Any]) -> datetime | None:
    value = info.get("LastModified") or info.get("mtime") or info.get("created")
    if value is None:
        return None
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, UTC)
    return to_utc(value).to_pydatetime()


def _put_if_differs(
    writer: IndexWriter, relative: str, data: bytes | None, before: dict[str, Any] | None
) -> list[str]:
    """Write the skipped list ``relative`` when it does not hold ``data``; [relative] when it
    did not hold what the manifest ``before`` recorded either (damaged or missing)."""
    if data is None:
        return []
    location = writer.location
    try:
        stored = location.fs.cat_file(location.path(relative))
    except FileNotFoundError:
        stored = None
    if stored == data:
        return []
    writer.put(relative, data)
    recorded = (before or {}).get("skipped_digest")
    digest = hashlib.sha256(stored).hexdigest()[:16] if stored is not None else None
    return [relative] if recorded and digest != recorded else []


def _skipped_csv(skipped: list[Skipped]) -> bytes:
    frame = pd.DataFrame([(s.key, s.reason) for s in skipped], columns=["key", "reason"])
    return frame.to_csv(index=False, lineterminator="\n").encode()


def read_parquet_table(data: bytes) -> pa.Table:
    return pq.read_table(pa.BufferReader(data))
