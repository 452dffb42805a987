"""Finding files: ``search`` answers from the indexes, never from a bucket listing.

Per bucket it reads one small manifest, then only the yearly parquet files the time range
needs, and of those only the row groups whose start/stop statistics overlap the range
(files are sorted by start). Everything read is kept: the manifest for ``catalog.max_age``
seconds, the immutable year files in memory and in ``catalog.cache_dir``, so a repeated
query in a session costs a few milliseconds. Buckets without a manifest of ours but with a
CloudCatalog ``catalog.json`` (any HelioCloud bucket) are read through their CSV files.
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
import warnings
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from ..config import Settings, load_settings, user_config_file
from ..missions import MISSIONS, Mission, bucket_for, get_mission
from . import cloudcatalog
from .datasets import TABLE_SCHEMA, Dataset
from .index import ROW_GROUP_ROWS, CatalogError, dataset_from_manifest, parse_manifest
from .location import CATALOG_JSON, MANIFEST, IndexLocation, locate

RESULT_COLUMNS = [
    "dataset",
    "mission",
    "instrument",
    "level",
    "descriptor",
    "mode",
    "start",
    "stop",
    "version",
    "latest",
    "filename",
    "filesize",
    "etag",
    "url",
]
_MS = np.int64
_MEMORY_BUDGET = 512 * 2**20  # bytes of index kept in memory (parquet + decoded row groups)


class CatalogWarning(UserWarning):
    """Part of a search could not be answered (a bucket without an index, ...)."""


_SETTINGS: tuple[Any, Settings] | None = None


def current_settings() -> Settings:
    """The settings now, re-read only when a settings file or variable changed.

    Reading them costs milliseconds, more than a warm search.
    """
    global _SETTINGS
    user = user_config_file()
    key = (
        (str(user), user.stat().st_mtime_ns) if user else None,
        sorted((k, v) for k, v in os.environ.items() if k.startswith(_SETTING_VARIABLES)),
    )
    if _SETTINGS is None or _SETTINGS[0] != key:
        _SETTINGS = (key, load_settings())
    return _SETTINGS[1]


_SETTING_VARIABLES = ("SOC_WORKSPACE", "AWS_")


# -- what one query asks -----------------------------------------------------------------


def to_ms(value: Any, what: str) -> int | None:
    """Milliseconds since 1970 (UTC) of a time given as text, datetime, date or Timestamp."""
    if value is None:
        return None
    try:
        ts = pd.Timestamp(value)
    except (ValueError, TypeError):
        raise ValueError(
            f"{what}={value!r} is not a time: give e.g. '2025-06-01', '2025-06-01T12:00', "
            "a datetime or a pandas Timestamp (UTC unless a timezone is given)"
        ) from None
    if ts is pd.NaT:
        raise ValueError(f"{what} is NaT: give a time or None")
    ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
    return int(ts.value // 1_000_000)


@dataclass(frozen=True)
class _Range:
    start: int | None
    stop: int | None

    def years(self, first: int, last: int) -> range:
        lo = first if self.start is None else max(first, _year(self.start))
        hi = last if self.stop is None else min(last, _year(self.stop - 1))
        return range(lo, hi + 1)


def _year(ms: int) -> int:
    return int(str(np.datetime64(ms, "ms"))[:4])


# -- the indexes of buckets ----------------------------------------------------------------


@dataclass
class _YearRef:
    year: int
    path: str  # filesystem path of the parquet (ours) or CSV (CloudCatalog) file
    start: int | None  # ms; None when unknown (CloudCatalog CSV)
    stop: int | None
    immutable: bool  # our parquet files: the name changes when the content does


@dataclass
class _DatasetIndex:
    dataset: Dataset
    years: dict[int, _YearRef]
    first_year: int
    last_year: int
    files: int | None = None  # newest versions; unknown for CloudCatalog indexes


@dataclass
class _BucketIndex:
    location: IndexLocation
    kind: str  # "soc" (manifest + parquet) or "cloudcatalog" (catalog.json + CSV)
    datasets: dict[str, _DatasetIndex]
    generation: str
    loaded: float = field(default_factory=time.monotonic)


class _YearFile:
    """One year of one dataset: parquet bytes, decoded row group by row group on demand.

    A decoded row group is kept in result form (every column of ``RESULT_COLUMNS``), once
    with all versions and once with the newest only, so that a search mostly slices them.
    """

    def __init__(self, data: bytes, source: str, dataset: Dataset) -> None:
        self.source = source
        self.dataset = dataset
        self.nbytes = len(data)
        try:
            self.file = pq.ParquetFile(pa.BufferReader(data))
        except (pa.ArrowInvalid, OSError) as err:
            raise CatalogError(
                f"{source} is not a readable parquet index ({err}); rebuild the index"
            ) from None
        meta = self.file.metadata
        n = meta.num_row_groups
        self.start_min = np.empty(n, _MS)
        self.stop_max = np.empty(n, _MS)
        for i in range(n):
            rg = meta.row_group(i)
            self.start_min[i] = _stat_ms(rg.column(0).statistics, "min")
            self.stop_max[i] = _stat_ms(rg.column(1).statistics, "max")
        self._groups: dict[int, dict[str, tuple[pa.Table, np.ndarray, np.ndarray]]] = {}
        self._lock = threading.Lock()

    def _group(self, i: int) -> dict[str, tuple[pa.Table, np.ndarray, np.ndarray]]:
        group = self._groups.get(i)
        if group is None:
            with self._lock:
                raw = self.file.read_row_group(i)
            table = _result_table(self.dataset, raw)
            latest = raw.column("latest").to_numpy(zero_copy_only=False)
            group = {"all": _with_times(table)}
            group["latest"] = group["all"] if latest.all() else _with_times(table.filter(latest))
            self._groups[i] = group
            self.nbytes += table.nbytes + (0 if latest.all() else group["latest"][0].nbytes)
        return group

    def select(self, span: _Range, version: str) -> list[pa.Table]:
        """Rows overlapping ``span``: start before its stop, stop after its start."""
        t0, t1 = span.start, span.stop
        wanted = np.ones(len(self.start_min), bool)
        if t1 is not None:
            wanted &= self.start_min < t1
        if t0 is not None:
            wanted &= self.stop_max > t0 - 1  # zero-length files starting exactly at t0
        pieces = []
        for i in np.flatnonzero(wanted):
            table, start, stop = self._group(int(i))["latest" if version == "latest" else "all"]
            hi = len(start) if t1 is None else int(np.searchsorted(start, t1, "left"))
            first = 0 if t0 is None else int(np.searchsorted(start, t0, "left"))
            first = min(first, hi)
            # Files starting before t0 count when they end after it (usually one or none).
            before = np.flatnonzero(stop[:first] > t0) if first else np.empty(0, np.int64)
            if version not in ("latest", "all"):
                keep = table.column("version").to_numpy(zero_copy_only=False)[:hi] == version
                rows = np.concatenate([before, np.arange(first, hi)])
                rows = rows[keep[rows]]
                if len(rows):
                    pieces.append(table.take(pa.array(rows)))
                continue
            if len(before):
                pieces.append(table.take(pa.array(before)))
            if hi > first:
                pieces.append(table.slice(first, hi - first))
        return pieces


def _with_times(table: pa.Table) -> tuple[pa.Table, np.ndarray, np.ndarray]:
    start = table.column("start").cast(pa.int64()).to_numpy()
    stop = table.column("stop").cast(pa.int64()).to_numpy()
    return table, start, stop


def _stat_ms(stats: Any, which: str) -> int:
    if stats is None or not stats.has_min_max:
        return np.iinfo(_MS).min if which == "min" else np.iinfo(_MS).max
    value = stats.min if which == "min" else stats.max
    return int(pd.Timestamp(value).value // 1_000_000)


class _Cache:
    """Indexes and year files read so far in this process."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.indexes: dict[str, _BucketIndex | None] = {}
        self.index_time: dict[str, float] = {}
        self.years: OrderedDict[str, _YearFile] = OrderedDict()

    def clear(self) -> None:
        with self.lock:
            self.indexes.clear()
            self.index_time.clear()
            self.years.clear()

    def year(self, key: str) -> _YearFile | None:
        with self.lock:
            found = self.years.get(key)
            if found is not None:
                self.years.move_to_end(key)
            return found

    def keep_year(self, key: str, year: _YearFile) -> None:
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
        import shutil

        settings = settings or load_settings()
        shutil.rmtree(settings.catalog.resolved_cache_dir, ignore_errors=True)


def _load_indexes(
    buckets: list[str], settings: Settings, options: dict[str, Any] | None
) -> dict[str, _BucketIndex | Exception | None]:
    """The index of each bucket: fresh from the cache, else its manifest or catalog.json."""
    max_age = settings.catalog.max_age
    now = time.monotonic()
    out: dict[str, _BucketIndex | Exception | None] = {}
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
            out[loc.bucket] = _remember(loc, _from_manifest(loc, data))
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


def _remember(location: IndexLocation, index: _BucketIndex | None) -> _BucketIndex | None:
    with _CACHE.lock:
        _CACHE.indexes[location.root] = index
        _CACHE.index_time[location.root] = time.monotonic()
    return index


def _from_manifest(location: IndexLocation, data: bytes) -> _BucketIndex:
    manifest = parse_manifest(data, location.url(MANIFEST))
    datasets = {}
    for ds_id, entry in manifest["datasets"].items():
        years = {
            int(y): _YearRef(
                int(y),
                location.path(ref["parquet"]),
                to_ms(ref["start"], "start"),
                to_ms(ref["stop"], "stop"),
                immutable=True,
            )
            for y, ref in entry["years"].items()
        }
        datasets[ds_id] = _DatasetIndex(
            dataset_from_manifest(entry), years, min(years), max(years), entry.get("latest_files")
        )
    return _BucketIndex(location, "soc", datasets, manifest["generation"])


def _from_catalog_json(location: IndexLocation, data: bytes) -> _BucketIndex:
    doc = cloudcatalog.read_catalog_json(data, location.url(CATALOG_JSON))
    datasets = {}
    for entry in doc["catalog"]:
        first = int(str(entry["start"])[:4])
        last = int(str(entry["stop"])[:4])
        index = str(entry["index"])
        # CloudCatalog keeps every index in the bucket it describes; read it with our store.
        base = index if index.endswith("/") else index + "/"
        years = {
            y: _YearRef(
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
        datasets[entry["id"]] = _DatasetIndex(meta, years, first, last)
    generation = str(doc.get("modificationDate") or time.time())
    return _BucketIndex(location, "cloudcatalog", datasets, generation)


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


def _year_files(
    index: _BucketIndex, dataset: Dataset, refs: list[_YearRef], settings: Settings
) -> dict[str, _YearFile | None]:
    """The year files of ``refs``: from memory, the disk cache, else fetched together."""
    out: dict[str, _YearFile | None] = {}
    wanted: list[_YearRef] = []
    for ref in refs:
        key = _cache_key(index, ref)
        found = _CACHE.year(key)
        if found is not None:
            out[ref.path] = found
            continue
        disk = _disk_path(settings, index, ref)
        if disk is not None and disk.is_file():
            year = _YearFile(disk.read_bytes(), str(disk), dataset)
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
                    "replaced by a newer generation: search again, or rebuild the index"
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
        year = _YearFile(data, url, dataset)
        disk = _disk_path(settings, index, ref)
        if disk is not None:
            _write_atomic(disk, data)
        _CACHE.keep_year(_cache_key(index, ref), year)
        out[ref.path] = year
    return out


def _cache_key(index: _BucketIndex, ref: _YearRef) -> str:
    return ref.path if ref.immutable else f"{ref.path}@{index.generation}"


def _disk_path(settings: Settings, index: _BucketIndex, ref: _YearRef) -> Path | None:
    if not ref.immutable:
        return None  # CloudCatalog CSVs keep their names when they change: memory only
    root = hashlib.sha256(index.location.root.encode()).hexdigest()[:12]
    name = ref.path.rsplit("/", 1)[-1]
    return settings.catalog.resolved_cache_dir / root / name


def _write_atomic(path: Path, data: bytes) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{path.name}.{threading.get_ident()}.tmp")
        tmp.write_bytes(data)
        tmp.replace(path)
    except OSError:
        pass  # the cache is an optimisation: a read-only home must not break searches


def _parquet_of(table: pd.DataFrame) -> bytes:
    import io

    buffer = io.BytesIO()
    arrow = pa.Table.from_pandas(table, schema=TABLE_SCHEMA, preserve_index=False)
    pq.write_table(arrow, buffer, row_group_size=ROW_GROUP_ROWS, compression="none")
    return buffer.getvalue()


# -- search ---------------------------------------------------------------------------------


def _missions_for(mission: str | None) -> list[Mission]:
    return [get_mission(mission)] if mission else list(MISSIONS.values())


def _instrument_buckets(
    mission: str | None, instrument: str | None, env: str
) -> list[tuple[str, bool]]:
    """(bucket, named explicitly) for the missions and instruments asked for."""
    missions = _missions_for(mission)
    if instrument is None:
        return [(bucket_for(m.name, i.name, env), False) for m in missions for i in m.instruments]
    found = []
    for m in missions:
        try:
            inst = m.instrument(instrument)
        except ValueError as err:
            if mission:
                raise
            del err
            continue
        found.append((bucket_for(m.name, inst.name, env), True))
    if not found:
        valid = ", ".join(f"{m.name}/{i.name}" for m in missions for i in m.instruments)
        raise ValueError(f"unknown instrument {instrument!r}: expected one of {valid}")
    return found


def _check_level(level: str | None, mission: str | None) -> None:
    if level is None:
        return
    levels = sorted({lvl for m in _missions_for(mission) for lvl in m.levels})
    if level.removesuffix("test") not in levels:
        where = f"of {mission}" if mission else "of any mission"
        raise ValueError(
            f"unknown level {level!r} {where}: expected one of {', '.join(levels)} "
            "(add 'test' for test products, e.g. 'l0test')"
        )


def _bucket_of_dataset(dataset: str, env: str) -> str | None:
    for m in sorted(MISSIONS.values(), key=lambda m: -len(m.name)):
        if dataset.startswith(m.name + "_"):
            inst = dataset[len(m.name) + 1 :].split("_", 1)[0]
            try:
                return bucket_for(m.name, inst, env)
            except ValueError:
                return None
    return None


def _level_of(ds: Dataset) -> str | None:
    return None if ds.level is None else ds.level + ("test" if ds.test else "")


def _matches(ds: Dataset, level: str | None, descriptor: str | None) -> bool:
    if level is not None and _level_of(ds) != level:
        return False
    if descriptor is not None:
        names = {ds.descriptor}
        if ds.mission and ds.descriptor:
            names.add(get_mission(ds.mission).descriptor_paths.get(ds.descriptor))
        if descriptor not in names:
            return False
    return True


def _selected(
    mission: str | None,
    instrument: str | None,
    level: str | None,
    descriptor: str | None,
    dataset: str | None,
    bucket: str | None,
    env: str | None,
    settings: Settings,
    options: dict[str, Any] | None,
) -> list[tuple[_BucketIndex, _DatasetIndex]]:
    """The datasets a query asks for, with the index each lives in."""
    env = env or settings.environment
    _check_level(level, mission)
    if bucket:
        buckets = [(bucket.removeprefix("s3://").strip("/"), True)]
    elif dataset and mission is None and instrument is None:
        guess = _bucket_of_dataset(dataset, env)
        buckets = [(guess, True)] if guess else _instrument_buckets(None, None, env)
    else:
        buckets = _instrument_buckets(mission, instrument, env)
    loaded = _load_indexes([b for b, _ in buckets], settings, options)
    chosen = []
    for name, explicit in buckets:
        index = loaded.get(name)
        if isinstance(index, Exception):
            if explicit:
                raise index
            warnings.warn(
                f"{index} — its files are not in this result",
                CatalogWarning,
                stacklevel=3,
            )
            continue
        if index is None:
            if explicit:
                where = settings.store.resolved_endpoint_url or "AWS S3"
                raise CatalogError(
                    f"bucket {name!r} does not exist at {where} (settings: store.endpoint_url, "
                    "environment)"
                )
            continue  # no such bucket: it holds no files
        for ds in index.datasets.values():
            meta = ds.dataset
            if mission and meta.mission not in (None, mission.lower()):
                continue
            if dataset and meta.id != dataset:
                continue
            chosen.append((index, ds))
    chosen.sort(key=lambda pair: (pair[1].dataset.id, pair[0].location.root))
    candidates = chosen
    chosen = [(i, d) for i, d in candidates if _matches(d.dataset, level, descriptor)]
    if dataset and not candidates:
        known = sorted(d.dataset.id for _, d in _all(loaded))
        raise ValueError(f"unknown dataset {dataset!r}: expected one of {', '.join(known)}")
    if descriptor is not None and candidates and not chosen:
        known = sorted({str(d.dataset.descriptor) for _, d in candidates if d.dataset.descriptor})
        level_note = f" at level {level}" if level else ""
        raise ValueError(
            f"no dataset{level_note} has descriptor {descriptor!r}: expected one of "
            f"{', '.join(known) or '(none: these datasets have no descriptors)'}"
        )
    return chosen


def _all(loaded: dict[str, Any]) -> Iterable[tuple[_BucketIndex, _DatasetIndex]]:
    for index in loaded.values():
        if isinstance(index, _BucketIndex):
            for ds in index.datasets.values():
                yield index, ds


def search(
    mission: str | None = None,
    instrument: str | None = None,
    level: str | None = None,
    start: str | datetime | date | pd.Timestamp | None = None,
    stop: str | datetime | date | pd.Timestamp | None = None,
    descriptor: str | None = None,
    version: str = "latest",
    *,
    dataset: str | None = None,
    bucket: str | None = None,
    env: str | None = None,
    settings: Settings | None = None,
    storage_options: dict[str, Any] | None = None,
) -> pd.DataFrame:
    """Find the files of a mission, instrument, level and time range, from the catalog.

    Parameters
    ----------
    mission, instrument, level, descriptor
        What to find (``"hermes"``, ``"eea"``, ``"l1"``, ``"photon"``); None means any. Names
        are checked: an unknown one is an error listing the valid ones.
    start, stop
        The time range (UTC unless the value carries a zone). A file is returned when it
        overlaps ``[start, stop)``; None leaves that end open.
    version
        ``"latest"`` (the newest version of each file), ``"all"`` (its history) or one
        version, e.g. ``"1.0.1"``.
    dataset
        One dataset id (``"padre_meddea_l0_photon"``), e.g. of a HelioCloud bucket.
    bucket
        Search this bucket's index instead of the SOC instrument buckets: any bucket with a
        CloudCatalog ``catalog.json`` works.
    env
        ``"prod"`` or ``"dev"`` buckets; default: settings ``environment``.

    Returns
    -------
    pandas.DataFrame
        One row per file, sorted by dataset and start, with the columns ``RESULT_COLUMNS``:
        ``url`` is ``s3://bucket/key``, ``start``/``stop`` are UTC (``stop`` is estimated
        from the file cadence), ``latest`` marks the newest version of each file.

    Examples
    --------
    >>> files = search("hermes", "eea", "l1", "2025-06-01", "2025-06-02")  # doctest: +SKIP
    >>> files[["start", "version", "url"]].head()  # doctest: +SKIP
    """
    settings = settings or current_settings()
    if not isinstance(version, str) or not version:
        raise ValueError(f"version={version!r}: give 'latest', 'all' or a version like '1.0.0'")
    span = _Range(to_ms(start, "start"), to_ms(stop, "stop"))
    if span.start is not None and span.stop is not None and span.stop < span.start:
        raise ValueError(f"stop ({stop}) is before start ({start})")
    chosen = _selected(
        mission, instrument, level, descriptor, dataset, bucket, env, settings, storage_options
    )
    tables = []
    for index, ds in chosen:
        refs = [ds.years[y] for y in _years_needed(ds, span) if y in ds.years]
        files = _year_files(index, ds.dataset, refs, settings)
        pieces = [
            p for ref in refs if files.get(ref.path) for p in files[ref.path].select(span, version)
        ]
        tables += pieces
    if not tables:
        return empty_result()
    # Datasets come in id order and each one's pieces in start order: no sort needed.
    result = pa.concat_tables(tables) if len(tables) > 1 else tables[0]
    # One chunk per column and no block consolidation: the fastest way to pandas here.
    return result.combine_chunks().to_pandas(split_blocks=True)


def _years_needed(ds: _DatasetIndex, span: _Range) -> list[int]:
    years = list(span.years(ds.first_year, ds.last_year))
    if not years:
        return []
    # A file of the year before may run into the range (e.g. a daily file of Dec 31).
    before = ds.years.get(years[0] - 1)
    if (
        before is not None
        and before.stop is not None
        and span.start is not None
        and (before.stop > span.start)
    ):
        years.insert(0, years[0] - 1)
    return years


def _result_table(ds: Dataset, table: pa.Table) -> pa.Table:
    """Rows of one dataset's index in the columns of ``RESULT_COLUMNS``."""
    n = table.num_rows
    url = table.column("url")

    def constant(value: str | None) -> pa.Array:
        return pa.nulls(n, pa.string()) if value is None else pa.array([value] * n, pa.string())

    columns = {
        "dataset": constant(ds.id),
        "mission": constant(ds.mission),
        "instrument": constant(ds.instrument),
        "level": constant(_level_of(ds)),
        "descriptor": constant(ds.descriptor),
        "mode": constant(ds.mode),
        "start": table.column("start"),
        "stop": table.column("stop"),
        "version": table.column("version"),
        "latest": table.column("latest"),
        "filename": _filenames(url),
        "filesize": table.column("filesize"),
        "etag": table.column("etag"),
        "url": url,
    }
    return pa.table(columns)


def _filenames(urls: pa.ChunkedArray) -> pa.ChunkedArray:
    """The last part of each URL."""
    if urls.null_count or not pc.all(pc.match_substring(urls, "/")).as_py():
        return pc.replace_substring_regex(urls, pattern=".*/", replacement="")
    parts = pc.split_pattern(urls, pattern="/", max_splits=1, reverse=True)
    return pc.list_element(parts, 1)  # 4x faster than the regular expression


def empty_result() -> pd.DataFrame:
    """A search result with no rows (and the usual columns and types)."""
    return _result_table(Dataset("", None, None, None), TABLE_SCHEMA.empty_table()).to_pandas()


def list_datasets(
    mission: str | None = None,
    instrument: str | None = None,
    level: str | None = None,
    *,
    bucket: str | None = None,
    env: str | None = None,
    settings: Settings | None = None,
    storage_options: dict[str, Any] | None = None,
) -> pd.DataFrame:
    """The datasets in the catalog, one row each: id, names, time span, files, index."""
    settings = settings or current_settings()
    chosen = _selected(
        mission, instrument, level, None, None, bucket, env, settings, storage_options
    )
    rows = []
    for index, ds in chosen:
        meta = ds.dataset
        refs = list(ds.years.values())
        start = min((r.start for r in refs if r.start is not None), default=None)
        stop = max((r.stop for r in refs if r.stop is not None), default=None)
        rows.append(
            {
                "dataset": meta.id,
                "mission": meta.mission,
                "instrument": meta.instrument,
                "level": _level_of(meta),
                "descriptor": meta.descriptor,
                "mode": meta.mode,
                "filetype": meta.filetype,
                "start": pd.Timestamp(start, unit="ms", tz="UTC") if start is not None else pd.NaT,
                "stop": pd.Timestamp(stop, unit="ms", tz="UTC") if stop is not None else pd.NaT,
                "files": ds.files,
                "years": f"{ds.first_year}-{ds.last_year}",
                "bucket": index.location.bucket,
                "index": index.location.root,
            }
        )
    columns = [
        "dataset",
        "mission",
        "instrument",
        "level",
        "descriptor",
        "mode",
        "filetype",
        "start",
        "stop",
        "files",
        "years",
        "bucket",
        "index",
    ]
    return pd.DataFrame(rows, columns=columns).sort_values("dataset", ignore_index=True)
