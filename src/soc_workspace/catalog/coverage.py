"""What data exist: files, bytes, time covered and newest version per dataset and period.

Answered from the catalog's index alone (never a listing), from the same pieces of year files
a :func:`~soc_workspace.catalog.search` reads, without making a row per file: a year of every
dataset of the 1,000,000-file benchmark index takes milliseconds once the index is in memory.

>>> table = availability("hermes", start="2025-06-01", stop="2025-07-01")  # doctest: +SKIP
>>> table.plot()  # doctest: +SKIP
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..config import Settings
from ..timestamps import TimeLike, to_utc
from .datasets import version_key
from .query import find_pieces
from .sources import DatasetIndex

COLUMNS = ["dataset", "period", "files", "bytes", "covered", "newest_version"]


class Availability(pd.DataFrame):
    """The table :func:`availability` returns: one row per dataset and period.

    A pandas DataFrame whose :meth:`plot` draws a heat strip per dataset (holoviews).
    ``attrs`` holds the query: ``start``, ``stop``, ``freq``.
    """

    @property
    def _constructor(self) -> type[Availability]:
        return Availability

    def plot(self, **options: Any) -> Any:  # type: ignore[override]
        """A heat strip per dataset over time: colour is the fraction of each period that
        files cover (empty periods stand out as gaps); hovering shows files, bytes and the
        newest version. Options go to holoviews' ``.opts`` (``width``, ``cmap``, ...)."""
        if not set(COLUMNS) <= set(self.columns):
            return pd.DataFrame(self).plot(**options)  # a cut-down table: pandas' plot
        from .coverage_plot import heat_strip

        return heat_strip(pd.DataFrame(self), self.attrs.get("freq", "1D"), **options)


def availability(
    mission: str | None = None,
    instrument: str | None = None,
    level: str | None = None,
    start: TimeLike | None = None,
    stop: TimeLike | None = None,
    freq: str = "1D",
    *,
    descriptor: str | None = None,
    dataset: str | None = None,
    bucket: str | None = None,
    stage: str | None = None,
    settings: Settings | None = None,
    storage_options: dict[str, Any] | None = None,
) -> Availability:
    """Files, bytes, time covered and newest version per dataset and period, from the catalog.

    Parameters
    ----------
    mission, instrument, level, descriptor, dataset, bucket, stage
        Which datasets, as for :func:`~soc_workspace.catalog.search` (None: all of them).
    start, stop
        The time range (UTC unless the value carries a zone); the files are those a search
        of ``[start, stop)`` returns (newest versions). None: from the first file of the
        selected datasets, to the end of their last file.
    freq
        The length of a period: a pandas frequency, ``"1h"``, ``"1D"``, ``"7D"``, ``"MS"``
        (calendar months). Periods start at ``start`` rounded down to the frequency.

    Returns
    -------
    Availability
        A DataFrame with one row per selected dataset and period, empty periods included:
        ``dataset``; ``period`` (its start, UTC); ``files`` (files starting in the period; a
        file that began before ``start`` counts in the first period), ``bytes`` (their
        sizes); ``covered`` (0 to 1: the fraction of the period, within ``[start, stop)``,
        that the files' time spans cover); ``newest_version`` (the highest version among
        the period's files, None without files). ``.plot()`` draws it.

    Examples
    --------
    >>> availability("padre", "meddea", "l0", "2025-06-01", "2025-06-08")  # doctest: +SKIP
    """
    offset = _offset(freq)
    span, found = find_pieces(
        mission,
        instrument,
        level,
        start,
        stop,
        descriptor,
        dataset=dataset,
        bucket=bucket,
        stage=stage,
        settings=settings,
        storage_options=storage_options,
    )
    t0 = span.start if span.start is not None else _first_start(found)
    t1 = span.stop if span.stop is not None else _last_stop(found)
    if t0 is None or t1 is None:  # open-ended and nothing found: nothing to count
        return _table([], start, stop, freq)
    if t1 <= t0:
        raise ValueError(f"stop ({stop}) must be after start ({start})")
    edges = _edges(t0, t1, offset)
    frames = [_count(ds, pieces, edges, t0, t1) for ds, pieces in found]
    return _table(frames, _time(t0), _time(t1), freq)


def _offset(freq: str) -> pd.DateOffset:
    try:
        offset = pd.tseries.frequencies.to_offset(freq)
    except (ValueError, TypeError):
        offset = None
    if offset is None or offset.n <= 0:
        raise ValueError(
            f"freq={freq!r} is not a period length: give a pandas frequency such as '1h', "
            "'1D', '7D' or 'MS' (calendar months)"
        )
    return offset


def _edges(t0: int, t1: int, offset: pd.DateOffset) -> np.ndarray:
    """Period boundaries (ms): from ``t0`` rounded down to the frequency, past ``t1``."""
    first = _time(t0)
    try:
        first = first.floor(offset)  # fixed lengths (hours, days)
    except ValueError:
        first = offset.rollback(first.normalize())  # calendar periods (months, weeks)
    edges = pd.date_range(first, _time(t1), freq=offset)
    if len(edges) == 0 or edges[-1] < _time(t1):
        edges = edges.append(pd.DatetimeIndex([(edges[-1] if len(edges) else first) + offset]))
    return edges.as_unit("ms").asi8


def _count(
    ds: DatasetIndex, pieces: list[pa.Table], edges: np.ndarray, t0: int, t1: int
) -> pd.DataFrame:
    """One dataset's rows: counts, bytes, coverage and newest version per period."""
    n = len(edges) - 1
    if pieces:
        table = pa.concat_tables(pieces) if len(pieces) > 1 else pieces[0]
        start = table.column("start").cast(pa.int64()).to_numpy()
        stop = table.column("stop").cast(pa.int64()).to_numpy()
        size = table.column("filesize").to_numpy()
        versions = table.column("version")
    else:
        start = stop = size = np.empty(0, np.int64)
        versions = pa.chunked_array([], pa.large_string())
    # A file counts in the period of its start, or the first period if it began before t0.
    which = np.searchsorted(edges, np.maximum(start, t0), "right") - 1
    files = np.bincount(which, minlength=n)[:n]
    nbytes = np.zeros(n, np.int64)
    np.add.at(nbytes, which, size)
    return pd.DataFrame(
        {
            "dataset": ds.dataset.id,
            "period": pd.to_datetime(edges[:-1], unit="ms", utc=True),
            "files": files.astype("int64"),
            "bytes": nbytes,
            "covered": _covered(start, stop, edges, t0, t1),
            "newest_version": _newest(versions, which, n),
        }
    )


def _covered(start: np.ndarray, stop: np.ndarray, edges: np.ndarray, t0: int, t1: int) -> Any:
    """The fraction of each period (within [t0, t1)) inside the union of [start, stop)."""
    lo, hi = np.clip(edges[:-1], t0, t1), np.clip(edges[1:], t0, t1)
    length = (hi - lo).astype("float64")
    if not len(start):
        return np.zeros(len(lo))
    # Merge the spans into disjoint intervals (files are in start order; some overlap).
    order = np.argsort(start, kind="stable")
    a, b = start[order], np.maximum.accumulate(stop[order])
    new = np.ones(len(a), bool)
    new[1:] = a[1:] > b[:-1]
    first = np.flatnonzero(new)
    a = a[first]
    b = np.maximum.reduceat(b, first)
    done = np.concatenate([[0], np.cumsum(b - a)])  # covered time before each interval

    def covered_before(t: np.ndarray) -> np.ndarray:
        k = np.searchsorted(a, t, "right") - 1
        inside = np.clip(t - a[np.maximum(k, 0)], 0, (b - a)[np.maximum(k, 0)])
        return np.where(k >= 0, done[np.maximum(k, 0)] + inside, 0)

    amount = (covered_before(hi) - covered_before(lo)).astype("float64")
    return np.divide(amount, length, out=np.zeros(len(lo)), where=length > 0)


def _newest(versions: pa.ChunkedArray, which: np.ndarray, n: int) -> list[str | None]:
    """The highest version (compared as numbers) among each period's files."""
    encoded = pc.dictionary_encode(versions).combine_chunks()
    names = encoded.dictionary.to_pylist()
    if not names:
        return [None] * n
    order = sorted(range(len(names)), key=lambda i: version_key(names[i]))
    rank = np.empty(len(names), np.int64)
    rank[order] = np.arange(len(names))  # dictionary code -> place in version order
    valid = ~np.asarray(pc.is_null(encoded.indices))
    codes = encoded.indices.fill_null(0).to_numpy()
    best = np.full(n, -1)
    np.maximum.at(best, which[valid], rank[codes[valid]])
    by_rank = {int(r): names[i] for i, r in enumerate(rank)}
    return [by_rank.get(int(r)) for r in best]


def _first_start(found: list[tuple[DatasetIndex, list[pa.Table]]]) -> int | None:
    starts = [pc.min(p.column("start")).cast(pa.int64()).as_py() for _, ps in found for p in ps]
    return min((s for s in starts if s is not None), default=None)


def _last_stop(found: list[tuple[DatasetIndex, list[pa.Table]]]) -> int | None:
    stops = [pc.max(p.column("stop")).cast(pa.int64()).as_py() for _, ps in found for p in ps]
    starts = [pc.max(p.column("start")).cast(pa.int64()).as_py() for _, ps in found for p in ps]
    last = max((s for s in stops if s is not None), default=None)
    latest = max((s for s in starts if s is not None), default=None)
    if last is None or latest is None:
        return None
    # A last file of no length (a dataset of one file) still needs a period to count in.
    return max(last, latest + 1)


def _time(ms: int) -> pd.Timestamp:
    return to_utc(pd.Timestamp(ms, unit="ms"))


def _table(frames: list[pd.DataFrame], start: Any, stop: Any, freq: str) -> Availability:
    if frames:
        table = Availability(pd.concat(frames, ignore_index=True))
    else:
        table = Availability(pd.DataFrame({c: [] for c in COLUMNS}))
        table = table.astype({"files": "int64", "bytes": "int64", "covered": "float64"})
        table["period"] = pd.to_datetime(table["period"], utc=True)
    table.attrs.update(start=start, stop=stop, freq=freq)
    return table
