"""A search answered by listing a bucket's day folders instead of reading its index.

For a bucket that has no index yet (a store just filled, a bucket the SOC has not indexed).
It chooses files exactly as :func:`~soc_workspace.catalog.search` does: the listed objects go
through the catalog's own grouping, stop-time estimate and year-file selection, so a file is
found when it overlaps ``[start, stop)``, newest version only. Listing costs a request per day
folder: fine for days, slow for years. ``soc-workspace catalog build`` makes the index.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pandas as pd

from ..config import Settings, current_settings
from ..missions import bucket_for, get_mission
from ..timestamps import TimeLike, to_utc
from .datasets import finish_table, group_objects
from .discover import forget_listings, stored_objects
from .index import encode_parquet
from .location import locate
from .query import result_frame
from .yearfiles import TimeRange, YearFile, to_ms


def search_by_listing(
    mission: str,
    instrument: str,
    level: str,
    start: TimeLike,
    stop: TimeLike,
    *,
    stage: str | None = None,
    settings: Settings | None = None,
    storage_options: dict[str, Any] | None = None,
) -> pd.DataFrame:
    """The files of one instrument and level overlapping ``[start, stop)``, newest versions,
    found by listing the instrument bucket's day folders; the columns of a search result."""
    settings = settings or current_settings()
    m = get_mission(mission)
    inst = m.instrument(instrument)
    if level.removesuffix("test") not in m.levels:
        raise ValueError(
            f"level {level!r} is not a level of {m.name}: expected one of {', '.join(m.levels)}"
        )
    begin, end = to_utc(start, "start"), to_utc(stop, "stop")
    if end <= begin:
        raise ValueError(f"the time range is empty: stop {end} is not after start {begin}")
    bucket = bucket_for(m.name, inst.name, stage or settings.stage)
    location = locate(bucket, settings, storage_options)
    forget_listings(location.data, bucket)  # others write: list what is there now
    found: dict[str, dict[str, Any]] = {}
    for pattern in _day_folders(bucket, level, level == m.first_level, begin, end):
        found.update(location.data.glob(pattern, detail=True))
    datasets, rows, _skipped = group_objects(bucket, stored_objects(location, found))
    span = TimeRange(to_ms(begin, "start"), to_ms(end, "stop"))
    tables = []
    for ds_id in sorted(rows):
        dataset = datasets[ds_id]
        if dataset.full_level != level:
            continue
        year = YearFile(encode_parquet(finish_table(rows[ds_id])), f"s3://{bucket}", dataset)
        tables += year.select(span, "latest")
    return result_frame(tables)


def _day_folders(
    bucket: str, level: str, first_level: bool, begin: pd.Timestamp, end: pd.Timestamp
) -> Iterator[str]:
    """Globs of the day folders of the range, in the current and the pre-2025 key layouts.

    The day before ``begin`` too: a file that starts then may run into the range (the
    catalog finds it by its estimated stop, and so must the listing).
    """
    descriptor = "" if first_level else "*/"
    day = (begin - timedelta(days=1)).normalize()
    months = set()
    while day < end:
        yield f"{bucket}/{level}/{descriptor}{day:%Y/%m/%d}/*"
        months.add(f"{day:%Y/%m}")
        day += timedelta(days=1)
    for month in sorted(months):  # the layout used before mid-2025
        yield f"{bucket}/{level}/{descriptor}{month}/*"
