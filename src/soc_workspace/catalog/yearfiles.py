"""One year of one dataset's index, read row group by row group, and time ranges.

Year files are sorted by start and written in row groups whose statistics (start min, stop
max) tell which groups a time range needs; a decoded group is kept in the columns a search
returns, so a repeated search mostly slices it.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from ..timestamps import to_utc
from .datasets import Dataset
from .errors import CatalogError

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


def to_ms(value: Any, what: str) -> int | None:
    """Milliseconds since 1970 (UTC) of a time given as text, datetime, date or Timestamp."""
    if value is None:
        return None
    return int(to_utc(value, what).value // 1_000_000)


@dataclass(frozen=True)
class TimeRange:
    start: int | None
    stop: int | None

    def years(self, first: int, last: int) -> range:
        lo = first if self.start is None else max(first, _year(self.start))
        hi = last if self.stop is None else min(last, _year(self.stop - 1))
        return range(lo, hi + 1)


def _year(ms: int) -> int:
    return int(str(np.datetime64(ms, "ms"))[:4])


class YearFile:
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
                f"{source} is not a readable parquet index ({err}); `soc-workspace catalog build "
                "--bucket <its bucket>` rebuilds it from the objects"
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
            table = result_table(self.dataset, raw)
            latest = raw.column("latest").to_numpy(zero_copy_only=False)
            group = {"all": _with_times(table)}
            group["latest"] = group["all"] if latest.all() else _with_times(table.filter(latest))
            self._groups[i] = group
            self.nbytes += table.nbytes + (0 if latest.all() else group["latest"][0].nbytes)
        return group

    def select(self, span: TimeRange, version: str) -> list[pa.Table]:
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
            if len(before) and before[0] == first - len(before):
                first = int(before[0])  # the usual case: the last files before t0, contiguous
            elif len(before):
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


def result_table(ds: Dataset, table: pa.Table) -> pa.Table:
    """Rows of one dataset's index in the columns of ``RESULT_COLUMNS``."""
    n = table.num_rows
    url = _text(table.column("url"))

    zeros = pa.array(np.zeros(n, np.int32))

    def constant(value: str | None) -> pa.Array:
        if value is None:
            return pa.nulls(n, _TEXT)
        return pa.array([value], _TEXT).take(zeros)  # 100x faster than a list of n

    columns = {
        "dataset": constant(ds.id),
        "mission": constant(ds.mission),
        "instrument": constant(ds.instrument),
        "level": constant(ds.full_level),
        "descriptor": constant(ds.descriptor),
        "mode": constant(ds.mode),
        "start": table.column("start"),
        "stop": table.column("stop"),
        "version": _text(table.column("version")),
        "latest": table.column("latest"),
        "filename": _filenames(url),
        "filesize": table.column("filesize"),
        "etag": _text(table.column("etag")),
        "url": url,
    }
    return pa.table(columns)


# pandas keeps text as large_string: cast once per decoded row group, not per search.
_TEXT = pa.large_string()


def _text(column: pa.ChunkedArray) -> pa.ChunkedArray:
    return column if column.type == _TEXT else column.cast(_TEXT)


def _filenames(urls: pa.ChunkedArray) -> pa.ChunkedArray:
    """The last part of each URL."""
    if urls.null_count or not pc.all(pc.match_substring(urls, "/")).as_py():
        return pc.replace_substring_regex(urls, pattern=".*/", replacement="")
    parts = pc.split_pattern(urls, pattern="/", max_splits=1, reverse=True)
    return pc.list_element(parts, 1)  # 4x faster than the regular expression
