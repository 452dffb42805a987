"""What to make: the jobs for a range of days, missions and instruments.

A job makes the files of one product and time range (a HERMES instrument-hour, a day of one
PADRE MeDDEA product) and returns them as ``[(file name, bytes), ...]``. Jobs are independent
(each seeds its own random numbers), so they can run in any order or in other processes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime

from ..missions import get_mission
from . import hermes, padre

# mission -> instruments with demo data
AVAILABLE: dict[str, tuple[str, ...]] = {
    "hermes": hermes.INSTRUMENTS,
    "padre": ("meddea",),
}
DEFAULT_MISSIONS = ("hermes", "padre")


@dataclass(frozen=True)
class Job:
    """Files of one product and time range, made by ``func(*args)``."""

    mission: str
    instrument: str
    what: str  # for messages: "hermes eea 2025-06-01T02"
    func: Callable[..., list[tuple[str, bytes]]]
    args: tuple
    n_files: int

    def run(self) -> list[tuple[str, bytes]]:
        return self.func(*self.args)


def plan(
    *,
    days: int,
    start: date,
    seed: int,
    missions: Sequence[str] | None = None,
    instruments: Sequence[str] | None = None,
) -> list[Job]:
    """The jobs for ``days`` days from ``start``; raises ValueError on names we cannot make."""
    if days < 1:
        raise ValueError(f"days must be at least 1 (got {days})")
    selected = selection(missions, instruments)
    first = datetime(start.year, start.month, start.day, tzinfo=UTC)
    jobs: list[Job] = []
    # The big PADRE day jobs first: parallel workers then finish at about the same time.
    if "meddea" in selected.get("padre", ()):
        for day in padre.days(first, days):
            for product in padre.PRODUCTS:
                jobs.append(
                    Job(
                        "padre",
                        "meddea",
                        f"padre meddea {product} {day:%Y-%m-%d}",
                        padre.day_products,
                        (product, day, seed),
                        padre.N_FILES_PER_DAY,
                    )
                )
    for hour in hermes.hours(first, days):
        first_day = hour.date() == first.date()
        for instrument in selected.get("hermes", ()):
            jobs.append(
                Job(
                    "hermes",
                    instrument,
                    f"hermes {instrument} {hour:%Y-%m-%dT%H}",
                    hermes.hour_products,
                    (instrument, hour, seed, first_day),
                    hermes.n_files(instrument, hour, first_day),
                )
            )
    return jobs


def selection(
    missions: Sequence[str] | None, instruments: Sequence[str] | None
) -> dict[str, tuple[str, ...]]:
    """Mission -> instruments to make. Names are checked against the registry and what we
    can make; an instrument filter that selects nothing is an error."""
    chosen: dict[str, tuple[str, ...]] = {}
    for name in missions or DEFAULT_MISSIONS:
        mission = get_mission(name).name
        if mission not in AVAILABLE:
            raise ValueError(
                f"no demo data for mission {mission!r}: available for {', '.join(AVAILABLE)}"
            )
        chosen[mission] = AVAILABLE[mission]
    if instruments is None:
        return chosen
    wanted: dict[str, list[str]] = {m: [] for m in chosen}
    for name in instruments:
        matches = [m for m in chosen if _instrument(m, name) in AVAILABLE[m]]
        if not matches:
            valid = ", ".join(f"{m} {i}" for m in chosen for i in AVAILABLE[m])
            raise ValueError(f"no demo data for instrument {name!r}: available: {valid}")
        for m in matches:
            wanted[m].append(_instrument(m, name))
    return {m: tuple(i for i in AVAILABLE[m] if i in wanted[m]) for m in chosen if wanted[m]}


def _instrument(mission: str, name: str) -> str | None:
    try:
        return get_mission(mission).instrument(name).name
    except ValueError:
        return None
