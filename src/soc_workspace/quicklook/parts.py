"""The numbers each kind of quicklook draws, without a plotting library.

Two renderers share them: :mod:`.draw` (holoviews, in notebooks) and the JupyterLab panel's
PNG (matplotlib, in the server extension), so a variable looks the same in both.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from .choose import Choice

EVENT_RATE_BINS = 200  # about this many bins in a light curve, however long the list


def values(var: xr.DataArray) -> np.ndarray:
    """The variable's values as floats (masked fill values are NaN)."""
    return np.asarray(var.values, dtype=float)


def component_names(ds: xr.Dataset, var: xr.DataArray, axis: str) -> list[str]:
    """The names of a vector's components: ISTP's ``LABL_PTR_1`` labels, else "axis i"."""
    # the reader may have made the labels the dimension's coordinate
    pointer = var.attrs.get("LABL_PTR_1")
    for source in (pointer, axis):
        if source in ds.variables and ds[source].dtype.kind in "UO" and ds[source].ndim == 1:
            return [str(v).strip() for v in ds[source].values]
    return [f"{axis} {i}" for i in range(var.sizes[axis])]


def spectrogram(
    choice: Choice, ds: xr.Dataset, var: xr.DataArray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, str]:
    """Times, vertical axis (ascending), values [time, axis] and the axis label.

    Further dimensions are summed; with a log colour scale, values <= 0 become NaN (gaps).
    """
    if choice.summed:
        var = var.sum(choice.summed, skipna=True, min_count=1)
    axis = ds[choice.axis] if choice.axis in ds.coords else None
    ys = np.arange(var.sizes[choice.axis]) if axis is None else np.asarray(axis.values, float)
    ylabel = choice.axis_label if axis is not None else str(choice.axis)
    grid = values(var.transpose(choice.time, choice.axis))
    if choice.log_values:
        grid = np.where(grid > 0, grid, np.nan)
    order = np.argsort(ys)
    return var[choice.time].values, ys[order], grid[:, order], ylabel


def spectrum_image(choice: Choice, var: xr.DataArray) -> np.ndarray:
    """A PADRE spectrum summed over time: [pixel, energy bin]."""
    grid = values(var.sum(choice.summed, skipna=True, min_count=1))
    if choice.log_values:
        grid = np.where(grid > 0, grid, np.nan)
    return grid


def round_bin(ms: float) -> int:
    """A bin width of 1, 2 or 5 times a power of ten milliseconds, at least ``ms``."""
    for power in range(10):
        for step in (1, 2, 5):
            if step * 10**power >= ms:
                return step * 10**power
    return 10**10


def event_histogram(var: xr.DataArray) -> tuple[np.ndarray, np.ndarray, int]:
    """Counts and bin edges of an event list's values, and the number of events."""
    found = values(var)
    found = found[np.isfinite(found)]
    counts, edges = np.histogram(found, bins=min(256, max(10, int(np.sqrt(found.size)))))
    return counts, edges, int(found.size)


def event_rate(choice: Choice, var: xr.DataArray) -> tuple[np.ndarray, np.ndarray, int]:
    """Bin starts, events per second, and the bin width in ms (a round number)."""
    times = pd.DatetimeIndex(var[choice.time].values)
    span_ms = (times.max() - times.min()).total_seconds() * 1000 if len(times) else 0.0
    bin_ms = round_bin(span_ms / EVENT_RATE_BINS)
    per_bin = pd.Series(1, index=times).resample(f"{bin_ms}ms").sum()
    return per_bin.index.values, per_bin.values / (bin_ms / 1000), bin_ms
