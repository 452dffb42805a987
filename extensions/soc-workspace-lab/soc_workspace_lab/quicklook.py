"""Quicklooks: a selection's files, read with soc_workspace's readers, drawn as a PNG.

The files are those a catalog search of the selection finds (never a path or URL of the
request), opened with ``soc_workspace.open_catalog_files`` as a notebook would. Each variable
gets the plot ``ds.soc.quicklook`` gives it in a notebook (the rules of
:mod:`soc_workspace.quicklook.choose`, the numbers of :mod:`soc_workspace.quicklook.parts`),
drawn with matplotlib; long series are averaged into at most ``MAX_POINTS`` time bins first.
"""

from __future__ import annotations

import io
import threading
from collections import OrderedDict
from typing import Any

import numpy as np
import pandas as pd

from .queries import BadRequest, Selection, find_files, iso

MAX_POINTS = 2000
"""Time bins drawn at most (the plot is ~800 pixels wide)."""


class _Opened:
    """The last few opened selections, so the summary and the image read the files once."""

    def __init__(self, size: int = 4) -> None:
        self.size = size
        self.lock = threading.Lock()
        self.items: OrderedDict[tuple, Any] = OrderedDict()

    def get(self, key: tuple, open_: Any) -> Any:
        with self.lock:
            if key in self.items:
                self.items.move_to_end(key)
                return self.items[key]
        data = open_()
        with self.lock:
            self.items[key] = data
            while len(self.items) > self.size:
                self.items.popitem(last=False)
        return data


_OPENED = _Opened()


def open_selection(chosen: Selection, max_files: int) -> tuple[Any, int]:
    """The selection as one xarray Dataset (lazy) and its number of files."""
    import soc_workspace

    files = find_files(chosen)
    if files.empty:
        raise BadRequest(
            f"no files of {chosen.dataset} from {iso(chosen.start)} to {iso(chosen.stop)}"
        )
    if len(files) > max_files:
        raise BadRequest(
            f"{len(files)} files in this range: a quicklook reads at most {max_files}; "
            "choose a shorter range"
        )
    # The same files (and versions) give the same Dataset; a new version is a new key.
    key = (chosen, tuple(files["url"]), tuple(files["etag"]))
    data = _OPENED.get(
        key,
        lambda: soc_workspace.open_catalog_files(
            files, start=chosen.start, stop=chosen.stop, chunks={}
        ),
    )
    return data, len(files)


def choices(data: Any) -> dict[str, Any]:
    """The plot of each variable that can be drawn, chosen as ``ds.soc.quicklook`` does."""
    from soc_workspace.quicklook.choose import QuicklookError, choose

    found = {}
    for name in data.data_vars:
        try:
            found[str(name)] = choose(data, str(name))
        except QuicklookError:
            continue
    return found


def _default(data: Any, found: dict[str, Any]) -> str | None:
    from soc_workspace.quicklook.choose import QuicklookError, default_variable

    try:
        return default_variable(data)
    except QuicklookError:
        return next(iter(found), None)


def summary_answer(chosen: Selection, max_files: int) -> dict[str, Any]:
    from soc_workspace.quicklook.choose import units

    data, count = open_selection(chosen, max_files)
    found = choices(data)
    return {
        "dataset": chosen.dataset,
        "start": iso(chosen.start),
        "stop": iso(chosen.stop),
        "files": count,
        "variables": [
            {
                "name": name,
                "dims": [str(d) for d in data[name].dims],
                "units": units(data[name].attrs),
                "description": str(data[name].attrs.get("CATDESC", "")),
                "kind": choice.kind,
            }
            for name, choice in found.items()
        ],
        "variable": _default(data, found),
    }


def _binned(variable: Any, time: str) -> tuple[Any, int]:
    """The variable averaged into at most MAX_POINTS time bins; and the bin size."""
    size = int(variable.sizes[time])
    step = max(1, -(-size // MAX_POINTS))
    if step > 1:
        variable = variable.coarsen({time: step}, boundary="trim").mean()
    return variable.load(), step


def render_png(chosen: Selection, variable: str | None, max_files: int) -> bytes:
    """The PNG of one variable of the selection (the summary's default when None)."""
    data, count = open_selection(chosen, max_files)
    heading = f"{chosen.dataset} ({count} files), {iso(chosen.start)} – {iso(chosen.stop)}"
    return draw_png(data, variable, heading)


def draw_png(data: Any, variable: str | None, heading: str) -> bytes:
    """An 800 x 400 PNG of one variable of a Dataset (its default when None)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from soc_workspace.quicklook.choose import EVENT_LIST

    found = choices(data)
    if variable is None:
        variable = _default(data, found)
    if variable is None:
        raise BadRequest(f"{heading}: no variable along time that can be drawn")
    if variable not in found:
        raise BadRequest(
            f"variable={variable[:100]!r} cannot be drawn: choose one of {', '.join(found)}"
        )
    choice = found[variable]
    figure = Figure(figsize=(8, 4), dpi=100, layout="constrained")
    if choice.kind == EVENT_LIST:
        _draw_events(figure, choice, data[variable].load())
        figure.suptitle(f"{choice.title}\n{heading}", fontsize="medium")
    else:
        axes = figure.add_subplot()
        step = _draw(figure, axes, choice, data)
        averaged = f", means of {step} samples" if step > 1 else ""
        axes.set_title(f"{choice.title}\n{heading}{averaged}", fontsize="medium")
    buffer = io.BytesIO()
    FigureCanvasAgg(figure).print_png(buffer)
    return buffer.getvalue()


def _draw(figure: Any, axes: Any, choice: Any, data: Any) -> int:
    """Draw a time series, components, spectrogram or spectrum image; the time-bin size."""
    from soc_workspace.quicklook import parts
    from soc_workspace.quicklook.choose import COMPONENTS, SPECTROGRAM, SPECTRUM_IMAGE

    var = data[choice.variable]
    if choice.kind == SPECTRUM_IMAGE:
        grid = parts.spectrum_image(choice, var.load())
        norm = _log_norm(grid) if choice.log_values else None
        mesh = axes.pcolormesh(grid, shading="auto", norm=norm)
        axes.set_xlabel(choice.axis_label)
        axes.set_ylabel(choice.axis)
        figure.colorbar(mesh, ax=axes, label=choice.label)
        return 1
    binned, step = _binned(var.astype("float64"), choice.time)
    if choice.kind == SPECTROGRAM:
        times, ys, grid, ylabel = parts.spectrogram(choice, data, binned)
        norm = _log_norm(grid) if choice.log_values else None
        mesh = axes.pcolormesh(pd.to_datetime(times), ys, grid.T, shading="auto", norm=norm)
        axes.set_ylabel(ylabel)
        if choice.log_axis and (ys > 0).all():
            axes.set_yscale("log")
        figure.colorbar(mesh, ax=axes, label=choice.label)
    else:
        times = pd.to_datetime(binned[choice.time].values)
        if choice.kind == COMPONENTS:
            names = parts.component_names(data, var, choice.axis)
            grid = parts.values(binned.transpose(choice.time, choice.axis))
            for i, name in enumerate(names):
                axes.plot(times, grid[:, i], linewidth=0.8, label=name)
            # beside the plot, never over the data
            figure.legend(loc="outside right upper", fontsize="small")
        else:
            axes.plot(times, parts.values(binned), linewidth=0.8)
        axes.set_ylabel(choice.label)
        if choice.log_values:
            axes.set_yscale("log")
    axes.set_xlabel("time (UTC)")
    _dates(axes)
    return step


def _draw_events(figure: Any, choice: Any, var: Any) -> None:
    """An event list: the histogram of its values above its light curve."""
    from soc_workspace.quicklook import parts

    counts, edges, events = parts.event_histogram(var)
    histogram, light_curve = figure.subplots(2, 1)
    histogram.stairs(counts, edges, fill=True)
    histogram.set_xlabel(choice.label)
    histogram.set_ylabel(f"events (of {events})")
    if choice.log_values:
        histogram.set_yscale("log")
    starts, rate, bin_ms = parts.event_rate(choice, var)
    light_curve.step(pd.to_datetime(starts), rate, where="post", linewidth=0.8)
    light_curve.set_ylabel("events/s")
    light_curve.set_xlabel(f"time (UTC), {bin_ms / 1000:g} s bins")
    _dates(light_curve)


def _dates(axes: Any) -> None:
    """Times labelled as a scientist reads them: the date once, then hours or seconds."""
    from matplotlib.dates import AutoDateLocator, ConciseDateFormatter

    locator = AutoDateLocator()
    axes.xaxis.set_major_locator(locator)
    axes.xaxis.set_major_formatter(ConciseDateFormatter(locator))


def _log_norm(grid: Any) -> Any:
    """A log colour scale, or None (linear) when nothing is positive."""
    from matplotlib.colors import LogNorm

    return LogNorm() if np.isfinite(grid).any() and np.nanmax(grid) > 0 else None
