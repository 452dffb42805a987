"""What the data browser asks of the catalog, checked first: the datasets and a page of files.

Every value comes from the request, so each is checked and a wrong one is a
:class:`BadRequest` whose message the panel shows as it is. Files are only ever found through
``soc_workspace.catalog``: no path or URL from the request is read.
"""

from __future__ import annotations

import re
import threading
import warnings
from dataclasses import dataclass
from typing import Any

import pandas as pd

from soc_workspace.catalog import CatalogWarning, list_datasets, search
from soc_workspace.config import current_settings
from soc_workspace.missions import MISSIONS

DATASET_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$")
MAX_PAGE = 1000
"""The most files one page may hold."""
EARLIEST, LATEST = pd.Timestamp("1950-01-01", tz="UTC"), pd.Timestamp("2200-01-01", tz="UTC")
TIME_EXAMPLE = "ISO 8601 UTC, e.g. 2025-06-01T00:00:00Z"


class BadRequest(ValueError):
    """A request to change: the message says which value and what is expected."""


@dataclass(frozen=True)
class Selection:
    """One dataset and a time range [start, stop), UTC."""

    dataset: str
    start: pd.Timestamp
    stop: pd.Timestamp

    @property
    def days(self) -> float:
        return (self.stop - self.start) / pd.Timedelta(days=1)


def parse_time(value: str | None, name: str) -> pd.Timestamp:
    """A time of the request (UTC unless it carries a zone)."""
    if value is None or not value.strip():
        raise BadRequest(f"{name} is missing: give a time ({TIME_EXAMPLE})")
    try:
        ts = pd.Timestamp(value.strip())
    except (ValueError, TypeError, OverflowError):
        ts = pd.NaT
    if ts is pd.NaT:
        raise BadRequest(f"{name}={value!r} is not a time: give {TIME_EXAMPLE}")
    ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
    if not EARLIEST <= ts <= LATEST:
        raise BadRequest(f"{name}={value!r} is outside {EARLIEST.year}-{LATEST.year}")
    return ts


def parse_count(value: str | None, name: str, default: int, most: int | None = None) -> int:
    """A non-negative whole number of the request (at most ``most``)."""
    if value is None or value == "":
        return default
    if not value.isdigit():
        raise BadRequest(f"{name}={value!r} is not a whole number (0 or more)")
    number = int(value)
    if most is not None and number > most:
        raise BadRequest(f"{name}={number} is more than {most}")
    return number


_RECORDING = threading.Lock()


def known_datasets() -> tuple[pd.DataFrame, list[str]]:
    """The catalog's datasets and the reasons any bucket's index could not be read."""
    # catch_warnings changes process-wide state: one recording at a time (a warm call
    # takes a millisecond or two).
    with _RECORDING, warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", CatalogWarning)
        table = list_datasets()
    problems = [str(w.message) for w in caught if issubclass(w.category, CatalogWarning)]
    return table, problems


def selection(
    dataset: str | None, start: str | None, stop: str | None, *, max_days: float | None = None
) -> Selection:
    """A checked selection: a dataset the catalog has, and stop after start."""
    if not dataset:
        raise BadRequest("dataset is missing: give a dataset id, e.g. hermes_eea_l1")
    if not DATASET_ID.match(dataset):
        raise BadRequest(
            f"dataset={dataset[:130]!r} is not a dataset id (letters, digits, '_' and '-')"
        )
    begin, end = parse_time(start, "start"), parse_time(stop, "stop")
    if end <= begin:
        raise BadRequest(f"stop ({stop}) must be after start ({start})")
    chosen = Selection(dataset, begin, end)
    if max_days is not None and chosen.days > max_days:
        raise BadRequest(
            f"the time range is {chosen.days:g} days: at most {max_days:g} days at a time here"
        )
    table, _ = known_datasets()
    if dataset not in set(table["dataset"]):
        listing = ", ".join(table["dataset"]) or "none (is the store reachable?)"
        raise BadRequest(f"unknown dataset {dataset!r}: the catalog has {listing}")
    return chosen


def find_files(chosen: Selection) -> pd.DataFrame:
    """The newest version of each file of the selection, from the catalog, by start time."""
    return search(dataset=chosen.dataset, start=chosen.start, stop=chosen.stop)


def iso(value: Any) -> str | None:
    """``2025-06-01T00:00:00Z`` (milliseconds only when there are any)."""
    if value is None or value is pd.NaT or (isinstance(value, float) and pd.isna(value)):
        return None
    ts = pd.Timestamp(value)
    ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
    text = ts.tz_localize(None).isoformat(timespec="milliseconds")
    return text.removesuffix(".000") + "Z"


def _titles() -> dict[tuple[str, str | None], str]:
    titles: dict[tuple[str, str | None], str] = {}
    for mission in MISSIONS.values():
        titles[(mission.name, None)] = mission.full_name
        for instrument in mission.instruments:
            titles[(mission.name, instrument.name)] = instrument.full_name
    return titles


def _name(value: Any) -> str | None:
    """A name of the dataset table, None where it has none (pandas gives NaN or None)."""
    return None if value is None or pd.isna(value) else str(value)


def datasets_answer() -> dict[str, Any]:
    """The panel's tree: every dataset with its names, time span and number of files."""
    table, problems = known_datasets()
    titles = _titles()
    rows = []
    for row in table.itertuples(index=False):
        mission, instrument = _name(row.mission), _name(row.instrument)
        rows.append(
            {
                "dataset": row.dataset,
                "mission": mission,
                "instrument": instrument,
                "level": _name(row.level),
                "descriptor": _name(row.descriptor),
                "mode": _name(row.mode),
                "filetype": row.filetype,
                "start": iso(row.start),
                "stop": iso(row.stop),
                "files": None if pd.isna(row.files) else int(row.files),
                "mission_title": titles.get((mission, None), mission or ""),
                "instrument_title": titles.get((mission, instrument), instrument or ""),
            }
        )
    return {
        "datasets": rows,
        "stage": current_settings().stage,
        "warnings": problems,
    }


_PAGE_COLUMNS = ["filename", "start", "stop", "filesize", "version", "url"]


def files_answer(chosen: Selection, offset: int, limit: int) -> dict[str, Any]:
    """One page of the selection's files, with how many there are in all."""
    files = find_files(chosen)
    page = files.iloc[offset : offset + limit][_PAGE_COLUMNS]
    rows = [
        {
            "filename": r.filename,
            "start": iso(r.start),
            "stop": iso(r.stop),
            "filesize": int(r.filesize),
            "version": r.version,
            "url": r.url,
        }
        for r in page.itertuples(index=False)
    ]
    return {
        "dataset": chosen.dataset,
        "start": iso(chosen.start),
        "stop": iso(chosen.stop),
        "total": len(files),
        "bytes": int(files["filesize"].sum()),
        "offset": offset,
        "limit": limit,
        "files": rows,
    }
