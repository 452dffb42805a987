"""Text tables of housekeeping: the PADRE spacecraft's CSV exports into a Dataset.

``padre_get_<TLM>_Data_<first ms>_<last ms>.csv`` (``TLM`` the telemetry point, e.g. ``EPS_9``)
has a header line of column names, one row per sample and a ``timestamp_ms`` column of Unix
milliseconds (UTC). padre_craft's ``read_raw_file`` reads them the same way (astropy's CSV
reader, time from ``timestamp_ms``, rows sorted by time); here pandas reads the table and the
rows become a ``time`` dimension.
"""

from __future__ import annotations

import io
from typing import Any, BinaryIO

import numpy as np

from .errors import SOCDataError
from .layout import FileLayout, VarLayout
from .source import Source

TIME_COLUMN = "timestamp_ms"


def read_table(
    source: Source, fileobj: BinaryIO, whole: bytes | None, *, variables: list[str] | None
) -> FileLayout:
    """Read the whole table now (these files are small) into a time-indexed layout."""
    import pandas as pd

    from ..missions import parse_filename

    name = source.name
    data = whole if whole is not None else (fileobj.seek(0), fileobj.read())[1]
    try:
        table = pd.read_csv(io.BytesIO(data))
    except Exception as err:
        raise SOCDataError(name, f"cannot be read as a CSV table ({err})") from err
    if TIME_COLUMN not in table.columns:
        raise SOCDataError(
            name,
            f"no {TIME_COLUMN!r} column, so the rows have no time; the columns are "
            f"{', '.join(map(str, table.columns))}",
        )
    times = pd.to_datetime(table[TIME_COLUMN], unit="ms", errors="coerce")
    order = np.argsort(times.to_numpy(), kind="stable")
    table = table.iloc[order]
    info = parse_filename(name.rsplit("/", 1)[-1])
    layout = FileLayout(
        source=source,
        format="csv",
        attrs={
            "mission": info.mission,
            "instrument": info.instrument,
            "level": info.level,
            "telemetry_point": info.descriptor or "",
            "description": "housekeeping table from the spacecraft's telemetry database",
            "filename": name.rsplit("/", 1)[-1],
        },
    )
    time = times.to_numpy()[order].astype("datetime64[ns]")
    layout.variables["time"] = VarLayout(
        name="time", dims=("time",), shape=time.shape, dtype=time.dtype,
        attrs={"description": f"UTC, from {TIME_COLUMN} (Unix milliseconds)"},
        coord=True, values=time, record_dim="time",
    )  # fmt: skip
    wanted = set(variables) if variables is not None else None
    if wanted is not None and wanted - set(map(str, table.columns)):
        missing = sorted(wanted - set(map(str, table.columns)))
        raise SOCDataError(
            name, f"no column {', '.join(map(repr, missing))}; the table has "
            f"{', '.join(map(str, table.columns))}",
        )  # fmt: skip
    for column in table.columns:
        key = str(column)
        if wanted is not None and key not in wanted:
            continue
        values: Any = table[column].to_numpy()
        if values.dtype == object:
            values = values.astype(str)
        attrs = {"units": "ms"} if key == TIME_COLUMN else {}
        layout.variables[key] = VarLayout(
            name=key, dims=("time",), shape=values.shape, dtype=values.dtype, attrs=attrs,
            coord=False, values=values, record_dim="time",
        )  # fmt: skip
    layout.signature = ("csv", tuple((v.name, str(v.dtype)) for v in layout.variables.values()))
    return layout


def is_housekeeping_table(head: bytes, name: str) -> bool:
    """A PADRE spacecraft CSV: its name says so, and it starts with a line of column names."""
    from ..missions import parse_filename

    try:
        info = parse_filename(name.rsplit("/", 1)[-1])
    except ValueError:
        return False
    if info.instrument != "craft" or info.extension.lower() != "csv":
        return False
    first = head.split(b"\n", 1)[0]
    return b"," in first and first.isascii()
