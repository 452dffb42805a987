"""Which reader a file needs, from its first bytes (never from its name alone).

NASA CDF and NetCDF-3 both start with the letters "CDF", so the extension and the first three
bytes are not enough; the real magic numbers are:

- CDF: first word 0xCDF30001 (v3), 0xCDF26002 (v2.6/2.7) or 0x0000FFFF (v2.5 and older),
  second word 0x0000FFFF (uncompressed) or 0xCCCC0001 (whole-file compressed);
- NetCDF classic: ``CDF\\x01`` (classic), ``CDF\\x02`` (64-bit offsets), ``CDF\\x05`` (CDF-5);
- HDF5 (and NetCDF-4): ``\\x89HDF\\r\\n\\x1a\\n``;
- FITS: the first 80-byte card is ``SIMPLE  =``.
"""

from __future__ import annotations

from .errors import SOCDataError

HEAD_BYTES = 2880  # one FITS block: enough to recognise every format here

CDF_MAGIC = {b"\xcd\xf3\x00\x01": "3", b"\xcd\xf2\x60\x02": "2.6", b"\x00\x00\xff\xff": "2.5"}
CDF_UNCOMPRESSED = b"\x00\x00\xff\xff"
CDF_COMPRESSED = b"\xcc\xcc\x00\x01"
NETCDF3_MAGIC = {b"CDF\x01": "classic", b"CDF\x02": "64-bit offset", b"CDF\x05": "CDF-5"}
HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"
FITS_MAGIC = b"SIMPLE  ="


def is_cdf(head: bytes, name: str, size: int) -> bool:
    """True for a NASA CDF; a SOCDataError for an empty file or a broken CDF header."""
    _refuse_empty(name, size)
    if head[:4] not in CDF_MAGIC:
        return False
    if len(head) < 8 or size < 8:
        raise SOCDataError(name, f"the file is truncated: {size} bytes, not even a CDF header")
    if head[4:8] not in (CDF_UNCOMPRESSED, CDF_COMPRESSED):
        raise SOCDataError(
            name,
            f"corrupted CDF header: the second magic word is 0x{head[4:8].hex()}, "
            "expected 0x0000FFFF (uncompressed) or 0xCCCC0001 (compressed)",
        )
    return True


def _refuse_empty(name: str, size: int) -> None:
    if size == 0:
        raise SOCDataError(
            name,
            "the file is empty (0 bytes); it was probably cut off while being written or "
            "copied: fetch it again from the archive",
        )


def refuse(head: bytes, name: str, size: int) -> None:
    """Raise the :class:`SOCDataError` that says what a file no reader takes is instead:
    empty, NetCDF-3, HDF5, raw telemetry, or unknown bytes."""
    _refuse_empty(name, size)
    if head[:4] in NETCDF3_MAGIC:
        kind = NETCDF3_MAGIC[head[:4]]
        raise SOCDataError(
            name,
            f"this is a NetCDF-3 ({kind}) file, not a NASA CDF (both start with 'CDF'; "
            "NASA CDF's magic number is 0xCDF30001): open it with xarray.open_dataset(path)",
        )
    if head[:8] == HDF5_MAGIC:
        raise SOCDataError(
            name,
            "this is an HDF5 file (or NetCDF-4, which is HDF5), not CDF or FITS: open it "
            "with xarray.open_dataset(path, engine='h5netcdf') or h5py",
        )
    raw = _raw_telemetry(head, name, size)
    if raw:
        raise SOCDataError(
            name,
            f"this is raw telemetry ({raw}), not a data product: run the mission's "
            "calibration on it first (the pipeline's process_file, or a rerun in the workspace) "
            "and open the CDF or FITS file it makes",
        )
    raise SOCDataError(
        name,
        "not a CDF file (magic 0xCDF30001, 0xCDF26002 or 0x0000FFFF) nor a FITS file "
        f"(starts with 'SIMPLE  =') nor a known housekeeping table; it starts with {head[:16]!r}",
    )


def _raw_telemetry(head: bytes, name: str, size: int) -> str:
    """What kind of raw file this is ("" when it is not one), from its name or its packets."""
    from ..missions import parse_filename

    base = name.rstrip("/").rsplit("/", 1)[-1]
    try:
        info = parse_filename(base)
    except ValueError:
        info = None
    if info is not None and info.extension.lower() not in ("cdf", "fits"):
        return f"{info.mission.upper()} {info.instrument} level {info.level} packets"
    apid = _ccsds_apid(head, size)
    if apid is not None:
        return f"CCSDS space packets, APID 0x{apid:03X}"
    return ""


def _ccsds_apid(head: bytes, size: int) -> int | None:
    """The APID when ``head`` starts with two CCSDS packets of one APID (or one whole-file one)."""
    if len(head) < 6 or head[0] >> 5 != 0:
        return None
    apid = int.from_bytes(head[0:2], "big") & 0x7FF
    length = int.from_bytes(head[4:6], "big") + 7
    if length == size:
        return apid
    nxt = head[length : length + 6]
    if len(nxt) < 6 or nxt[0] >> 5 != 0 or int.from_bytes(nxt[0:2], "big") & 0x7FF != apid:
        return None
    return apid
