"""The availability strip: files and bytes of a dataset per UTC day.

A stand-in, computed from a catalog search of the window: issue 13 ("a scientist's day")
brings ``soc_workspace``'s own availability function, which should replace the body of
:func:`daily_availability` (the handler and the panel call only this function, and its
answer's shape stays).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from .queries import Selection, find_files, iso

MAX_DAYS = 400
"""The longest window a strip may ask for (the panel asks for whole months, at most a year)."""


def daily_availability(chosen: Selection) -> pd.DataFrame:
    """One row per UTC day of [start, stop): ``day``, ``files``, ``bytes`` (days without
    files included). A file counts on the day it starts, or on the window's first day when
    it started before the window."""
    files = find_files(chosen)
    first = chosen.start.floor("D")
    days = pd.date_range(first, chosen.stop - pd.Timedelta(1, "ms"), freq="D").floor("D")
    starts = files["start"].clip(lower=chosen.start).dt.floor("D")
    grouped = files.assign(day=starts).groupby("day")["filesize"].agg(["size", "sum"])
    grouped = grouped.reindex(days, fill_value=0)
    return pd.DataFrame(
        {"day": grouped.index, "files": grouped["size"].values, "bytes": grouped["sum"].values}
    )


def availability_answer(chosen: Selection) -> dict[str, Any]:
    table = daily_availability(chosen)
    return {
        "dataset": chosen.dataset,
        "start": iso(chosen.start),
        "stop": iso(chosen.stop),
        "days": [
            {"day": f"{day:%Y-%m-%d}", "files": int(files), "bytes": int(size)}
            for day, files, size in zip(table["day"], table["files"], table["bytes"], strict=True)
        ],
    }
