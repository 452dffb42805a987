"""Finding files: ``search`` answers from the indexes, never from a bucket listing.

Per bucket it reads one small manifest, then only the yearly parquet files the time range
needs, and of those only the row groups whose start/stop statistics overlap the range
(files are sorted by start). Everything read is kept (see ``sources``), so a repeated search
in a session costs a few milliseconds. Buckets without a manifest of ours but with a
CloudCatalog ``catalog.json`` (any HelioCloud bucket) are read through their CSV files.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

import pandas as pd
import pyarrow as pa

from ..config import Settings, current_settings, stage_argument
from ..missions import MISSIONS, Mission, bucket_for, get_mission
from .datasets import TABLE_SCHEMA, Dataset
from .errors import CatalogError, CatalogWarning
from .sources import BucketIndex, DatasetIndex, load_indexes, year_files
from .yearfiles import RESULT_COLUMNS, TimeRange, result_table, to_ms

__all__ = ["RESULT_COLUMNS", "empty_result", "find_pieces", "list_datasets", "search"]


# -- search ---------------------------------------------------------------------------------


def _missions_for(mission: str | None) -> list[Mission]:
    return [get_mission(mission)] if mission else list(MISSIONS.values())


def _instrument_buckets(
    mission: str | None, instrument: str | None, stage: str
) -> list[tuple[str, bool]]:
    """(bucket, named explicitly) for the missions and instruments asked for."""
    missions = _missions_for(mission)
    if instrument is None:
        return [(bucket_for(m.name, i.name, stage), False) for m in missions for i in m.instruments]
    found = []
    for m in missions:
        try:
            inst = m.instrument(instrument)
        except ValueError as err:
            if mission:
                raise
            del err
            continue
        found.append((bucket_for(m.name, inst.name, stage), True))
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


def _bucket_of_dataset(dataset: str, stage: str) -> str | None:
    for m in sorted(MISSIONS.values(), key=lambda m: -len(m.name)):
        if dataset.startswith(m.name + "_"):
            inst = dataset[len(m.name) + 1 :].split("_", 1)[0]
            try:
                return bucket_for(m.name, inst, stage)
            except ValueError:
                return None
    return None


def _matches(ds: Dataset, level: str | None, descriptor: str | None) -> bool:
    if level is not None and ds.full_level != level:
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
    stage: str | None,
    settings: Settings,
    options: dict[str, Any] | None,
) -> list[tuple[BucketIndex, DatasetIndex]]:
    """The datasets a query asks for, with the index each lives in."""
    stage = stage or settings.stage
    _check_level(level, mission)
    if bucket:
        buckets = [(bucket.removeprefix("s3://").strip("/"), True)]
    elif dataset and mission is None and instrument is None:
        guess = _bucket_of_dataset(dataset, stage)
        buckets = [(guess, True)] if guess else _instrument_buckets(None, None, stage)
    else:
        buckets = _instrument_buckets(mission, instrument, stage)
    loaded = load_indexes([b for b, _ in buckets], settings, options)
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
                    "stage)"
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


def _all(loaded: dict[str, Any]) -> Iterable[tuple[BucketIndex, DatasetIndex]]:
    for index in loaded.values():
        if isinstance(index, BucketIndex):
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
    stage: str | None = None,
    settings: Settings | None = None,
    storage_options: dict[str, Any] | None = None,
    env: str | None = None,
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
    stage
        ``"prod"`` or ``"dev"``: the buckets of the SOC pipeline's production or development
        stage; default: settings ``stage``. (``env=`` is its old name, until 0.3.)

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
    stage = stage_argument(stage, env, "search")
    _, found = find_pieces(
        mission,
        instrument,
        level,
        start,
        stop,
        descriptor,
        version,
        dataset=dataset,
        bucket=bucket,
        stage=stage,
        settings=settings,
        storage_options=storage_options,
    )
    # Datasets come in id order and each one's pieces in start order: no sort needed.
    return result_frame([piece for _, pieces in found for piece in pieces])


def find_pieces(
    mission: str | None,
    instrument: str | None,
    level: str | None,
    start: Any,
    stop: Any,
    descriptor: str | None = None,
    version: str = "latest",
    *,
    dataset: str | None = None,
    bucket: str | None = None,
    stage: str | None = None,
    settings: Settings | None = None,
    storage_options: dict[str, Any] | None = None,
) -> tuple[TimeRange, list[tuple[DatasetIndex, list[pa.Table]]]]:
    """What :func:`search` finds, before it becomes a DataFrame: the time range in
    milliseconds, and per dataset (in id order) the pieces of its year files (arrow tables in
    the columns of ``RESULT_COLUMNS``, in start order). Summaries of many files (availability)
    read these without making a row per file."""
    settings = settings or current_settings()
    if not isinstance(version, str) or not version:
        raise ValueError(f"version={version!r}: give 'latest', 'all' or a version like '1.0.0'")
    span = TimeRange(to_ms(start, "start"), to_ms(stop, "stop"))
    if span.start is not None and span.stop is not None and span.stop < span.start:
        raise ValueError(f"stop ({stop}) is before start ({start})")
    chosen = _selected(
        mission, instrument, level, descriptor, dataset, bucket, stage, settings, storage_options
    )
    found = []
    for index, ds in chosen:
        refs = [ds.years[y] for y in _years_needed(ds, span) if y in ds.years]
        files = year_files(index, ds.dataset, refs, settings)
        pieces = [
            p for ref in refs if files.get(ref.path) for p in files[ref.path].select(span, version)
        ]
        found.append((ds, pieces))
    return span, found


def result_frame(tables: list[pa.Table]) -> pd.DataFrame:
    """A search result from the selected pieces of year files, in the order given."""
    if not tables:
        return empty_result()
    result = pa.concat_tables(tables) if len(tables) > 1 else tables[0]
    # One chunk per column and no block consolidation: the fastest way to pandas here.
    return result.combine_chunks().to_pandas(split_blocks=True)


def _years_needed(ds: DatasetIndex, span: TimeRange) -> list[int]:
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


def empty_result() -> pd.DataFrame:
    """A search result with no rows (and the usual columns and types)."""
    return result_table(Dataset("", None, None, None), TABLE_SCHEMA.empty_table()).to_pandas()


def list_datasets(
    mission: str | None = None,
    instrument: str | None = None,
    level: str | None = None,
    *,
    bucket: str | None = None,
    stage: str | None = None,
    settings: Settings | None = None,
    storage_options: dict[str, Any] | None = None,
    env: str | None = None,
) -> pd.DataFrame:
    """The datasets in the catalog, one row each: id, names, time span, files, index.

    Arguments as for :func:`search`.
    """
    settings = settings or current_settings()
    stage = stage_argument(stage, env, "list_datasets")
    chosen = _selected(
        mission, instrument, level, None, None, bucket, stage, settings, storage_options
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
                "level": meta.full_level,
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
    names = RESULT_COLUMNS[:6]  # dataset ... mode, as in search results
    columns = [*names, "filetype", "start", "stop", "files", "years", "bucket", "index"]
    return pd.DataFrame(rows, columns=columns).sort_values("dataset", ignore_index=True)
