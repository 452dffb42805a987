"""Draw a :class:`~.choose.Choice` with holoviews (bokeh); long series rasterised by datashader.

Rasterised plots re-aggregate on zoom in a live notebook and hold one image, not a glyph per
point, so a month of 1-s data plots as fast as an hour.
"""

from __future__ import annotations

import holoviews as hv
import holoviews.plotting.bokeh  # the bokeh options (a notebook's hv.extension loads it too)
import numpy as np
import xarray as xr
from holoviews.operation.datashader import datashade, rasterize

from . import parts
from .choose import COMPONENTS, EVENT_LIST, SPECTROGRAM, SPECTRUM_IMAGE, Choice

RASTERISE_ABOVE = 20_000  # points (time series) or cells (spectrogram) drawn as glyphs below this
TIME = "Time (UTC)"
WIDTH, HEIGHT = 800, 300


def _series(choice: Choice, var: xr.DataArray) -> hv.Element:
    times = var[choice.time].values
    curve = hv.Curve((times, parts.values(var)), TIME, choice.label)
    if len(times) > RASTERISE_ABOVE:
        return rasterize(curve, line_width=1).opts(cmap=["#1f77b4"], colorbar=False)
    return curve.opts(logy=choice.log_values)


def _components(choice: Choice, ds: xr.Dataset, var: xr.DataArray) -> hv.Element:
    names = parts.component_names(ds, var, choice.axis)
    times = var[choice.time].values
    curves = {
        n: hv.Curve((times, parts.values(var.isel({choice.axis: i}))), TIME, choice.label)
        for i, n in enumerate(names)
    }
    overlay = hv.NdOverlay(curves, kdims="Component")
    if len(times) > RASTERISE_ABOVE:
        import datashader

        return datashade(overlay, aggregator=datashader.by("Component", datashader.count()))
    return overlay.opts(logy=choice.log_values, legend_position="right")


def _spectrogram(choice: Choice, ds: xr.Dataset, var: xr.DataArray) -> hv.Element:
    times, ys, grid, ylabel = parts.spectrogram(choice, ds, var)
    long = grid.size > RASTERISE_ABOVE
    if choice.log_axis and long:
        # a rasterised image cannot sit on a log axis: rasterise log10 of the axis instead
        ys, ylabel = np.log10(np.where(ys > 0, ys, np.nan)), f"log10 {ylabel}"
    mesh = hv.QuadMesh((times, ys, grid.T), [TIME, ylabel], choice.label)
    if long:
        mesh = rasterize(mesh)
    options = {"colorbar": True, "cmap": "viridis", "logz": choice.log_values}
    if choice.log_axis and not long:
        options["logy"] = True
    return mesh.opts(**options)


def _events(choice: Choice, var: xr.DataArray) -> hv.Layout:
    counts, edges, events = parts.event_histogram(var)
    histogram = hv.Histogram((edges, counts), kdims=[choice.label], vdims=["Events"]).opts(
        title=f"{choice.variable}: distribution of {events} events", logy=choice.log_values,
        width=WIDTH, height=HEIGHT,
    )  # fmt: skip
    starts, rate, bin_ms = parts.event_rate(choice, var)
    light_curve = hv.Curve((starts, rate), TIME, "Event rate [counts/s]").opts(
        title=f"light curve ({bin_ms / 1000:g} s bins)", interpolation="steps-mid", width=WIDTH,
        height=HEIGHT,
    )  # fmt: skip
    return (histogram + light_curve).cols(1)


def _spectrum_image(choice: Choice, var: xr.DataArray) -> hv.Element:
    grid = parts.spectrum_image(choice, var)
    pixels = np.arange(grid.shape[0])
    bins = np.arange(grid.shape[1])
    image = hv.QuadMesh((bins, pixels, grid), [choice.axis_label, choice.axis], choice.label)
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
