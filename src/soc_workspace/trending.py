"""Instrument trending over housekeeping: limits from a small YAML file per instrument, the
readings outside them (excursions), changes faster than allowed (rate-of-change anomalies), a
summary per quantity and a plot with the flags.

The limits files live with the notebook templates (``notebooks/templates/trending/
<mission>-<instrument>.yaml``, ``~/templates/trending/`` in a workspace); their format is
described in each file's header.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr
import yaml

ABOVE, BELOW, RATE = "above high limit", "below low limit", "changes too fast"


@dataclass(frozen=True)
class Limits:
    """The limits of one housekeeping quantity; None: not checked."""

    low: float | None = None
    high: float | None = None
    max_change_per_minute: float | None = None


@dataclass(frozen=True)
class TrendingSetup:
    """What one instrument's limits file says: where the housekeeping is, and its limits."""

    mission: str
    instrument: str
    level: str
    descriptor: str | None
    limits: dict[str, Limits]
    source: Path


def limits_file(mission: str, instrument: str, folder: Path | None = None) -> Path:
    """The limits file of an instrument: in ``folder``, else beside the project's templates,
    else in ``~/templates/trending``; FileNotFoundError listing the places looked in."""
    from .local.folders import templates_source

    name = f"{mission}-{instrument}.yaml"
    source = templates_source()
    places = [folder] if folder is not None else []
    places += [source / "trending"] if source is not None else []
    places.append(Path.home() / "templates" / "trending")
    for place in places:
        if (place / name).is_file():
            return place / name
    looked = ", ".join(str(p) for p in places)
    raise FileNotFoundError(
        f"no housekeeping limits for {mission} {instrument}: no {name} in {looked}"
    )


def read_limits(path: Path) -> TrendingSetup:
    """Read a limits file; ValueError naming the file and field that is wrong."""
    data = yaml.safe_load(Path(path).read_text()) or {}
    for field in ("mission", "instrument", "level", "variables"):
        if field not in data:
            raise ValueError(f"{path}: the field {field!r} is missing")
    limits = {}
    for name, given in data["variables"].items():
        unknown = set(given or {}) - set(Limits.__dataclass_fields__)
        if unknown:
            raise ValueError(
                f"{path}: {name}: unknown field(s) {sorted(unknown)}; expected low, high, "
                "max_change_per_minute"
            )
        limits[name] = Limits(**{k: float(v) for k, v in (given or {}).items()})
    return TrendingSetup(
        data["mission"], data["instrument"], data["level"], data.get("descriptor"), limits,
        Path(path),
    )  # fmt: skip


def _per_minute(series: pd.Series) -> pd.Series:
    minutes = series.index.to_series().diff().dt.total_seconds() / 60
    return series.diff() / minutes


def flags(ds: xr.Dataset, limits: dict[str, Limits], time: str = "time") -> pd.DataFrame:
    """One row per flagged reading: time, quantity, value, what is wrong, the limit."""
    rows: list[dict[str, Any]] = []
    for name, limit in limits.items():
        if name not in ds:
            raise ValueError(f"{name!r} has limits but is not in the housekeeping data")
        series = ds[name].to_series().astype(float).dropna()
        checks = [(ABOVE, series, limit.high, np.greater), (BELOW, series, limit.low, np.less)]
        if limit.max_change_per_minute is not None:
            rate = _per_minute(series).abs()
            checks.append((RATE, rate, limit.max_change_per_minute, np.greater))
        for what, values, bound, outside in checks:
            if bound is None:
                continue
            hit = values[outside(values, bound)]
            for when, value in hit.items():
                rows.append({time: when, "quantity": name, "value": value, "flag": what,
                             "limit": bound})  # fmt: skip
    columns = [time, "quantity", "value", "flag", "limit"]
    return pd.DataFrame(rows, columns=columns).sort_values([time, "quantity"], ignore_index=True)


def summary(ds: xr.Dataset, limits: dict[str, Limits], flagged: pd.DataFrame) -> pd.DataFrame:
    """Per quantity: its range and mean, the flags of each kind, and an overall status."""
    rows = []
    for name in limits:
        values = ds[name].astype(float)
        mine = flagged[flagged["quantity"] == name]["flag"].value_counts()
        excursions = int(mine.get(ABOVE, 0) + mine.get(BELOW, 0))
        rows.append({
            "quantity": name,
            "units": ds[name].attrs.get("units", ds[name].attrs.get("UNITS", "")),
            "min": float(values.min()),
            "mean": float(values.mean()),
            "max": float(values.max()),
            "excursions": excursions,
            "rate anomalies": int(mine.get(RATE, 0)),
            "status": "FLAGGED" if excursions or mine.get(RATE, 0) else "ok",
        })  # fmt: skip
    return pd.DataFrame(rows).set_index("quantity")


def plot(ds: xr.Dataset, limits: dict[str, Limits], flagged: pd.DataFrame, time: str = "time"):
    """Each quantity against time with its limits (dashed) and its flagged readings (red)."""
    import holoviews as hv
    import holoviews.plotting.bokeh  # the bokeh options used below

    panels = []
    for name, limit in limits.items():
        series = ds[name].to_series().astype(float)
        units = ds[name].attrs.get("units", "")
        label = f"{name} [{units}]" if units else name
        parts = [hv.Curve((series.index, series.values), "Time (UTC)", label)]
        for bound in (limit.low, limit.high):
            if bound is not None:
                parts.append(hv.HLine(bound).opts(color="grey", line_dash="dashed"))
        mine = flagged[flagged["quantity"] == name]
        if not mine.empty:
            points = series.reindex(mine[time].unique())
            parts.append(
                hv.Scatter((points.index, points.values), "Time (UTC)", label).opts(
                    color="red", size=5
                )
            )
        panels.append(hv.Overlay(parts).opts(title=name, width=800, height=200))
    return hv.Layout(panels).cols(1)
