"""Draw a :class:`~.choose.Choice` with holoviews (bokeh); long series rasterised by datashader.

Rasterised plots re-aggregate on zoom in a live notebook and hold one image, not a glyph per
point, so a month of 1-s data plots as fast as an hour.
"""

from __future__ import annotations

import holoviews as hv
import holoviews.plotting.bokeh  # the bokeh options (a notebook's hv.extension loads it too)
import numpy as np
import pandas as pd
import xarray as xr
from holoviews.operation.datashader import datashade, rasterize

from .choose import COMPONENTS, EVENT_LIST, SPECTROGRAM, SPECTRUM_IMAGE, Choice

RASTERISE_ABOVE = 20_000  # points (time series) or cells (spectrogram) drawn as glyphs below this
TIME = "Time (UTC)"
WIDTH, HEIGHT = 800, 300


def _values(var: xr.DataArray) -> np.ndarray:
    return np.asarray(var.values, dtype=float)


def _series(choice: Choice, var: xr.DataArray) -> hv.Element:
    times = var[choice.time].values
    curve = hv.Curve((times, _values(var)), TIME, choice.label)
    if len(times) > RASTERISE_ABOVE:
        return rasterize(curve, line_width=1).opts(cmap=["#1f77b4"], colorbar=False)
    return curve.opts(logy=choice.log_values)


def _components(choice: Choice, ds: xr.Dataset, var: xr.DataArray) -> hv.Element:
    names = _component_names(ds, var, choice.axis)
    times = var[choice.time].values
    curves = {
        n: hv.Curve((times, _values(var.isel({choice.axis: i}))), TIME, choice.label)
        for i, n in enumerate(names)
    }
    overlay = hv.NdOverlay(curves, kdims="Component")
    if len(times) > RASTERISE_ABOVE:
        import datashader

        return datashade(overlay, aggregator=datashader.by("Component", datashader.count()))
    return overlay.opts(logy=choice.log_values, legend_position="right")


def _component_names(ds: xr.Dataset, var: xr.DataArray, axis: str) -> list[str]:
    # ISTP names the labels of dimension 1 with LABL_PTR_1; the reader may have made them the
    # dimension's coordinate
    pointer = var.attrs.get("LABL_PTR_1")
    for source in (pointer, axis):
        if source in ds.variables and ds[source].dtype.kind in "UO" and ds[source].ndim == 1:
            return [str(v).strip() for v in ds[source].values]
    return [f"{axis} {i}" for i in range(var.sizes[axis])]


def _spectrogram(choice: Choice, ds: xr.Dataset, var: xr.DataArray) -> hv.Element:
    if choice.summed:
        var = var.sum(choice.summed, skipna=True, min_count=1)
    axis = ds[choice.axis] if choice.axis in ds.coords else None
    ys = np.arange(var.sizes[choice.axis]) if axis is None else np.asarray(axis.values, float)
    ylabel = choice.axis_label if axis is not None else choice.axis
    values = _values(var)
    if choice.log_values:
        values = np.where(values > 0, values, np.nan)  # log colour: zero counts show as gaps
    long = values.size > RASTERISE_ABOVE
    if choice.log_axis and long:
        # a rasterised image cannot sit on a log axis: rasterise log10 of the axis instead
        ys, ylabel = np.log10(np.where(ys > 0, ys, np.nan)), f"log10 {ylabel}"
    times = var[choice.time].values
    order = np.argsort(ys)
    mesh = hv.QuadMesh((times, ys[order], values[:, order].T), [TIME, ylabel], choice.label)
    if long:
        mesh = rasterize(mesh)
    options = {"colorbar": True, "cmap": "viridis", "logz": choice.log_values}
    if choice.log_axis and not long:
        options["logy"] = True
    return mesh.opts(**options)


def _round_bin(ms: float) -> int:
    """A bin width of 1, 2 or 5 times a power of ten milliseconds, at least ``ms``."""
    for power in range(10):
        for step in (1, 2, 5):
            if step * 10**power >= ms:
                return step * 10**power
    return 10**10


def _events(choice: Choice, var: xr.DataArray) -> hv.Layout:
    values = _values(var)
    values = values[np.isfinite(values)]
    counts, edges = np.histogram(values, bins=min(256, max(10, int(np.sqrt(values.size)))))
    histogram = hv.Histogram((edges, counts), kdims=[choice.label], vdims=["Events"]).opts(
        title=f"{choice.variable}: distribution of {values.size} events", logy=choice.log_values,
        width=WIDTH, height=HEIGHT,
    )  # fmt: skip
    times = pd.DatetimeIndex(var[choice.time].values)
    span_ms = (times.max() - times.min()).total_seconds() * 1000 if len(times) else 0.0
    bin_ms = _round_bin(span_ms / 200)  # about 200 bins over the list, however short
    per_bin = pd.Series(1, index=times).resample(f"{bin_ms}ms").sum()
    rate = hv.Curve(
        (per_bin.index.values, per_bin.values / (bin_ms / 1000)), TIME, "Event rate [counts/s]"
    ).opts(
        title=f"light curve ({bin_ms / 1000:g} s bins)", interpolation="steps-mid", width=WIDTH,
        height=HEIGHT,
    )  # fmt: skip
    return (histogram + rate).cols(1)


def _spectrum_image(choice: Choice, var: xr.DataArray) -> hv.Element:
    total = var.sum(choice.summed, skipna=True, min_count=1)
    values = _values(total)
    if choice.log_values:
        values = np.where(values > 0, values, np.nan)
    pixels = np.arange(values.shape[0])
    bins = np.arange(values.shape[1])
    image = hv.QuadMesh((bins, pixels, values), [choice.axis_label, choice.axis], choice.label)
    return image.opts(colorbar=True, cmap="viridis", logz=choice.log_values)


def draw(choice: Choice, ds: xr.Dataset) -> hv.Element | hv.Layout | hv.DynamicMap:
    """The holoviews object of a choice, titled and sized."""
    var = ds[choice.variable]
    if choice.kind == EVENT_LIST:
        return _events(choice, var)
    if choice.kind == SPECTRUM_IMAGE:
        plot = _spectrum_image(choice, var)
    elif choice.kind == SPECTROGRAM:
        plot = _spectrogram(choice, ds, var)
    elif choice.kind == COMPONENTS:
        plot = _components(choice, ds, var)
    else:
        plot = _series(choice, var)
    return plot.opts(title=choice.title, width=WIDTH, height=HEIGHT)
