"""Publishing an index: yearly files first, then the manifest and ``catalog.json`` that name them.

Our readers follow ``catalog/manifest.json``. It names, per dataset and year, an immutable
parquet file whose name carries a hash of its content, so a reader that has the manifest reads
exactly that generation. A new generation writes its new parquet files first and the manifest
last (one PUT, which S3 applies at once): no reader ever sees half an index. Files of the
generation before stay until the next publish, for readers still holding its manifest.
"""

from __future__ import annotations

import hashlib
import io
import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from . import cloudcatalog
from .datasets import Dataset, Skipped, to_arrow
from .location import CATALOG_JSON, MANIFEST, PREFIX, SKIPPED, IndexLocation, IndexWriter

FORMAT = "soc-workspace-catalog/1"
PARQUET_PREFIX = PREFIX + "parquet/"
_DELTA_COLUMNS = ("start", "stop", "modified", "filesize")
ROW_GROUP_ROWS = 4096  # ~ two weeks of 5-minute files: a day or a month reads one or a few


class CatalogError(RuntimeError):
    """An index is missing, damaged or cannot be read; the message says which and what to do."""


class CatalogWarning(UserWarning):
    """Part of a search could not be answered (a bucket without an index, ...)."""


def csv_name(dataset_id: str, year: int) -> str:
    return f"{PREFIX}{dataset_id}_{year}.csv"


def info_name(dataset_id: str) -> str:
    return f"{PREFIX}{dataset_id}.json"


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


def load_manifest(location: IndexLocation) -> dict[str, Any] | None:
    """The current manifest of ``location``, or None when the bucket has no index of ours."""
    try:
        data = location.fs.cat_file(location.path(MANIFEST))
    except FileNotFoundError:
        return None
    return parse_manifest(data, location.url(MANIFEST))


def parse_manifest(data: bytes, source: str) -> dict[str, Any]:
    try:
        manifest = json.loads(data)
    except ValueError as err:
        raise CatalogError(f"{source} is not valid JSON ({err}); rebuild the index") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise CatalogError(
            f"{source} is not a soc-workspace catalog manifest (expected format {FORMAT!r}); "
            "rebuild the index with `soc-workspace catalog build`"
        )
    return manifest


def dataset_from_manifest(entry: dict[str, Any]) -> Dataset:
    return Dataset(**entry["dataset"])


@dataclass
class PublishResult:
    """What one publish changed."""

    generation: str | None  # None: nothing changed, nothing written
    files_written: list[str] = field(default_factory=list)
    years_rewritten: int = 0
    years_unchanged: int = 0


class ConcurrentUpdate(CatalogError):
    """Another writer published a generation while this one was being prepared."""


def publish(
    writer: IndexWriter,
    datasets: dict[str, Dataset],
    tables: dict[str, pd.DataFrame],
    previous: dict[str, Any] | None,
    *,
    complete: bool,
    skipped: list[Skipped] | None = None,
    prefixes: dict[str, list[str]] | None = None,
) -> PublishResult:
    """Write the index of ``tables`` (finished file tables per dataset) as a new generation.

    ``complete=True`` (a full scan): datasets absent from ``tables`` are dropped. Otherwise (an
    update) they keep their entries of ``previous``; a dataset given an empty table is
    dropped. Years whose content did not change keep their files; when nothing changed nothing
    is written, so a repeated update is a no-op.
    ``skipped=None`` keeps the previous count. Raises :class:`ConcurrentUpdate`, having written
    only unreferenced files, when the manifest changed since ``previous`` was read.
    """
    location = writer.location
    old = (previous or {}).get("datasets", {})
    now = datetime.now(UTC)
    entries: dict[str, Any] = {}
    result = PublishResult(generation=None)
    pending: list[tuple[str, bytes]] = []
    for ds_id in sorted(tables):
        table = tables[ds_id]
        if table.empty:
            continue
        dataset = datasets[ds_id]
        years: dict[str, Any] = {}
        old_years = old.get(ds_id, {}).get("years", {})
        for year, part in table.groupby(table["start"].dt.year, sort=True):
            part = part.reset_index(drop=True)
            data = encode_parquet(part)
            digest = hashlib.sha256(data).hexdigest()[:16]
            parquet = f"{PARQUET_PREFIX}{ds_id}/{ds_id}_{year}-{digest}.parquet"
            years[str(year)] = {
                "parquet": parquet,
                "csv": csv_name(ds_id, int(year)),
                "rows": len(part),
                "latest_rows": int(part["latest"].sum()),
                "start": cloudcatalog.isotime(part["start"].iloc[0]),
                "stop": cloudcatalog.isotime(part["stop"].max()),
            }
            if old_years.get(str(year), {}).get("parquet") == parquet:
                result.years_unchanged += 1
                continue
            result.years_rewritten += 1
            pending.append((parquet, data))
            pending.append((csv_name(ds_id, int(year)), cloudcatalog.csv_bytes(part, dataset)))
        unchanged = not any(p.startswith(f"{PARQUET_PREFIX}{ds_id}/") for p, _ in pending)
        modified = old.get(ds_id, {}).get("modified") if unchanged else None
        entries[ds_id] = {
            "dataset": dataset.to_dict(),
            "start": cloudcatalog.isotime(table["start"].iloc[0]),
            "stop": cloudcatalog.isotime(table["stop"].max()),
            "files": len(table),
            "latest_files": int(table["latest"].sum()),
            "last_start": cloudcatalog.isotime(table["start"].iloc[-1]),
            "modified": modified or cloudcatalog.isotime(now),
            "prefixes": sorted((prefixes or {}).get(ds_id, old.get(ds_id, {}).get("prefixes", []))),
            "years": years,
        }
        if ds_id not in old:
            pending.append((info_name(ds_id), cloudcatalog.info_bytes(dataset)))

    if not complete:
        for ds_id, entry in old.items():
            if ds_id in tables:
                continue  # given anew (an empty table: every file of it was deleted)
            entries.setdefault(ds_id, entry)
            datasets.setdefault(ds_id, dataset_from_manifest(entry))
    skipped_count = (previous or {}).get("skipped", 0) if skipped is None else len(skipped)
    skipped_data = None if skipped is None else _skipped_csv(skipped)
    skipped_digest = (
        (previous or {}).get("skipped_digest")
        if skipped_data is None
        else hashlib.sha256(skipped_data).hexdigest()[:16]
    )
    same_datasets = set(entries) == set(old) and all(
        entries[d]["years"] == old[d].get("years")
        and entries[d]["prefixes"] == old[d].get("prefixes")
        for d in entries
    )
    same_skipped = skipped_digest == (previous or {}).get("skipped_digest")
    if previous is not None and not pending and same_datasets and same_skipped:
        return result  # already up to date

    for relative, data in pending:  # 1. the yearly files (new names or whole replacements)
        writer.put(relative, data)
    if skipped_data is not None and not same_skipped:
        writer.put(SKIPPED, skipped_data)
    generation = f"{now:%Y%m%dT%H%M%S}Z-{uuid.uuid4().hex[:8]}"
    manifest = {
        "format": FORMAT,
        "generation": generation,
        "created": cloudcatalog.isotime(now),
        "bucket": location.bucket,
        "index": location.root,
        "files": sum(e["files"] for e in entries.values()),
        "skipped": skipped_count,
        "skipped_digest": skipped_digest,
        "datasets": entries,
        "previous": sorted(_parquet_files(previous)),
    }
    current = load_manifest(location)
    if (current or {}).get("generation") != (previous or {}).get("generation"):
        raise ConcurrentUpdate(
            f"{location.url(MANIFEST)} changed while this index was prepared (generation "
            f"{(current or {}).get('generation')}); nothing was published"
        )
    # 2. the manifest: from here on our readers see the new generation, whole.
    writer.put(MANIFEST, json.dumps(manifest, indent=1).encode())
    # 3. catalog.json for CloudCatalog readers (its CSV files were written in step 1).
    cc_entries = [
        cloudcatalog.catalog_entry(
            datasets[d], location.index_url, e["start"], e["stop"], pd.Timestamp(e["modified"])
        )
        for d, e in entries.items()
    ]
    writer.put(
        CATALOG_JSON, cloudcatalog.catalog_json(location.bucket, location.index_url, cc_entries)
    )
    # 4. tidy: CSVs of years that no longer exist, parquet files two generations old.
    keep_csv = {y["csv"] for e in entries.values() for y in e["years"].values()}
    stale_csv = [
        y["csv"]
        for e in old.values()
        for y in e.get("years", {}).values()
        if y["csv"] not in keep_csv
    ] + [info_name(d) for d in old if d not in entries]
    keep = _parquet_files(manifest) | set(manifest["previous"])
    writer.delete(sorted(set(stale_csv)) + sorted(_listed_parquet(location) - keep))
    result.generation = generation
    result.files_written = list(writer.written)
    return result


def _parquet_files(manifest: dict[str, Any] | None) -> set[str]:
    if not manifest:
        return set()
    return {
        y["parquet"] for e in manifest.get("datasets", {}).values() for y in e["years"].values()
    }


def _listed_parquet(location: IndexLocation) -> set[str]:
    """Parquet files present under the index (a listing of the index prefix, not of data)."""
    base = location.path(PARQUET_PREFIX)
    try:
        found = location.fs.find(base)
    except FileNotFoundError:
        return set()
    root = location.fs._strip_protocol(location.root).rstrip("/") + "/"
    return {p[len(root) :] for p in found if p.endswith(".parquet") and p.startswith(root)}


def _skipped_csv(skipped: list[Skipped]) -> bytes:
    frame = pd.DataFrame([(s.key, s.reason) for s in skipped], columns=["key", "reason"])
    return frame.to_csv(index=False, lineterminator="\n").encode()


def read_parquet_table(data: bytes) -> pa.Table:
    return pq.read_table(pa.BufferReader(data))
