"""Write ISTP-compliant CDF files with cdflib: the variable kinds, attributes and fill values.

The attribute set copies what the HERMES pipeline (hermes_core / swxsoc) writes, including its
FITS-WCS style attributes (``WCSAXES``, ``CNAME1`` ...), and adds what ISTP asks for beyond the
real samples: ``support_data`` axes named by ``DEPEND_n``, ``metadata`` label variables named by
``LABL_PTR_n``, and ``FILLVAL``/``VALIDMIN``/``VALIDMAX`` of the variable's own type.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import cdflib
import numpy as np
from cdflib.cdfwrite import CDF

# CDF_TIME_TT2000: nanoseconds since J2000 (TT), the ISTP time of HERMES products.
TT2000 = "CDF_TIME_TT2000"
EPOCH_FILLVAL = np.int64(-9223372036854775808)
# Valid range of TT2000 that the HERMES files declare (1900 .. 2250).
EPOCH_VALIDMIN = np.int64(-3155716767816000000)
EPOCH_VALIDMAX = np.int64(7889227269184000000)
J2000_MJD = 51544.5

# numpy dtype -> (CDF type name, ISTP FILLVAL, FORMAT)
_TYPES: dict[np.dtype, tuple[str, Any, str]] = {
    np.dtype(np.uint8): ("CDF_UINT1", np.uint8(255), "I3"),
    np.dtype(np.uint16): ("CDF_UINT2", np.uint16(65535), "I5"),
    np.dtype(np.uint32): ("CDF_UINT4", np.uint32(4294967295), "I10"),
    np.dtype(np.int16): ("CDF_INT2", np.int16(-32768), "I6"),
    np.dtype(np.int32): ("CDF_INT4", np.int32(-2147483648), "I11"),
    np.dtype(np.float32): ("CDF_FLOAT", np.float32(-1e31), "E12.5"),
    np.dtype(np.float64): ("CDF_DOUBLE", np.float64(-1e31), "G10.8E3"),
}


def fillval(dtype: np.dtype | type) -> Any:
    """The ISTP fill value for a numpy dtype (-1e31 for floats, the type's max for unsigned)."""
    return _TYPES[np.dtype(dtype)][1]


@dataclass
class Variable:
    """One zVariable and what ISTP needs to know about it.

    ``depend`` names the support variables of the non-record dimensions (``DEPEND_1``,
    ``DEPEND_2`` ...; None leaves one out), ``labels`` the metadata variables that label them
    (``LABL_PTR_n``). ``data`` holds all records (record varying) or the one record.
    """

    name: str
    data: np.ndarray | Sequence[str]
    var_type: Literal["data", "support_data", "metadata"]
    catdesc: str
    units: str = ""
    si_conversion: str = " > "
    depend: Sequence[str | None] = ()
    labels: Mapping[int, str] = field(default_factory=dict)
    record_varying: bool = True
    display_type: str | None = None
    lablaxis: str | None = None
    validmin: Any = None
    validmax: Any = None
    # names of the non-record axes for the WCS attributes: (CNAME, CTYPE, CUNIT) per axis
    axes: Sequence[tuple[str, str, str]] = ()
    extra: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.data, np.ndarray):
            self.record_varying = False  # text labels are the same for every record


def tt2000(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> int:
    """TT2000 nanoseconds of a UTC time (leap seconds included), via cdflib."""
    return int(cdflib.cdfepoch.compute_tt2000([year, month, day, hour, minute, second, 0, 0, 0]))


def tt2000_to_iso(value: int, digits: int = 3) -> str:
    """``YYYY-MM-DDThh:mm:ss.fff`` (UTC) of a TT2000 value, rounded to ``digits`` decimals."""
    text = str(cdflib.cdfepoch.encode_tt2000(np.int64(value + 10 ** (9 - digits) // 2)))
    return text[: 20 + digits] if digits else text[:19]


def write_cdf(
    path: str | os.PathLike[str],
    global_attrs: Mapping[str, str | Sequence[str]],
    epoch: np.ndarray,
    resolution_seconds: float,
    variables: Sequence[Variable],
) -> None:
    """Write an uncompressed ISTP CDF: ``Epoch`` (TT2000) first, then ``variables``.

    Raises ``ValueError`` naming the variable when a ``DEPEND_n``/``LABL_PTR_n`` points at a
    variable that is not in the file, or when record counts disagree with ``Epoch``.
    """
    names = {"Epoch", *(v.name for v in variables)}
    for var in variables:
        for target in [*var.depend, *var.labels.values()]:
            if target is not None and target not in names:
                raise ValueError(f"variable {var.name!r} points at {target!r}, not in the file")
        if var.record_varying and len(var.data) != len(epoch):
            raise ValueError(
                f"variable {var.name!r} has {len(var.data)} records, Epoch has {len(epoch)}"
            )
    path = Path(path)
    path.unlink(missing_ok=True)
    cdf = CDF(path, cdf_spec={"Compressed": False, "Majority": "row_major", "Checksum": False})
    try:
        cdf.write_globalattrs(
            {
                key: dict(enumerate([value] if isinstance(value, str) else list(value)))
                for key, value in global_attrs.items()
            }
        )
        cdf.write_var(
            _spec("Epoch", TT2000, 1, [], True),
            _epoch_attrs(resolution_seconds),
            np.asarray(epoch, dtype=np.int64),
        )
        for var in variables:
            spec, attrs, data = _variable(var, resolution_seconds)
            cdf.write_var(spec, attrs, data)
    finally:
        cdf.close()


def cdf_bytes(
    global_attrs: Mapping[str, str | Sequence[str]],
    epoch: np.ndarray,
    resolution_seconds: float,
    variables: Sequence[Variable],
) -> bytes:
    """:func:`write_cdf` into memory (cdflib writes to a path, so through a temporary file)."""
    with tempfile.TemporaryDirectory(prefix="soc-demo-") as tmp:
        path = Path(tmp) / "file.cdf"
        write_cdf(path, global_attrs, epoch, resolution_seconds, variables)
        return path.read_bytes()


def _spec(name: str, cdf_type: str, n_elements: int, dims: list[int], rec_vary: bool) -> dict:
    return {
        "Variable": name,
        "Data_Type": getattr(CDF, cdf_type),
        "Num_Elements": n_elements,
        "Rec_Vary": rec_vary,
        "Dim_Sizes": dims,
        "Compress": 0,  # the pipeline's files are uncompressed
    }


def _epoch_attrs(resolution_seconds: float) -> dict[str, Any]:
    return {
        "CATDESC": "Time at the start of each measurement, TT2000",
        "DEPEND_0": "Epoch",
        "DISPLAY_TYPE": "time_series",
        "FIELDNAM": "Epoch",
        "FILLVAL": [EPOCH_FILLVAL, TT2000],
        "FORMAT": "A29",
        "LABLAXIS": "Epoch",
        "SI_CONVERSION": "1.000000e-09>s",
        "UNITS": "ns",
        "VALIDMIN": [EPOCH_VALIDMIN, TT2000],
        "VALIDMAX": [EPOCH_VALIDMAX, TT2000],
        "VAR_TYPE": "support_data",
        "TIME_BASE": "J2000",
        "RESOLUTION": f"{resolution_seconds:g}s",
        "TIME_SCALE": "Terrestrial Time (TT)",
        "REFERENCE_POSITION": "rotating Earth geoid",
        "MONOTON": "INCREASE",
    }


def _variable(var: Variable, resolution_seconds: float) -> tuple[dict, dict, Any]:
    attrs: dict[str, Any] = {"CATDESC": var.catdesc, "FIELDNAM": var.name, "VAR_TYPE": var.var_type}
    if var.record_varying:
        attrs["DEPEND_0"] = "Epoch"
    if var.data is not None and not isinstance(var.data, np.ndarray):
        # Text labels (metadata): fixed-width CDF_CHAR, one entry per element.
        labels = [str(s) for s in var.data]
        width = max(len(s) for s in labels)
        attrs.update(FILLVAL=" ", FORMAT=f"A{width}", **var.extra)
        for n, target in var.labels.items():
            attrs[f"LABL_PTR_{n}"] = target
        spec = _spec(var.name, "CDF_CHAR", width, [len(labels)], False)
        return spec, attrs, [s.ljust(width) for s in labels]

    data = np.ascontiguousarray(var.data)
    cdf_type, fill, fmt = _TYPES[data.dtype]
    dims = list(data.shape[1:] if var.record_varying else data.shape)
    validmin, validmax = var.validmin, var.validmax
    if validmin is None or validmax is None:
        info = np.finfo(data.dtype) if data.dtype.kind == "f" else np.iinfo(data.dtype)
        validmin = info.min if validmin is None else validmin
        # an unsigned integer's largest value is its fill value, not valid data
        validmax = (info.max - (data.dtype.kind == "u")) if validmax is None else validmax
    attrs.update(
        DISPLAY_TYPE=var.display_type or ("time_series" if var.record_varying else "no_plot"),
        FILLVAL=[fill, cdf_type],
        FORMAT=fmt,
        LABLAXIS=var.lablaxis or var.name,
        SI_CONVERSION=var.si_conversion,
        UNITS=var.units,
        VALIDMIN=[data.dtype.type(validmin), cdf_type],
        VALIDMAX=[data.dtype.type(validmax), cdf_type],
    )
    for n, target in enumerate(var.depend, start=1):
        if target is not None:
            attrs[f"DEPEND_{n}"] = target
    for n, target in var.labels.items():
        attrs[f"LABL_PTR_{n}"] = target
    if var.record_varying and dims:
        attrs.update(_wcs(var, dims, resolution_seconds))
    attrs.update(var.extra)
    spec = _spec(var.name, cdf_type, 1, dims, var.record_varying)
    return spec, attrs, data


def _wcs(var: Variable, dims: list[int], resolution_seconds: float) -> dict[str, Any]:
    """The WCS attributes hermes_core writes for arrays: record axes first, then time."""
    axes = list(var.axes) + [("", "", "")] * (len(dims) - len(var.axes))
    axes.append(("Time", "TIME", "s"))
    attrs: dict[str, Any] = {"WCSAXES": [np.uint16(len(axes)), "CDF_UINT2"]}
    for i, (cname, ctype, cunit) in enumerate(axes, start=1):
        is_time = i == len(axes)
        attrs.update(
            {
                f"CNAME{i}": cname,
                f"CTYPE{i}": ctype,
                f"CUNIT{i}": cunit,
                f"CRPIX{i}": 0.0,
                f"CRVAL{i}": 0.0,
                f"CDELT{i}": float(resolution_seconds) if is_time else 1.0,
            }
        )
    attrs.update(
        MJDREF=J2000_MJD,
        TIMEDEL=[np.float32(resolution_seconds), "CDF_FLOAT"],
        TIMEUNIT="s",
    )
    return attrs
