"""The indexes of buckets as searches see them: loaded once, kept for ``catalog.max_age``.

A bucket's index is our manifest (``catalog/manifest.json``) or, without one, its CloudCatalog
``catalog.json``. Year files are fetched together when a search first needs them and kept in
memory and in ``catalog.cache_dir`` (ours are immutable: their names change with their content;
CloudCatalog CSV files are kept in memory only, for as long as their catalog.json).
"""

from __future__ import annotations

import hashlib
import io
import threading
import time
import warnings
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from ..config import Settings, current_settings
from ..missions import MISSIONS
from . import cloudcatalog
from .datasets import TABLE_SCHEMA, Dataset
from .errors import CatalogError, CatalogWarning, repair_hint
from .index import ROW_GROUP_ROWS
from .location import CATALOG_JSON, MANIFEST, IndexLocation, locate
from .manifest import dataset_from_manifest, parse_manifest
from .yearfiles import YearFile, to_ms

_MEMORY_BUDGET = 512 * 2**20  # bytes of index kept in memory (parquet + decoded row groups)


@dataclass
class YearRef:
    year: int
    path: str  # filesystem path of the parquet (ours) or CSV (CloudCatalog) file
    start: int | None  # ms; None when unknown (CloudCatalog CSV)
    stop: int | None
    immutable: bool  # our parquet files: the name changes when the content does


@dataclass
class DatasetIndex:
    dataset: Dataset
    years: dict[int, YearRef]
    first_year: int
    last_year: int
    files: int | None = None  # newest versions; unknown for CloudCatalog indexes


@dataclass
class BucketIndex:
    location: IndexLocation
    kind: str  # "soc" (manifest + parquet) or "cloudcatalog" (catalog.json + CSV)
    datasets: dict[str, DatasetIndex]
    generation: str
    loaded: float = field(default_factory=time.monotonic)


class _Cache:
    """Indexes and year files read so far in this process."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.indexes: dict[str, BucketIndex | None] = {}
        self.index_time: dict[str, float] = {}
        self.years: OrderedDict[str, YearFile] = OrderedDict()

    def clear(self) -> None:
        with self.lock:
            self.indexes.clear()
            self.index_time.clear()
            self.years.clear()

    def year(self, key: str) -> YearFile | None:
        with self.lock:
            found = self.years.get(key)
            if found is not None:
                self.years.move_to_end(key)
            return found

    def keep_year(self, key: str, year: YearFile) -> None:
        with self.lock:
            self.years[key] = year
            # Decoded row groups grow the year files as they are used: count them now.
            total = sum(y.nbytes for y in self.years.values())
            while total > _MEMORY_BUDGET and len(self.years) > 1:
                _, old = self.years.popitem(last=False)
                total -= old.nbytes


_CACHE = _Cache()


def clear_cache(*, disk: bool = False, settings: Settings | None = None) -> None:
    """Forget every index read in this process (and with ``disk=True`` the local file cache)."""
    _CACHE.clear()
    _LOCATIONS.clear()
    if disk:
        _DISK_WRITER.submit(lambda: None).result()  # one worker: earlier writes are done
        import shutil

        settings = settings or current_settings()
        shutil.rmtree(settings.catalog.resolved_cache_dir, ignore_errors=True)


def load_indexes(
    buckets: list[str], settings: Settings, options: dict[str, Any] | None
) -> dict[str, BucketIndex | Exception | None]:
    """The index of each bucket: fresh from the cache, else its manifest or catalog.json."""
    max_age = settings.catalog.max_age
    now = time.monotonic()
    out: dict[str, BucketIndex | Exception | None] = {}
    stale: list[IndexLocation] = []
    for bucket in buckets:
        location = _locate(bucket, settings, options)
        key = location.root
        if key in _CACHE.indexes and now - _CACHE.index_time[key] < max_age:
            out[bucket] = _CACHE.indexes[key]
        else:
            stale.append(location)
    if not stale:
        return out
    fs = stale[0].fs
    manifests = fs.cat([loc.path(MANIFEST) for loc in stale], on_error="return")
    fallback = []
    for loc in stale:
        data = manifests.get(loc.path(MANIFEST))
        if isinstance(data, bytes):
            try:
                out[loc.bucket] = _remember(loc, _from_manifest(loc, data))
            except CatalogError as err:  # a damaged manifest: said, per bucket
                out[loc.bucket] = err
        elif isinstance(data, FileNotFoundError) or data is None:
            fallback.append(loc)
        else:
            out[loc.bucket] = _unreadable(loc, data)  # reported by the caller
    if fallback:
        docs = fs.cat([loc.path(CATALOG_JSON) for loc in fallback], on_error="return")
        for loc in fallback:
            data = docs.get(loc.path(CATALOG_JSON))
            if isinstance(data, bytes):
                out[loc.bucket] = _remember(loc, _from_catalog_json(loc, data))
            elif isinstance(data, FileNotFoundError) or data is None:
                if _no_such_bucket(data):
                    out[loc.bucket] = _remember(loc, None)
                else:
                    out[loc.bucket] = CatalogError(
                        f"{loc.root} has no index ({MANIFEST} and {CATALOG_JSON} not found): "
                        f"ask the SOC operator to run `soc-workspace catalog build --bucket "
                        f"{loc.bucket}`"
                    )
            else:
                out[loc.bucket] = _unreadable(loc, data)
    return out


def _unreadable(location: IndexLocation, err: Any) -> CatalogError:
    return CatalogError(
        f"{location.root}: its index cannot be read ({type(err).__name__}: {err}); check the "
        "store settings and your access to the bucket"
    )


_LOCATIONS: dict[tuple[str, int], tuple[Settings, IndexLocation]] = {}


def _locate(bucket: str, settings: Settings, options: dict[str, Any] | None) -> IndexLocation:
    """:func:`locate`, remembered per settings object (making a filesystem costs time)."""
    if options:
        return locate(bucket, settings, options)
    known = _LOCATIONS.get((bucket, id(settings)))
    if known is None or known[0] is not settings:
        known = _LOCATIONS[(bucket, id(settings))] = (settings, locate(bucket, settings))
    return known[1]


def _no_such_bucket(err: Any) -> bool:
    return "bucket does not exist" in str(err) or "NoSuchBucket" in repr(
        getattr(err, "__cause__", "")
    )


def _remember(location: IndexLocation, index: BucketIndex | None) -> BucketIndex | None:
    with _CACHE.lock:
        _CACHE.indexes[location.root] = index
        _CACHE.index_time[location.root] = time.monotonic()
    return index


def _from_manifest(location: IndexLocation, data: bytes) -> BucketIndex:
    manifest = parse_manifest(data, location.url(MANIFEST), location.bucket)
    datasets = {}
    for ds_id, entry in manifest["datasets"].items():
        years = {
            int(y): YearRef(
                int(y),
                location.path(ref["parquet"]),
                to_ms(ref["start"], "start"),
                to_ms(ref["stop"], "stop"),
                immutable=True,
            )
            for y, ref in entry["years"].items()
        }
        datasets[ds_id] = DatasetIndex(
            dataset_from_manifest(entry), years, min(years), max(years), entry.get("latest_files")
        )
    return BucketIndex(location, "soc", datasets, manifest["generation"])


def _from_catalog_json(location: IndexLocation, data: bytes) -> BucketIndex:
    doc = cloudcatalog.read_catalog_json(data, location.url(CATALOG_JSON))
    datasets = {}
    for entry in doc["catalog"]:
        first = int(str(entry["start"])[:4])
        last = int(str(entry["stop"])[:4])
        index = str(entry["index"])
        # CloudCatalog keeps every index in the bucket it describes; read it with our store.
        base = index if index.endswith("/") else index + "/"
        years = {
            y: YearRef(
                y,
                location.fs._strip_protocol(f"{base}{entry['id']}_{y}.csv"),
                None,
                None,
                immutable=False,
            )
            for y in range(first, last + 1)
        }
        meta = Dataset(
            id=entry["id"],
            mission=None,
            instrument=None,
            level=None,
            filetype=str(entry.get("filetype", "other")),
        )
        meta = _soc_dataset(meta)
        datasets[entry["id"]] = DatasetIndex(meta, years, first, last)
    generation = str(doc.get("modificationDate") or time.time())
    return BucketIndex(location, "cloudcatalog", datasets, generation)


def _soc_dataset(meta: Dataset) -> Dataset:
    """Mission, instrument, level, ... of a SOC dataset id read from a catalog.json.

    Ids of other catalogs (a HelioCloud bucket) are kept as they are.
    """
    for m in sorted(MISSIONS.values(), key=lambda m: -len(m.name)):
        if not meta.id.startswith(m.name + "_"):
            continue
        parts = meta.id[len(m.name) + 1 :].split("_")
        try:
            inst = m.instrument(parts[0])
        except ValueError:
            return meta
        if len(parts) < 2 or parts[1].removesuffix("test") not in m.levels:
            return meta
        level = parts[1].removesuffix("test")
        descriptor = parts[2] if len(parts) > 2 else None
        mode = parts[3] if len(parts) > 3 else None
        test = parts[1].endswith("test") and parts[1] != level
        return Dataset(meta.id, m.name, inst.name, level, descriptor, mode, test, meta.filetype)
    return meta


# -- year files ------------------------------------------------------------------------------


def year_files(
    index: BucketIndex, dataset: Dataset, refs: list[YearRef], settings: Settings
) -> dict[str, YearFile | None]:
    """The year files of ``refs``: from memory, the disk cache, else fetched together."""
    out: dict[str, YearFile | None] = {}
    wanted: list[YearRef] = []
    for ref in refs:
        key = _cache_key(index, ref)
        found = _CACHE.year(key)
        if found is not None:
            out[ref.path] = found
            continue
        disk = _disk_path(settings, index, ref)
        if disk is not None and disk.is_file():
            year = YearFile(disk.read_bytes(), str(disk), dataset)
            _CACHE.keep_year(key, year)
            out[ref.path] = year
            continue
        wanted.append(ref)
    if not wanted:
        return out
    fetched = index.location.fs.cat([r.path for r in wanted], on_error="return")
    for ref in wanted:
        data = fetched.get(ref.path)
        url = index.location.fs.unstrip_protocol(ref.path)
        if isinstance(data, Exception) or data is None:
            if index.kind == "soc":
                raise CatalogError(
                    f"the index names {url}, which cannot be read ({data}); it may have been "
                    "replaced by a newer generation: search again; if that fails, "
                    f"{repair_hint(index.location.bucket)}"
                )
            warnings.warn(
                f"{url}: no CloudCatalog index file for {ref.year}; files of {ref.year} in "
                f"dataset are not in the result",
                CatalogWarning,
                stacklevel=4,
            )
            out[ref.path] = None
            continue
        if index.kind == "cloudcatalog":
            table = cloudcatalog.read_csv_index(data, url)
            data = _parquet_of(table)
        year = YearFile(data, url, dataset)
        disk = _disk_path(settings, index, ref)
        if disk is not None:
            _DISK_WRITER.submit(_write_atomic, disk, data)
        _CACHE.keep_year(_cache_key(index, ref), year)
        out[ref.path] = year
    return out


def _cache_key(index: BucketIndex, ref: YearRef) -> str:
    return ref.path if ref.immutable else f"{ref.path}@{index.generation}"


def _disk_path(settings: Settings, index: BucketIndex, ref: YearRef) -> Path | None:
    if not ref.immutable:
        return None  # CloudCatalog CSVs keep their names when they change: memory only
    root = hashlib.sha256(index.location.root.encode()).hexdigest()[:12]
    name = ref.path.rsplit("/", 1)[-1]
    return settings.catalog.resolved_cache_dir / root / name


# Year files go to the disk cache in the background: a search does not wait for the disk.
_DISK_WRITER = ThreadPoolExecutor(1, thread_name_prefix="soc-catalog-cache")


def _write_atomic(path: Path, data: bytes) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{path.name}.{threading.get_ident()}.tmp")
        tmp.write_bytes(data)
        tmp.replace(path)
    except OSError:
        pass  # the cache is an optimisation: a read-only home must not break searches


def _parquet_of(table: pd.DataFrame) -> bytes:

    buffer = io.BytesIO()
    arrow = pa.Table.from_pandas(table, schema=TABLE_SCHEMA, preserve_index=False)
    pq.write_table(arrow, buffer, row_group_size=ROW_GROUP_ROWS, compression="none")
    return buffer.getvalue()
