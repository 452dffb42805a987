"""The shape of a Dataset before its data are read: what the CDF and FITS readers produce.

Coordinates (time axes, labels, support data) are read when a file is opened; data variables
carry a ``reader`` that the format module uses to read them later, one file at a time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .source import Source


@dataclass(frozen=True)
class ReadOptions:
    """How values are presented (see docs/data-access.md, "Fill values").

    ``mask_fill``: variables with a FILLVAL hold NaN where they hold it, integer ones becoming
    float; False keeps every stored value (integers stay integers). ``mask_invalid``: values
    outside VALIDMIN/VALIDMAX become NaN too (otherwise those stay attributes).
    """

    mask_fill: bool = True
    mask_invalid: bool = False


DEFAULT_OPTIONS = ReadOptions()


@dataclass
class VarLayout:
    name: str
    dims: tuple[str, ...]
    shape: tuple[int, ...]
    dtype: np.dtype
    attrs: dict[str, Any]
    coord: bool
    values: np.ndarray | None  # read already (coordinates), else read through ``reader``
    record_dim: str | None  # the dimension files are concatenated along (None: constant)
    reader: Any = None  # format-specific description of where the data are


@dataclass
class FileLayout:
    source: Source
    format: str  # the name of the FileFormat that read it: "cdf", "fits", "csv"
    attrs: dict[str, Any]
    variables: dict[str, VarLayout] = field(default_factory=dict)
    signature: tuple[Any, ...] = ()  # equal for files of one dataset with the same structure
    raw_attrs: dict[str, dict[str, Any]] = field(default_factory=dict)
    reader_state: Any = None  # format-specific, shared by the variables of the file
    whole: bytes | None = None  # the file's bytes, when they were fetched in one piece

    @property
    def lazy_variables(self) -> list[VarLayout]:
        return [v for v in self.variables.values() if v.values is None]

    def record_axes(self) -> dict[str, int]:
        """Each concatenation dimension and its length in this file."""
        axes: dict[str, int] = {}
        for var in self.variables.values():
            if var.record_dim is not None:
                axes[var.record_dim] = var.shape[0]
        return axes

    def first_time(self) -> np.datetime64 | None:
        """The earliest time on any time axis of the file (for ordering files)."""
        best = None
        for var in self.variables.values():
            if var.values is not None and var.values.dtype.kind == "M" and var.values.size:
                t = var.values.min()
                if not np.isnat(t) and (best is None or t < best):
                    best = t
        return best
