"""ISTP conventions: which CDF variables are time axes, coordinates and data, and how raw
values become what users see (epochs as datetime64, fill values as NaN).

Nothing here reads bytes: the format layer (:mod:`.cdf_format`) gives each variable's
description, its attributes and its stored values.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .cdf_format import STRING_TYPES, CDFVariable
from .errors import SOCDataError
from .times import EPOCH_TYPES, cdf_epoch_to_datetime64

# ISTP VAR_TYPEs that describe other variables rather than being measurements
COORDINATE_VAR_TYPES = ("support_data", "metadata")


@dataclass
class Plan:
    order: list[str]
    dims: dict[str, tuple[str, ...]]
    coords: set[str]
    eager: set[str]
    warnings: list[str]


def istp_dims(
    name: str,
    specs: dict[str, CDFVariable],
    attrs: dict[str, dict[str, Any]],
    wanted: list[str] | None,
) -> Plan:
    """Dimensions and coordinates from the ISTP attributes.

    A pointer to no variable, or a DEPEND_0 that is no time axis, raises SOCDataError. A
    DEPEND_i or LABL_PTR_i of the wrong length (or one with no records) is left out with a
    warning: the variable keeps its values on a dimension of its own, as cdflib does.
    """
    problems: list[str] = []

    def target(v: str, key: str) -> str | None:
        ref = attrs[v].get(key)
        if ref is None or (isinstance(ref, str) and not ref.strip()):
            return None
        if not isinstance(ref, str):
            raise SOCDataError(name, f"variable {v!r}: {key} is {ref!r}, not a variable name")
        ref = ref.strip()
        if ref not in specs:
            raise SOCDataError(
                name,
                f"variable {v!r}: {key} names {ref!r}, which is not a variable in the "
                f"file (it has {', '.join(specs)})",
            )
        return ref

    # Pointers that do not fit the variable they describe: dropped (with a warning).
    def fits(v: str, i: int, key: str, ref: str) -> bool:
        size = specs[v].shape[i - 1]
        rshape = specs[ref].shape
        if specs[ref].nrecs == 0:
            problems.append(
                f"variable {v!r}: {key} names {ref!r}, which has no records; the "
                f"dimension is left without it"
            )
            return False
        if not rshape or rshape[-1] != size:
            problems.append(
                f"variable {v!r}: {key} names {ref!r} with shape {rshape}, but dimension "
                f"{i} of {v!r} has {size} elements; {v!r} is kept without it"
            )
            return False
        return True

    pointers: dict[tuple[str, str], str | None] = {}
    for v in specs:
        for i in range(1, min(len(specs[v].shape), 3) + 1):
            for key in (f"DEPEND_{i}", f"LABL_PTR_{i}"):
                ref = target(v, key)
                pointers[(v, key)] = ref if ref and fits(v, i, key, ref) else None

    def pointer(v: str, key: str) -> str | None:
        return pointers.get((v, key))

    # Which variables, with everything they refer to.
    if wanted is not None:
        missing = [v for v in wanted if v not in specs]
        if missing:
            raise SOCDataError(
                name,
                f"no variable {', '.join(map(repr, missing))}; the file has {', '.join(specs)}",
            )
        order: list[str] = []
        todo = list(wanted)
        while todo:
            v = todo.pop(0)
            if v in order:
                continue
            order.append(v)
            ref = target(v, "DEPEND_0")
            if ref and specs[v].nrecs is not None:
                todo.append(ref)
            for i in (1, 2, 3):
                todo.extend(r for k in ("DEPEND", "LABL_PTR") if (r := pointer(v, f"{k}_{i}")))
    else:
        order = list(specs)

    dims: dict[str, tuple[str, ...]] = {}
    coords: set[str] = set()
    eager: set[str] = set()
    # Time axes: what record-varying variables name as DEPEND_0, and epoch variables themselves.
    record_dim: dict[str, str] = {}
    axes = {target(v, "DEPEND_0") for v in order if specs[v].nrecs is not None} - {None}
    for v in order:
        spec = specs[v]
        if spec.nrecs is None:
            continue  # ISTP: DEPEND_0 on a non-record-varying variable means nothing
        dep0 = target(v, "DEPEND_0")
        if v in axes or dep0 is None or dep0 == v:
            own = v in axes or dep0 == v or spec.cdf_type in EPOCH_TYPES
            record_dim[v] = v if own and not spec.shape else f"{v}_record"
            continue
        t = specs[dep0]
        if t.nrecs is None or t.shape:
            raise SOCDataError(
                name,
                f"variable {v!r}: DEPEND_0 names {dep0!r}, which is not one value per "
                "record (a DEPEND_0 must be a time axis)",
            )
        if t.nrecs != spec.nrecs:
            record_dim[v] = f"{v}_record"
            problems.append(
                f"variable {v!r} has {spec.nrecs} records but its DEPEND_0 {dep0!r} has "
                f"{t.nrecs}; it is kept on its own dimension {v + '_record'!r}"
            )
            continue
        record_dim[v] = dep0
    for axis in set(record_dim.values()):
        if axis in specs and record_dim.get(axis) == axis:
            coords.add(axis)
            eager.add(axis)
            if axis not in order:
                order.insert(0, axis)

    # Dimensions named by DEPEND_i / LABL_PTR_i variables: a constant 1-D variable is the
    # dimension coordinate; one that varies by record is a 2-D coordinate on "<name>_dim".
    # Labels given together with a DEPEND_i label that dimension (and name it elsewhere too).
    def axis_of(ref: str) -> str | None:
        ref_spec = specs[ref]
        if len(ref_spec.shape) != 1:
            return None
        return ref if ref_spec.nrecs is None else f"{ref}_dim"

    label_axis: dict[str, str] = {}
    referenced: set[str] = set()
    for v in order:
        for i in range(1, min(len(specs[v].shape), 3) + 1):
            dep, lab = pointer(v, f"DEPEND_{i}"), pointer(v, f"LABL_PTR_{i}")
            referenced.update(r for r in (dep, lab) if r)
            if dep and lab and axis_of(dep) and specs[lab].nrecs is None:
                label_axis.setdefault(lab, axis_of(dep))

    def dim_for(ref: str) -> str | None:
        return label_axis.get(ref) or axis_of(ref)

    for v in order:
        spec = specs[v]
        if spec.nrecs is not None:
            rec: tuple[str, ...] = (record_dim[v],)
        else:
            rec = ()
        if v in referenced and len(spec.shape) == 1:
            dims[v] = (*rec, dim_for(v))
            coords.add(v)
            eager.add(v)
            continue
        inner: list[str] = []
        for i in range(1, len(spec.shape) + 1):
            dep = pointer(v, f"DEPEND_{i}") if i <= 3 else None
            lab = pointer(v, f"LABL_PTR_{i}") if i <= 3 else None
            for ref in (dep, lab):
                if ref is not None:
                    coords.add(ref)
                    eager.add(ref)
            ref = dep or lab
            inner.append((dim_for(ref) if ref else None) or f"{v}_dim{i}")
        dims[v] = rec + tuple(inner)
        if v in coords or attrs[v].get("VAR_TYPE") in COORDINATE_VAR_TYPES:
            coords.add(v)
        if spec.nrecs is None:
            eager.add(v)
    return Plan(order=order, dims=dims, coords=coords, eager=eager, warnings=problems)


# -- values ---------------------------------------------------------------------------------
def masked_dtype(spec: CDFVariable, attrs: dict[str, Any], mask_fill: bool, mask_invalid: bool):
    """The float type an integer variable becomes when its fills (or invalid values) are to
    be NaN, as xarray's CF decoding does for ``_FillValue``: float32 for integers of up to 2
    bytes, float64 above. None: the variable keeps its type."""
    dtype = np.dtype(spec.dtype)
    if spec.cdf_type in EPOCH_TYPES or dtype.kind not in "iu":
        return None
    has_fill = mask_fill and _number(attrs.get("FILLVAL")) is not None
    has_range = mask_invalid and any(
        _number(attrs.get(k)) is not None for k in ("VALIDMIN", "VALIDMAX")
    )
    if not (has_fill or has_range):
        return None
    return "f4" if dtype.itemsize <= 2 else "f8"


def _number(value: Any) -> Any:
    if isinstance(value, (bool, str)) or value is None:
        return None
    arr = np.asarray(value)
    if arr.dtype.kind not in "iuf" or arr.size != 1:
        return None
    return arr.reshape(())[()]


def final_dtype(spec: CDFVariable) -> np.dtype:
    if spec.cdf_type in EPOCH_TYPES:
        return np.dtype("datetime64[ns]")
    if spec.cdf_type in STRING_TYPES:
        return np.dtype(f"<U{np.dtype(spec.dtype).itemsize}")
    if spec.masked_dtype is not None:
        return np.dtype(spec.masked_dtype)
    return np.dtype(spec.dtype).newbyteorder("=")


def finish(
    values: np.ndarray,
    spec: CDFVariable,
    *,
    leap: list[int] | None = None,
    out: np.ndarray | None = None,
) -> np.ndarray:
    """Raw values to what the Dataset holds: epochs to datetime64[ns] (records in a leap second
    counted into ``leap``), strings decoded, fill values (and, when asked, values outside
    VALIDMIN/VALIDMAX) to NaN, native byte order.

    ``out``, an array of the final type and shape, receives integers converted to float
    directly (one pass over memory instead of two); the result may still be another array.
    """
    if spec.cdf_type in EPOCH_TYPES:
        return cdf_epoch_to_datetime64(values, spec.cdf_type, leap=leap)
    if values.dtype.kind == "S":
        return np.char.decode(values, "utf-8", errors="replace").astype(str)
    if values.dtype.kind == "U":
        return values
    values = values.astype(values.dtype.newbyteorder("="), copy=False)
    fill = _number(spec.fill)
    low, high = spec.valid
    if values.dtype.kind in "iu":
        if spec.masked_dtype is None:
            return values
        raw = values
        if out is not None:
            np.copyto(out, raw, casting="unsafe")
            values = out
        else:
            values = raw.astype(spec.masked_dtype)
        if fill is not None:
            mask = raw == fill
            if mask.any():
                np.copyto(values, np.nan, where=mask)
        _mask_range(values, raw, low, high)
        return values
    if values.dtype.kind == "f":
        mask = None
        if fill is not None and not np.isnan(fill):
            mask = values == np.asarray(fill).astype(values.dtype)
        if low is not None or high is not None:
            outside = np.zeros(values.shape, bool)
            if low is not None:
                outside |= values < low
            if high is not None:
                outside |= values > high
            mask = outside if mask is None else mask | outside
        if mask is not None and mask.any():
            if out is not None and out.dtype == values.dtype:
                np.copyto(out, values)
                values = out
            elif not values.flags.writeable:
                values = values.copy()
            np.copyto(values, np.nan, where=mask)
    return values


def _mask_range(values: np.ndarray, raw: np.ndarray, low: Any, high: Any) -> None:
    if low is not None:
        values[raw < low] = np.nan
    if high is not None:
        values[raw > high] = np.nan


def valid_range(attrs: dict[str, Any], mask_invalid: bool) -> tuple[Any, Any]:
    if not mask_invalid:
        return (None, None)
    return (_number(attrs.get("VALIDMIN")), _number(attrs.get("VALIDMAX")))


def variable_attrs(raw: dict[str, Any], spec: CDFVariable) -> dict[str, Any]:
    attrs = dict(raw)
    units = attrs.get("UNITS")
    # CF's lower-case "units" too: xarray and hvplot label axes with it. Not on times, where
    # xarray's own encoding would fight over the key.
    if isinstance(units, str) and units.strip() and spec.cdf_type not in EPOCH_TYPES:
        attrs.setdefault("units", units.strip())
    return attrs
