"""The availability table drawn: one strip per dataset, one box per period, coloured by the
fraction of the period that files cover; empty periods are left pale so gaps stand out.

holoviews (with bokeh) is imported only here, when a table is drawn.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from .coverage_text import human_size


def heat_strip(table: pd.DataFrame, freq: str, **options: Any) -> Any:
    """A holoviews ``Rectangles`` element of an availability table (see ``availability``)
    whose periods are ``freq`` long."""
    import holoviews as hv
    import hvplot  # noqa: F401  (registers holoviews' bokeh renderer, for the options below)

    datasets = list(dict.fromkeys(table["dataset"]))
    row = {name: i for i, name in enumerate(datasets)}
    period = pd.DatetimeIndex(table["period"])
    naive = period.tz_localize(None) if period.tz is not None else period  # bokeh: UTC, naive
    ends = naive + pd.tseries.frequencies.to_offset(freq)
    frame = pd.DataFrame(
        {
            "x0": naive,
            "y0": table["dataset"].map(row).to_numpy() + 0.1,
            "x1": ends,
            "y1": table["dataset"].map(row).to_numpy() + 0.9,
            "dataset": table["dataset"].to_numpy(),
            "covered": table["covered"].to_numpy(),
            "files": table["files"].to_numpy(),
            "size": [human_size(b) for b in table["bytes"]],
            "newest_version": table["newest_version"].fillna("").to_numpy(),
            "period": [f"{p:%Y-%m-%d %H:%M}" for p in naive],
        }
    )
    hover = [
        ("dataset", "@dataset"),
        ("period", "@period (UTC)"),
        ("files", "@files"),
        ("size", "@size"),
        ("covered", "@covered{0%}"),
        ("newest version", "@newest_version"),
    ]
    strips = hv.Rectangles(
        frame,
        kdims=["x0", "y0", "x1", "y1"],
        vdims=["covered", "files", "size", "newest_version", "dataset", "period"],
    )
    title = f"Data availability per {freq} (grey: no files)"
    defaults: dict[str, Any] = {
        "color": "covered",
        "cmap": "Greens",
        # Periods without files fall below the colour range: grey, so that gaps stand out.
        "clim": (1e-6, 1),
        "clipping_colors": {"min": "#d9d9d9", "NaN": "#d9d9d9"},
        "colorbar": True,
        "line_color": None,
        "tools": ["hover"],
        "hover_tooltips": hover,
        "yticks": [(i + 0.5, name) for i, name in enumerate(datasets)],
        "ylim": (0, max(1, len(datasets))),
        "xlabel": "time (UTC)",
        "ylabel": "",
        "title": title,
        "height": 80 + 28 * max(1, len(datasets)),
        "responsive": True,
        "min_width": 500,
        "show_grid": False,
    }
    defaults.update(options)
    return strips.opts(**defaults)
