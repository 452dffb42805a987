"""PADRE MeDDEA FITS files with the HDUs, columns and header keywords of the real l0 files.

========  ==========================  ===================================================
product   HDUs                        as in the real ``padre_meddea_l0_*_v1.0.0.fits``
========  ==========================  ===================================================
photon    PRIMARY, SCI, PKT           SCI: one row a hit; PKT: one row a packet
spectrum  PRIMARY, SPEC, PKT          SPEC: float64 (packet, 24, 512) GZIP_1 tile-compressed,
                                      quantized (NOISEBIT 16, no dither)
hk        PRIMARY, HK, READ           READ: empty (no register reads in the demo)
========  ==========================  ===================================================

Headers carry no wall-clock time (DATE is the data day) and no CHECKSUM cards (their comments
carry the wall clock), so the same arguments always write the same bytes.
"""

from __future__ import annotations

import functools
import gzip
import io
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime

import astropy
import numpy as np
from astropy.io import fits

from .. import __version__
from . import ccsds
from .istp import tt2000_to_iso

INFO_URL = "https://padre-meddea.readthedocs.io/en/latest/user-guide/data.html"
SYNTHETIC = "Synthetic soc-workspace demo data: not a PADRE measurement."
HDU_NAMES = {
    "photon": ("SCI", "PKT"),
    "spectrum": ("SPEC", "PKT"),
    "housekeeping": ("HK", "READ"),
}


@dataclass
class Tables:
    """The content of one MeDDEA file: HDU name -> columns (dict), image (array) or None."""

    product: str
    tables: dict[str, dict[str, np.ndarray] | np.ndarray | None]
    origin: list[str] = field(default_factory=list)  # ORIGFILE: the files this was made from
    apid: int = 0


def concatenate(parts: Sequence[Tables], names: Sequence[str]) -> Tables:
    """The daily l1 of a product: its l0 tables one after the other (``names`` = the l0 files)."""
    first = parts[0]
    tables: dict[str, dict[str, np.ndarray] | np.ndarray | None] = {}
    for hdu, content in first.tables.items():
        if content is None:
            tables[hdu] = None
        elif isinstance(content, np.ndarray):
            tables[hdu] = np.concatenate([p.tables[hdu] for p in parts])  # type: ignore[misc]
        else:
            tables[hdu] = {
                col: np.concatenate([p.tables[hdu][col] for p in parts])  # type: ignore[index]
                for col in content
            }
    return Tables(first.product, tables, origin=list(names), apid=first.apid)


def fits_bytes(content: Tables, filename: str, level: str, day: datetime) -> bytes:
    """The FITS file of ``content``, as bytes."""
    begin, end, average = _time_range(content)
    common = _common_cards(content.product, day)
    primary = fits.Header(common)
    step = "PROCESS Raw to L0" if level == "l0" else "PROCESS L0 to L1 (daily concatenation)"
    primary.extend(
        [
            ("PRSTEP1", step, "Processing step type"),
            ("PRPROC1", "soc_workspace.demo", "Procedure performing PRSTEP1"),
            ("PRPVER1", __version__, "Version of procedure PRPROC1"),
            ("PRLIB1A", "soc_workspace", "Software library containing PRPROC1"),
            ("PRVER1A", __version__, "Version of PRLIB1A"),
            ("PRHSH1A", "", "GIT commit hash for PRLIB1A"),
            ("PRLIB1B", "astropy", "Software library used by PRPROC1"),
            ("PRVER1B", astropy.__version__, "Version of PRLIB1B"),
            ("PRHSH1B", "", "GIT commit hash for PRLIB1B"),
            ("PRLIB1C", "numpy", "Software library used by PRPROC1"),
            ("PRVER1C", np.__version__, "Version of PRLIB1C"),
            ("PRHSH1C", "", "GIT commit hash for PRLIB1C"),
            ("LEVEL", level, "Data level of fits file"),
            ("ORIGAPID", content.apid, "APID(s) of the originating data"),
            ("ORIGFILE", ", ".join(content.origin), ""),
            ("DATE-BEG", begin, "Acquisition start time"),
            ("DATE-END", end, "Acquisition end time"),
            ("DATE-AVG", average, "Average time of acquisition"),
            ("DATEREF", begin, "Reference date"),
            ("FILENAME", filename, "Filename"),
        ]
    )
    primary.add_comment(SYNTHETIC)
    hdus: list[fits.PrimaryHDU | fits.BinTableHDU | fits.CompImageHDU] = [
        fits.PrimaryHDU(header=primary)
    ]
    for name in HDU_NAMES[content.product]:
        header = fits.Header([("ORIGFILE", ", ".join(content.origin)), *common])
        header.extend(
            [
                ("OBS_HDU", 1, "Contains observational data"),
                ("SOLARNET", 0.5, "Solarnet compatibility"),
                ("BUNIT", "count" if name == "SPEC" else "", "Units"),
                ("DATE-BEG", begin, "Acquisition start time"),
                ("DATE-END", end, "Acquisition end time"),
                ("DATE-AVG", average, "Average time of acquisition"),
                ("DATEREF", begin, "Reference date"),
                ("FILENAME", filename, "Filename"),
            ]
        )
        hdus.append(_hdu(name, content.tables[name], header))
    buffer = io.BytesIO()
    with _reproducible_gzip():
        fits.HDUList(hdus).writeto(buffer, checksum=False)
    return buffer.getvalue()


@contextmanager
def _reproducible_gzip() -> Iterator[None]:
    """Make astropy's GZIP_1 tiles reproducible, and quicker to write.

    astropy compresses each tile with ``gzip.compress``, which stamps the wall clock into every
    tile's gzip header; pinning that time to 0 keeps the bytes the same for the same data.
    Level 1 instead of 9 halves the time of the spectra (the largest cost of the demo data)
    for files ~10 % larger; any GZIP level reads the same. ``tests/test_demo.py`` checks the
    bytes, so a change in astropy shows there.
    """
    from astropy.io.fits.hdu.compressed import _codecs

    original = _codecs.gzip_compress
    _codecs.gzip_compress = functools.partial(gzip.compress, compresslevel=1, mtime=0)
    try:
        yield
    finally:
        _codecs.gzip_compress = original


def _hdu(
    name: str, content: dict[str, np.ndarray] | np.ndarray | None, header: fits.Header
) -> fits.BinTableHDU | fits.CompImageHDU:
    if isinstance(content, np.ndarray):
        # as the real SPEC: one tile per spectrum row, lossy float quantization, no dithering
        return fits.CompImageHDU(
            content,
            header=header,
            name=name,
            compression_type="GZIP_1",
            quantize_level=16.0,
            quantize_method=fits.hdu.compressed.NO_DITHER,
            tile_shape=(1, 1, content.shape[-1]),
        )
    if content is None:
        return fits.BinTableHDU(data=None, header=header, name=name)
    # A structured array writes the same bytes as an astropy Table, in half the time.
    rows = np.empty(
        len(next(iter(content.values()))),
        dtype=[(col, values.dtype, values.shape[1:]) for col, values in content.items()],
    )
    for col, values in content.items():
        rows[col] = values
    return fits.BinTableHDU(rows, header=header, name=name)


def _common_cards(product: str, day: datetime) -> list[tuple[str, object, str]]:
    return [
        ("DATE", f"{day:%Y-%m-%d}", "Data day (no creation time: reproducible)"),
        ("AUTHOR", "soc-workspace demo", "Who designed the observation"),
        ("CREATOR", "soc_workspace.demo", "Software that produced the FITS file"),
        ("DATATAGS", "synthetic", "Data Tags"),
        ("DETECTOR", "meddea", "Name of the detector"),
        ("INFO_URL", INFO_URL, ""),
        ("INSTRUME", "MeDDEA", "Instrument name"),
        ("MISSION", "PADRE", "Mission name"),
        ("OBSRVTRY", "PADRE", "Name of the observatory"),
        ("ORIGIN", "soc-workspace", "File originator"),
        ("TELESCOP", "PADRE/MeDDEA", "Telescope/Sensor name"),
        ("TIMESYS", "UTC", "Time scale of the time-related keywords"),
        ("BTYPE", product, "Data label"),
    ]


def _time_range(content: Tables) -> tuple[str, str, str]:
    """DATE-BEG, DATE-END, DATE-AVG (UTC, ms) of the packets, or of the hits for photons."""
    tables = content.tables
    table = tables.get("SCI") or tables.get("PKT") or tables.get("HK")
    assert isinstance(table, dict)
    seconds = table["pkttimes"]
    ticks = table.get("pktclock", np.zeros_like(seconds))
    times = ccsds.packet_tt2000(seconds, ticks)
    if "clocks" in table:
        times = times + np.rint(table["clocks"] * 12_800).astype(np.int64)
    begin, end = int(times.min()), int(times.max())
    return tt2000_to_iso(begin), tt2000_to_iso(end), tt2000_to_iso((begin + end) // 2)
