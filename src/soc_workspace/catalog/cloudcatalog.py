"""The CloudCatalog format (HelioCloud, spec 1.1): ``catalog.json`` and yearly CSV index files.

What HelioCloud's ``cloudcatalog`` client needs of them (checked against its 1.3.3 source):
``catalog.json`` has ``version``, ``catalog`` and ``status``; each entry has ``id``, ``index``
(``s3://...`` ending in ``/``), ``title``, ``start``, ``stop``; the yearly files are
``<index><id>_<YYYY>.csv`` whose first columns are ``start, stop, datakey, filesize`` with
times as ``YYYY-MM-DDThh:mm:ss.sssZ``. Extra columns after those are declared in the dataset's
info file ``<index><id>.json``.
"""

from __future__ import annotations

import io
import json
import warnings
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

from ..timestamps import to_utc
from .datasets import COLUMNS, TABLE_SCHEMA, Dataset, version_key

SPEC_VERSION = "1.1"
TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"  # trimmed to milliseconds below
EXTRA_COLUMNS = ("version", "level", "descriptor", "mode", "etag")
_EXTRA_TYPES = {
    "version": ("string", "file version (X.Y.Z for products, the raw version for telemetry)"),
    "level": ("string", "data level (l0, l1, ql, ...; raw for telemetry)"),
    "descriptor": ("string", "product descriptor from the file name, empty when none"),
    "mode": ("string", "instrument mode from the file name, empty when none"),
    "etag": ("string", "S3 ETag of the object when it was indexed"),
}


class IndexFormatWarning(UserWarning):
    """An index file had rows or parts we could not read; the warning says which."""


def isotime(value: pd.Timestamp | datetime) -> str:
    """A CloudCatalog time: UTC, milliseconds, trailing Z."""
    ts = to_utc(value)
    return ts.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ts.microsecond // 1000:03d}Z"


def _isotimes(values: pd.Series) -> pd.Series:
    ms = values.dt.strftime("%Y-%m-%dT%H:%M:%S.%f").str.slice(0, 23)
    return ms + "Z"


def csv_bytes(table: pd.DataFrame, dataset: Dataset) -> bytes:
    """The yearly CSV index of ``table`` (one dataset, one year), in start order."""
    out = pd.DataFrame(
        {
            "start": _isotimes(table["start"]),
            "stop": _isotimes(table["stop"]),
            "datakey": table["url"],
            "filesize": table["filesize"],
            "version": table["version"].fillna(""),
            "level": (dataset.level or "") + ("test" if dataset.test else ""),
            "descriptor": dataset.descriptor or "",
            "mode": dataset.mode or "",
            "etag": table["etag"].fillna(""),
        }
    )
    return out.to_csv(index=False, lineterminator="\n").encode()


def info_bytes(dataset: Dataset) -> bytes:
    """The dataset's info file: the extra columns of its CSV files, in order."""
    info = {
        "version": SPEC_VERSION,
        "id": dataset.id,
        "parameters": [
            {"name": name, "type": kind, "desc": desc}
            for name, (kind, desc) in _EXTRA_TYPES.items()
        ],
    }
    return json.dumps(info, indent=2).encode()


def catalog_json(
    bucket: str,
    index_url: str,
    entries: list[dict[str, Any]],
    *,
    name: str | None = None,
    description: str | None = None,
) -> bytes:
    """The bucket's ``catalog.json``; ``entries`` are dicts made by :func:`catalog_entry`."""
    doc = {
        "version": SPEC_VERSION,
        "endpoint": f"s3://{bucket}/",
        "name": name or f"SWxSOC {bucket}",
        "region": "us-east-1",
        "egress": "private, no-egress",
        "description": description
        or f"Files of s3://{bucket}/, indexed by soc-workspace; times are UTC.",
        "catalog": sorted(entries, key=lambda e: e["id"]),
        "status": {"code": 1200, "message": "OK request successful"},
    }
    del index_url  # every entry carries its own index; kept for symmetry with the readers
    return json.dumps(doc, indent=2).encode()


def catalog_entry(
    dataset: Dataset, index_url: str, start: Any, stop: Any, modified: datetime
) -> dict[str, Any]:
    return {
        "id": dataset.id,
        "index": index_url if index_url.endswith("/") else index_url + "/",
        "title": dataset.title,
        "start": isotime(start),
        "stop": isotime(stop),
        "modification": isotime(modified),
        "indextype": "csv",
        "filetype": dataset.filetype,
        "description": f"{dataset.title}: one row per file; extra columns in {dataset.id}.json",
    }


def read_catalog_json(data: bytes, source: str) -> dict[str, Any]:
    """Parse and check a ``catalog.json``; errors name the file and what is wrong."""
    try:
        doc = json.loads(data)
    except ValueError as err:
        raise ValueError(f"{source}: not valid JSON ({err})") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("catalog"), list):
        raise ValueError(f"{source}: not a CloudCatalog catalog.json (no 'catalog' list)")
    for i, entry in enumerate(doc["catalog"]):
        missing = [k for k in ("id", "index", "start", "stop") if k not in entry]
        if missing:
            raise ValueError(f"{source}: catalog entry {i} lacks {', '.join(missing)}")
    return doc


def read_csv_index(data: bytes, source: str) -> pd.DataFrame:
    """A yearly CSV index as a file table (columns of ``datasets.COLUMNS``).

    Accepts what the spec allows: a header line or none, a ``#`` before the header, values in
    single quotes, any ISO 8601 UTC time. Rows whose time, key or size cannot be read are
    skipped with an :class:`IndexFormatWarning` naming the file and the line numbers.
    """
    text = data.decode("utf-8-sig", errors="replace")
    lines = text.splitlines()
    if not lines:
        return _empty()
    first = lines[0].lstrip("#").strip()
    has_header = "datakey" in first or first.startswith("start")
    frame = pd.read_csv(
        io.StringIO(text),
        header=0 if has_header else None,
        dtype=str,
        keep_default_na=False,
        skipinitialspace=True,
        comment=None,
        on_bad_lines="warn",
    )
    if has_header:
        frame.columns = [str(c).lstrip("#").strip().strip("'\"") for c in frame.columns]
    if frame.shape[1] < 3:
        raise ValueError(
            f"{source}: a CloudCatalog index needs the columns start, stop, datakey, filesize; "
            f"found {list(frame.columns)}"
        )
    names = list(frame.columns)
    for position, name in enumerate(("start", "stop", "datakey", "filesize")):
        if name not in names and position < len(names):
            names[position] = name
    frame.columns = names
    frame = frame.apply(lambda col: col.str.strip().str.strip("'\""))
    start = pd.to_datetime(frame["start"], utc=True, errors="coerce", format="ISO8601")
    stop = pd.to_datetime(
        frame.get("stop", frame["start"]), utc=True, errors="coerce", format="ISO8601"
    )
    size = pd.to_numeric(frame.get("filesize", pd.Series("-1", index=frame.index)), errors="coerce")
    key = frame["datakey"]
    bad = start.isna() | stop.isna() | size.isna() | (key == "")
    if bad.any():
        line_numbers = (np.flatnonzero(bad.to_numpy()) + 1 + int(has_header)).tolist()
        shown = ", ".join(map(str, line_numbers[:10])) + (" ..." if len(line_numbers) > 10 else "")
        warnings.warn(
            f"{source}: skipped {len(line_numbers)} malformed row(s) at line(s) {shown} "
            "(expected start,stop as ISO 8601 UTC times, a datakey and an integer filesize); "
            "those files are missing from the result",
            IndexFormatWarning,
            stacklevel=3,
        )
    good = ~bad
    table = pd.DataFrame(
        {
            "start": start[good].astype("datetime64[ms, UTC]"),
            "stop": stop[good].astype("datetime64[ms, UTC]"),
            "url": key[good],
            "filesize": size[good].astype("int64"),
            "version": frame["version"][good].replace("", None) if "version" in frame else None,
            "etag": frame["etag"][good] if "etag" in frame else "",
            "modified": pd.Series(pd.NaT, index=frame.index[good], dtype="datetime64[ms, UTC]"),
        }
    )
    table["stop"] = table["stop"].where(table["stop"] >= table["start"], table["start"])
    table = table.sort_values(["start", "url"], kind="stable")
    # CloudCatalog has no notion of versions: without a version column every file is current.
    if "version" in frame and table["version"].notna().any():
        order = table["version"].map(version_key)
        table = (
            table.assign(_v=order).sort_values(["start", "_v"], kind="stable").drop(columns="_v")
        )
        table["latest"] = ~table.duplicated("start", keep="last")
    else:
        table["latest"] = True
    return table[COLUMNS].reset_index(drop=True)


def _empty() -> pd.DataFrame:
    return TABLE_SCHEMA.empty_table().to_pandas()
