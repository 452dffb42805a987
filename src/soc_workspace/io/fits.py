"""PADRE MeDDEA FITS products (level 0 and 1) into the layout of an xarray Dataset.

The files (padre_meddea's ``calibration.process_file``; its ``docs/user-guide/level0.rst``):

============ ============================= ==================================================
BTYPE        HDUs                          the Dataset (``hdu=None``)
============ ============================= ==================================================
photon       SCI (events), PKT (packets)   SCI: one row per photon event, dimension ``time``
spectrum     SPEC (compressed image), PKT  SPEC: ``spectrum`` (time, pixel, energy_bin) with
                                           the PKT columns (asic, channel, ...) as coordinates
housekeeping HK, READ (register reads)     HK: one row per housekeeping packet
============ ============================= ==================================================

``hdu="PKT"`` (or ``"READ"``, or an index) opens another HDU as its own Dataset. Every
Dataset has a ``time`` coordinate (UTC) from the packet times, as padre_meddea's ``calc_time``
defines them: 2000-01-01T00:00:00 UTC + pkttimes s + pktclock × 0.05 µs (+ clocks × 12.8 µs for
photon events). Header cards become attributes (the primary header's, then the HDU's), except
the ones that only describe the table layout, which the variables themselves carry.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from typing import Any, BinaryIO

import numpy as np
from astropy.io import fits

from .errors import SOCDataError
from .layout import FileLayout, VarLayout
from .source import ByteCache, Source
from .times import padre_time

PRODUCTS = {  # BTYPE -> (the HDU opened by default, the HDUs such a file has)
    "photon": ("SCI", ("SCI", "PKT")),
    "spectrum": ("SPEC", ("SPEC", "PKT")),
    "housekeeping": ("HK", ("HK", "READ")),
}

# Units of the level-0 columns, which the files leave blank. From padre_meddea: level0.rst
# (atod/baseline "in ADC counts"), util.calc_time (tick lengths), spectrum/raw.py
# (rate = hits / (inttime × 12.8 µs)), housekeeping/hk_packet_def.csv and
# padre_meddea_calib_hk_0.csv (which housekeeping values are raw ADC readings until
# padre_meddea.housekeeping.calibration converts them, and into what).
COLUMN_UNITS = {
    "pkttimes": "s",
    "timestamp": "s",
    "pktclock": "0.05 us",
    "clocks": "12.8 us",
    "atod": "adu",
    "baseline": "adu",
    "livetime": "12.8 us",
    "inttime": "12.8 us",
    "num_hits": "count",
    "rate": "count/s",
    "corr_rate": "count/s",
    "hit_rate": "count/s",
    "decimation_rate": "count/s",
    "good_cmd_cnt": "count",
    "error_cnt": "count",
    "spectrum": "count",
}
RAW_HOUSEKEEPING_UNITS = {  # raw ADC readings -> the unit after padre_meddea's calibration
    "fp_temp": "deg_C",
    "dib_temp": "deg_C",
    "hvps_temp": "deg_C",
    "hvps_vsense": "V",
    "hvps_csense": "nA",
    "csense_15v": "mA",
    "csense_33vd": "mA",
    "csense_33va": "mA",
    "heater_pwm_duty_cycle": "percent",
}

# Header cards that describe the binary layout (the variables carry what they mean).
_LAYOUT_CARDS = (
    "SIMPLE", "BITPIX", "EXTEND", "XTENSION", "PCOUNT", "GCOUNT", "TFIELDS", "CHECKSUM",
    "DATASUM", "THEAP",
)  # fmt: skip
_LAYOUT_PREFIXES = ("NAXIS", "TTYPE", "TFORM", "TZERO", "TSCAL", "TDIM", "TUNIT", "TNULL",
                    "TDISP", "TCTYP", "TCUNI", "ZIMAGE", "ZCMPTYPE", "ZBITPIX", "ZNAXIS", "ZTILE",
                    "ZNAME", "ZVAL", "ZQUANTIZ", "ZDITHER", "ZSIMPLE", "ZEXTEND", "ZPCOUNT",
                    "ZGCOUNT", "ZHECKSUM", "ZDATASUM", "ZTENSION", "ZBLOCKED")  # fmt: skip


_BITPIX = {8: "u1", 16: "i2", 32: "i4", 64: "i8", -32: "f4", -64: "f8"}


@dataclass
class FITSColumn:
    """Where a variable's values are: an HDU and a column of it (None: the image)."""

    hdu: str
    column: str | None


def read_fits(
    source: Source,
    fileobj: BinaryIO,
    whole: bytes | None,
    *,
    variables: list[str] | None = None,
    hdu: str | int | None = None,
) -> FileLayout:
    """Index one PADRE MeDDEA FITS file: headers and time now, data columns later."""
    name = source.name
    hdul = _open_checked(fileobj, source, whole)
    try:
        primary = hdul[0].header
        btype = str(primary.get("BTYPE", "")).strip().lower()
        names = [h.name.upper() for h in hdul]
        if btype not in PRODUCTS:
            raise SOCDataError(
                name,
                f"BTYPE = {primary.get('BTYPE')!r} in the primary header; a PADRE MeDDEA "
                f"product says one of {', '.join(PRODUCTS)} (other FITS files: astropy.io.fits)",
            )
        default, expected = PRODUCTS[btype]
        for needed in expected:
            if needed not in names:
                raise SOCDataError(
                    name,
                    f"no {needed!r} HDU (it has {', '.join(names)}); a PADRE MeDDEA "
                    f"{btype} file has {' and '.join(expected)}",
                )
        chosen = _choose(hdul, names, hdu, default, name)
        layout = FileLayout(source=source, format="fits", attrs={})
        layout.attrs.update(_header_attrs(primary))
        layout.attrs.update(_header_attrs(hdul[chosen].header))
        layout.attrs["hdu"] = chosen
        layout.attrs["hdus"] = [n for n in names if n != "PRIMARY"]
        if chosen == "SPEC":
            _add_spectrum(layout, hdul, name)
        elif hdul[chosen].is_image:
            raise SOCDataError(name, f"HDU {chosen!r} is an image without a time axis")
        else:
            _add_table(layout, hdul[chosen], chosen, name, photons=chosen == "SCI")
        layout.signature = (
            "fits",
            btype,
            chosen,
            tuple((v.name, v.shape[1:], str(v.dtype)) for v in layout.variables.values()),
        )
    finally:
        hdul.close()
    if variables is not None:
        _select(layout, variables, name)
    if whole is not None:
        layout.whole = whole
    return layout


def _open_checked(fileobj: BinaryIO, source: Source, whole: bytes | None) -> fits.HDUList:
    size = len(whole) if whole is not None else source.size
    if size % 2880:
        raise SOCDataError(
            source.name,
            f"the file is truncated: {size} bytes, but FITS files are made of whole "
            "2880-byte blocks; fetch it again from the archive",
        )
    _check_sizes(fileobj, size, source.name)
    fileobj.seek(0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            hdul = fits.open(fileobj, memmap=False, lazy_load_hdus=False, checksum=True)
        except Exception as err:
            raise SOCDataError(
                source.name, f"cannot be read as FITS ({type(err).__name__}: {err})"
            ) from err
    for w in caught:
        text = str(w.message)
        if "hecksum" in text or "truncated" in text:
            hdul.close()
            raise SOCDataError(source.name, f"the file is corrupted or truncated: {text}")
    end = max(hdul.fileinfo(i)["datLoc"] + hdul.fileinfo(i)["datSpan"] for i in range(len(hdul)))
    if end != size:
        hdul.close()
        # astropy stops quietly at an HDU it cannot read: bytes left over mean one was lost.
        raise SOCDataError(
            source.name,
            f"the file is truncated or corrupted: {size} bytes, but its readable HDUs end at "
            f"byte {end}; fetch it again from the archive",
        )
    return hdul


def _check_sizes(fileobj: BinaryIO, size: int, name: str) -> None:
    """Walk the HDUs' headers: each HDU's data must be in the file (astropy reports a cut
    file differently, or not at all, depending on where the cut is)."""
    pos = 0
    while pos < size:
        fileobj.seek(pos)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                header = fits.Header.fromfile(fileobj)
        except Exception as err:
            raise SOCDataError(
                name,
                f"the file is truncated or corrupted: no readable FITS header at byte "
                f"{pos} ({type(err).__name__}: {err}); fetch it again from the archive",
            ) from err
        start = fileobj.tell()
        naxis = int(header.get("NAXIS", 0))
        elements = 0
        if naxis:
            elements = 1
            for i in range(1, naxis + 1):
                elements *= int(header.get(f"NAXIS{i}", 0))
        bits = abs(int(header.get("BITPIX", 8)))
        nbytes = (
            bits // 8 * int(header.get("GCOUNT", 1)) * (int(header.get("PCOUNT", 0)) + elements)
        )
        pos = start + -(-nbytes // 2880) * 2880
        if pos > size:
            raise SOCDataError(
                name,
                f"the file is truncated: {size} bytes, but the HDU whose header starts "
                f"before byte {start} needs {pos}; fetch it again from the archive",
            )


def _choose(
    hdul: fits.HDUList, names: list[str], hdu: str | int | None, default: str, name: str
) -> str:
    if hdu is None:
        return default
    if isinstance(hdu, int):
        if not 0 < hdu < len(names):
            raise SOCDataError(
                name,
                f"hdu={hdu}: the file has HDUs 1..{len(names) - 1} with data "
                f"({', '.join(names[1:])})",
            )
        return names[hdu]
    if str(hdu).upper() not in names or str(hdu).upper() == "PRIMARY":
        raise SOCDataError(
            name, f"hdu={hdu!r}: no such HDU with data; the file has {', '.join(names[1:])}"
        )
    return str(hdu).upper()


def _header_attrs(header: fits.Header) -> dict[str, Any]:
    attrs: dict[str, Any] = {}
    for card in header.cards:
        key = card.keyword
        if not key or key in _LAYOUT_CARDS or key.startswith(_LAYOUT_PREFIXES) or key == "EXTNAME":
            continue
        value = card.value
        if key in ("COMMENT", "HISTORY"):
            attrs[key] = [*attrs.get(key, []), str(value)]
            continue
        if isinstance(value, fits.card.Undefined):
            value = ""
        attrs[key] = value.item() if isinstance(value, np.generic) else value
    return attrs


def _column_values(data: Any, column: str) -> np.ndarray:
    values = np.asarray(data[column])
    if values.dtype.kind == "S":
        values = np.char.decode(values, "ascii", errors="replace").astype(str)
    return values.astype(values.dtype.newbyteorder("="), copy=False)


def _time_of(
    data: Any, columns: list[str], hdu: str, name: str, photons: bool, nrows: int
) -> np.ndarray:
    if nrows == 0:
        return np.zeros(0, "datetime64[ns]")
    if "pkttimes" in columns:
        clock = _column_values(data, "pktclock") if "pktclock" in columns else None
        ticks = _column_values(data, "clocks") if photons and "clocks" in columns else None
        return padre_time(_column_values(data, "pkttimes"), clock, ticks)
    if "timestamp" in columns:
        return padre_time(_column_values(data, "timestamp"))
    raise SOCDataError(
        name,
        f"HDU {hdu!r} has no pkttimes (or timestamp) column, so its rows have no time; "
        f"its columns are {', '.join(columns) or '(none)'}",
    )


def _add_table(
    layout: FileLayout,
    table: fits.BinTableHDU,
    hdu: str,
    name: str,
    *,
    photons: bool = False,
    as_coords: bool = False,
    pixel_dim: int | None = None,
) -> None:
    columns = list(table.columns.names) if table.columns is not None else []
    data = table.data
    nrows = int(table.header.get("NAXIS2", 0)) if columns else 0
    time = _time_of(data, columns, hdu, name, photons, nrows)
    if "time" not in layout.variables:
        layout.variables["time"] = VarLayout(
            name="time",
            dims=("time",),
            shape=time.shape,
            dtype=time.dtype,
            attrs={"description": _TIME_NOTE[photons]},
            coord=True,
            values=time,
            record_dim="time",
        )
    for col in table.columns if columns else []:
        var = "time_jd" if col.name == "time" else col.name  # "time" is the coordinate
        values = _column_values(data, col.name)
        extra = values.shape[1:]
        dims: tuple[str, ...] = ("time",)
        for i, n in enumerate(extra, start=1):
            dims += ("pixel",) if pixel_dim == n else (f"{var}_dim{i}",)
        attrs: dict[str, Any] = {}
        unit = (col.unit or "").strip() or COLUMN_UNITS.get(col.name)
        if col.name in RAW_HOUSEKEEPING_UNITS:
            unit = "adu"
            attrs["calibrated_units"] = RAW_HOUSEKEEPING_UNITS[col.name]
            attrs["description"] = (
                "raw ADC reading; padre_meddea.housekeeping.calibration converts it to "
                + RAW_HOUSEKEEPING_UNITS[col.name]
            )
        if unit:
            attrs["units"] = unit
        layout.variables[var] = VarLayout(
            name=var,
            dims=dims,
            shape=values.shape,
            dtype=values.dtype,
            attrs=attrs,
            coord=as_coords,
            values=values if as_coords else None,
            record_dim="time",
            reader=FITSColumn(hdu, col.name),
        )


_TIME_NOTE = {
    False: "UTC: 2000-01-01T00:00:00 UTC + pkttimes s + pktclock × 0.05 µs "
    "(padre_meddea calc_time)",
    True: "UTC: 2000-01-01T00:00:00 UTC + pkttimes s + pktclock × 0.05 µs + clocks × 12.8 µs "
    "(padre_meddea calc_time)",
}


def _add_spectrum(layout: FileLayout, hdul: fits.HDUList, name: str) -> None:
    spec, pkt = hdul["SPEC"], hdul["PKT"]
    # From the header, so the compressed image is not inflated before it is asked for.
    naxis = int(spec.header.get("NAXIS", 0))
    shape = tuple(int(spec.header[f"NAXIS{i}"]) for i in range(naxis, 0, -1))
    if len(shape) != 3:
        raise SOCDataError(name, f"SPEC has shape {shape}; expected (spectra, pixels, bins)")
    nrows = int(pkt.header.get("NAXIS2", 0))
    if nrows != shape[0]:
        raise SOCDataError(
            name,
            f"SPEC holds {shape[0]} spectra but PKT describes {nrows} packets; they must match",
        )
    _add_table(layout, pkt, "PKT", name, as_coords=True, pixel_dim=shape[1])
    layout.variables["spectrum"] = VarLayout(
        name="spectrum",
        dims=("time", "pixel", "energy_bin"),
        shape=shape,
        dtype=np.dtype(_BITPIX[int(spec.header["BITPIX"])]),
        attrs={
            "units": COLUMN_UNITS["spectrum"],
            "description": "summary spectra of 24 pixels, 512 energy bins each",
        },
        coord=False,
        values=None,
        record_dim="time",
        reader=FITSColumn("SPEC", None),
    )


def _select(layout: FileLayout, variables: list[str], name: str) -> None:
    missing = [v for v in variables if v not in layout.variables]
    if missing:
        raise SOCDataError(
            name,
            f"no variable {', '.join(map(repr, missing))}; this HDU has "
            f"{', '.join(layout.variables)}",
        )
    keep = set(variables) | {v.name for v in layout.variables.values() if v.coord}
    layout.variables = {k: v for k, v in layout.variables.items() if k in keep}


def read_column(
    source: Source,
    where: FITSColumn,
    *,
    cache: ByteCache | None = None,
    whole_object_bytes: int = 16 << 20,
) -> np.ndarray:
    """The values of one column (or of the image) of one HDU, read now."""
    whole = cache.take(source.name) if cache is not None else None
    try:
        fileobj: BinaryIO = (
            io.BytesIO(whole) if whole is not None else source.open(whole_object_bytes)[0]
        )
        with fits.open(fileobj, memmap=False) as hdul:
            hdu = hdul[where.hdu]
            if where.column is None:
                values = np.asarray(hdu.data)
                return values.astype(values.dtype.newbyteorder("="), copy=False)
            return _column_values(hdu.data, where.column).copy()
    except SOCDataError:
        raise
    except Exception as err:
        raise SOCDataError(
            source.name,
            f"cannot read {where.hdu}/{where.column or 'image'} ({type(err).__name__}: {err})",
        ) from err
