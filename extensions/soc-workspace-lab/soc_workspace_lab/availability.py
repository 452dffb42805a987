"""The availability strip: files and bytes of a dataset per UTC day.

Computed by ``soc_workspace.catalog.availability`` from the catalog's index (never a
listing), as ``availability()`` in a notebook and ``soc-workspace catalog availability``
compute it.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from soc_workspace.catalog import availability

from .queries import Selection, iso

MAX_DAYS = 400
"""The longest window a strip may ask for (the panel asks for whole months, at most a year)."""


def daily_availability(chosen: Selection) -> pd.DataFrame:
    """One row per UTC day of [start, stop): ``day``, ``files``, ``bytes`` (days without
    files included). A file counts on the day it starts, or on the window's first day when
    it started before the window."""
    table = availability(dataset=chosen.dataset, start=chosen.start, stop=chosen.stop, freq="1D")
    return pd.DataFrame({"day": table["period"], "files": table["files"], "bytes": table["bytes"]})


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
