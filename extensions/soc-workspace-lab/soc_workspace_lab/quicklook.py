"""Quicklooks: a selection's files, read with soc_workspace's readers, drawn as a PNG.

The files are those a catalog search of the selection finds (never a path or URL of the
request), opened with ``soc_workspace.open_catalog_files`` as a notebook would. A variable
along time is drawn as lines (one per component) or, with more than a few components, as a
spectrogram; long series are averaged into at most ``MAX_POINTS`` time bins first.
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
MAX_LINES = 8
"""Components drawn as lines; a variable with more is drawn as a spectrogram."""


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


def _time_dim(variable: Any) -> str | None:
    for dim in variable.dims:
        coord = variable.coords.get(dim)
        if coord is not None and np.issubdtype(coord.dtype, np.datetime64):
            return dim
    return None


def plottable(data: Any) -> list[str]:
    """Numeric data variables along time with one or two dimensions."""
    names = []
    for name, variable in data.data_vars.items():
        if variable.ndim in (1, 2) and variable.dtype.kind in "fiub" and _time_dim(variable):
            names.append(str(name))
    return names


def summary_answer(chosen: Selection, max_files: int) -> dict[str, Any]:
    data, count = open_selection(chosen, max_files)
    names = plottable(data)
    # A plain time series first, as the quick-start template picks.
    default = next((n for n in names if data[n].ndim == 1), names[0] if names else None)
    return {
        "dataset": chosen.dataset,
        "start": iso(chosen.start),
        "stop": iso(chosen.stop),
        "files": count,
        "variables": [
            {
                "name": name,
                "dims": [str(d) for d in data[name].dims],
                "units": str(data[name].attrs.get("units", data[name].attrs.get("UNITS", ""))),
                "description": str(data[name].attrs.get("CATDESC", "")),
            }
            for name in names
        ],
        "variable": default,
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
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.colors import LogNorm
    from matplotlib.figure import Figure

    data, count = open_selection(chosen, max_files)
    names = plottable(data)
    if variable is None:
        variable = next((n for n in names if data[n].ndim == 1), names[0] if names else None)
    if variable is None:
        raise BadRequest(f"{chosen.dataset} has no numeric variable along time to draw")
    if variable not in names:
        raise BadRequest(
            f"variable={variable[:100]!r} cannot be drawn: choose one of {', '.join(names)}"
        )
    values = data[variable]
    time = _time_dim(values)
    values, step = _binned(values.astype("float64"), time)
    figure = Figure(figsize=(8, 4), dpi=100, layout="constrained")
    axes = figure.add_subplot()
    times = pd.to_datetime(values[time].values)
    units = values.attrs.get("units") or data[variable].attrs.get("units", "")
    if values.ndim == 1:
        axes.plot(times, values.values, linewidth=0.8)
    else:
        other = next(d for d in values.dims if d != time)
        grid = values.transpose(time, other).values
        if values.sizes[other] <= MAX_LINES:
            labels = values.coords[other].values if other in values.coords else None
            for i in range(values.sizes[other]):
                label = str(labels[i]) if labels is not None else f"{other} {i}"
                axes.plot(times, grid[:, i], linewidth=0.8, label=label)
            axes.legend(loc="upper right", fontsize="small")
        else:
            positive = np.isfinite(grid) & (grid > 0)
            norm = LogNorm() if positive.any() and positive.sum() > grid.size / 2 else None
            shown = np.where(positive, grid, np.nan) if norm else grid
            mesh = axes.pcolormesh(
                times, np.arange(values.sizes[other]), shown.T, shading="auto", norm=norm
            )
            axes.set_ylabel(other)
            figure.colorbar(mesh, ax=axes, label=units)
    if values.ndim == 1 or values.sizes[other] <= MAX_LINES:
        axes.set_ylabel(f"{variable} [{units}]" if units else variable)
    averaged = f", means of {step} samples" if step > 1 else ""
    axes.set_title(
        f"{chosen.dataset}: {variable} ({count} files{averaged})\n"
        f"{iso(chosen.start)} – {iso(chosen.stop)}",
        fontsize="medium",
    )
    axes.set_xlabel("time (UTC)")
    buffer = io.BytesIO()
    FigureCanvasAgg(figure).print_png(buffer)
    return buffer.getvalue()
