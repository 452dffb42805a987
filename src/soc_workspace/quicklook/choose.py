"""Which plot a variable gets, read from its metadata (ISTP for CDF, the FITS headers for PADRE).

The rules, in order:

- a PADRE photon list (``BTYPE = photon``): an **event list** (histogram of the variable and
  a light curve of the event rate);
- a PADRE spectrum (``BTYPE = spectrum``, time x pixel x energy bin): a **spectrum image**
  (pixel against energy bin, summed over time);
- ``DISPLAY_TYPE = spectrogram``, or a time series with more than ``MAX_COMPONENTS`` columns: a
  **spectrogram** (time against the ``DEPEND_1`` axis; further axes summed);
- a time series with a few columns (a vector, labelled by ``LABL_PTR_1``): **components**;
- one value per time: a **time series**.

Labels come from ``LABLAXIS`` (or ``FIELDNAM``) and ``UNITS``, titles from ``CATDESC``, and a
logarithmic scale from ``SCALETYP = log`` (the variable's for its values, the ``DEPEND_1``
variable's for a spectrogram's vertical axis).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import xarray as xr

TIME_SERIES = "time series"
COMPONENTS = "components"
SPECTROGRAM = "spectrogram"
EVENT_LIST = "event list"
SPECTRUM_IMAGE = "spectrum image"
MAX_COMPONENTS = 16  # more columns than this read better as a spectrogram
EVENT_LIST_DEFAULT = "atod"  # the photon's energy (ADC value) in a PADRE MeDDEA event list


class QuicklookError(ValueError):
    """A variable that cannot be drawn, named with the reason."""


@dataclass(frozen=True)
class Choice:
    """What the quicklook of one variable draws, and how it labels it."""

    variable: str
    kind: str
    title: str
    label: str  # the values' axis or colour bar: "B GSE [nT]"
    log_values: bool  # SCALETYP log: log colour (spectrogram, image) or log y (series)
    time: str | None  # the time dimension
    axis: str | None = None  # spectrogram: the vertical axis; components: the component axis
    axis_label: str = ""
    log_axis: bool = False
    summed: tuple[str, ...] = ()  # dimensions summed over before drawing


def _text(attrs: dict, *names: str) -> str:
    for name in names:
        value = attrs.get(name)
        if isinstance(value, str) and value.strip("\x00 "):
            return value.strip("\x00 ")
    return ""


def units(attrs: dict) -> str:
    """The variable's units (ISTP ``UNITS``, FITS ``units``), "" when blank."""
    return _text(attrs, "UNITS", "units")


def label(name: str, attrs: dict) -> str:
    """``LABLAXIS [UNITS]``; the variable's name when it has no label."""
    text = _text(attrs, "LABLAXIS")
    if not text or text.startswith(f"{name} ["):  # hermes_core writes "name [units]"
        text = _text(attrs, "FIELDNAM") or name
    unit = units(attrs)
    return f"{text} [{unit}]" if unit else text


def is_log(attrs: dict) -> bool:
    return _text(attrs, "SCALETYP", "scaletyp").lower().startswith("log")


def _time_dim(ds: xr.Dataset, var: xr.DataArray) -> str | None:
    for dim in var.dims:
        if dim in ds.coords and np.issubdtype(ds[dim].dtype, np.datetime64):
            return dim
    return None


def default_variable(ds: xr.Dataset) -> str:
    """The variable a quicklook without a name draws: the first measurement it can draw."""
    if ds.attrs.get("BTYPE") == "photon" and EVENT_LIST_DEFAULT in ds:
        return EVENT_LIST_DEFAULT
    reasons = []
    for name, var in ds.data_vars.items():
        if var.attrs.get("VAR_TYPE", "data") != "data":
            continue
        try:
            choose(ds, str(name))
        except QuicklookError as err:
            reasons.append(str(err))
            continue
        return str(name)
    why = "; ".join(reasons[:3]) or "it has no data variables"
    raise QuicklookError(f"no variable of this dataset can be drawn: {why}")


def choose(ds: xr.Dataset, name: str) -> Choice:
    """The plot of variable ``name``; :class:`QuicklookError` naming it when there is none."""
    if name not in ds.variables:
        known = ", ".join(map(str, ds.data_vars)) or "none"
        raise QuicklookError(f"no variable {name!r} in this dataset; its variables are {known}")
    var = ds[name]
    attrs = var.attrs
    if var.dtype.kind not in "fiub":
        raise QuicklookError(
            f"variable {name!r} holds {var.dtype} values (labels or text), not numbers to plot"
        )
    time = _time_dim(ds, var)
    title = f"{name}: {_text(attrs, 'CATDESC')}" if _text(attrs, "CATDESC") else name
    if time is None:
        raise QuicklookError(
            f"variable {name!r} has no time axis (dimensions {var.dims}): a quicklook plots "
            "data against time"
        )
    if var.dims[0] != time:
        raise QuicklookError(f"variable {name!r}: time {time!r} is not its first dimension")
    log_values = is_log(attrs)
    btype = ds.attrs.get("BTYPE")
    if btype == "photon" and var.ndim == 1:
        return Choice(name, EVENT_LIST, title, label(name, attrs), log_values, time)
    if btype == "spectrum" and var.ndim == 3:
        pixel, energy = var.dims[1], var.dims[2]
        return Choice(
            name, SPECTRUM_IMAGE, title, label(name, attrs) if units(attrs) else "counts",
            log_values, time, axis=pixel, axis_label=energy, summed=(time,),
        )  # fmt: skip
    if var.ndim == 1:
        return Choice(name, TIME_SERIES, title, label(name, attrs), log_values, time)
    axis = var.dims[1]
    axis_attrs = ds[axis].attrs if axis in ds.coords else {}
    display = _text(attrs, "DISPLAY_TYPE").lower()
    if display == SPECTROGRAM or (var.ndim == 2 and var.sizes[axis] > MAX_COMPONENTS):
        return Choice(
            name, SPECTROGRAM, title, label(name, attrs), log_values, time, axis=axis,
            axis_label=label(axis, axis_attrs), log_axis=is_log(axis_attrs),
            summed=tuple(str(d) for d in var.dims[2:]),
        )  # fmt: skip
    if var.ndim == 2:
        return Choice(name, COMPONENTS, title, label(name, attrs), log_values, time, axis=axis)
    others = ", ".join(f"{d}=0" for d in var.dims[1:])
    raise QuicklookError(
        f"variable {name!r} (DISPLAY_TYPE {display or 'not set'}) has {var.ndim} dimensions "
        f"{var.dims}: a quicklook draws one or a few values per time; select first, e.g. "
        f"ds.isel({others}).soc.quicklook({name!r})"
    )
