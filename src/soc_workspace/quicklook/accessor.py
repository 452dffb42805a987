"""``ds.soc``: the workspace's methods on every xarray Dataset (registered on import).

Only xarray is imported here, so registering costs nothing; drawing imports holoviews when
first asked.
"""

from __future__ import annotations

from typing import Any

import xarray as xr


@xr.register_dataset_accessor("soc")
class SOCAccessor:
    """``ds.soc.quicklook(var)``: a plot chosen from the metadata; ``ds.soc.plot_kind(var)``:
    which one it would be, and why."""

    def __init__(self, ds: xr.Dataset) -> None:
        self._ds = ds

    def plot_kind(self, var: str | None = None) -> Any:
        """The :class:`~soc_workspace.quicklook.choose.Choice` for ``var`` (default: the first
        variable that can be drawn)."""
        from .choose import choose, default_variable

        return choose(self._ds, var if var is not None else default_variable(self._ds))

    def quicklook(self, var: str | None = None) -> Any:
        """A holoviews plot of ``var`` chosen from its metadata: time series, components,
        spectrogram, event list (histogram + light curve) or spectrum image."""
        from .draw import draw

        return draw(self.plot_kind(var), self._ds)
