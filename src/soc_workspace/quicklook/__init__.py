"""Quicklooks: a plot of any variable chosen from its metadata, ``ds.soc.quicklook(var)``.

>>> ds = soc_workspace.open_dataset("hermes_mrt_l1_20250601T000000_v1.0.0.cdf")  # doctest: +SKIP
>>> ds.soc.plot_kind("hermes_mrt_electron_flux").kind  # doctest: +SKIP
'spectrogram'
>>> ds.soc.quicklook("hermes_mrt_electron_flux")  # doctest: +SKIP

The rules are in :mod:`.choose`, the drawing (holoviews, datashader) in :mod:`.draw`. The
``soc`` accessor is registered by :mod:`soc_workspace.io`, so every dataset the reader opens
has it.
"""

from __future__ import annotations

from .accessor import SOCAccessor
from .choose import Choice, QuicklookError

__all__ = ["Choice", "QuicklookError", "SOCAccessor"]
