"""The reader contract: one small class per file format, as xarray keeps one module per
engine behind ``BackendEntrypoint``.

A format says whether it reads a file (``detect``, from its first bytes and name), reads its
structure and coordinates (``index``, a :class:`~.layout.FileLayout`), and later the records
of one of its data variables (``read``). ``open_dataset``, ``open_mfdataset``, the xarray
backend and ``calibration.compare`` all choose the format with :func:`detect_format`, so a file
is recognised (or refused, with the same :class:`~.errors.SOCDataError`) the same way
everywhere.
"""

from __future__ import annotations

from typing import Any, BinaryIO, ClassVar

import numpy as np

from .errors import SOCDataError
from .layout import FileLayout, ReadOptions, VarLayout
from .sniff import HEAD_BYTES, refuse
from .source import ByteCache, Source


class FileFormat:
    """Base class of the readers; subclasses set ``name`` and override the three methods."""

    name: ClassVar[str]

    def detect(self, head: bytes, name: str, size: int) -> bool:
        """True when the file whose first bytes are ``head`` is of this format."""
        raise NotImplementedError

    def index(
        self,
        source: Source,
        fileobj: BinaryIO,
        whole: bytes | None,
        *,
        variables: list[str] | None,
        hdu: str | int | None,
        template: FileLayout | None,
        options: ReadOptions,
    ) -> FileLayout:
        """The file's structure, its coordinates read, its data variables to read later."""
        raise NotImplementedError

    def read(
        self,
        source: Source,
        var: VarLayout,
        state: Any,
        start: int,
        stop: int,
        cache: ByteCache | None,
        whole_object_bytes: int,
        copy: bool,
    ) -> np.ndarray:
        """Records ``start:stop`` of a data variable (all of it when it has none)."""
        raise NotImplementedError

    def __reduce__(self) -> tuple[Any, tuple[str]]:
        return (format_named, (self.name,))


class CDFFormat(FileFormat):
    """NASA CDF (ISTP): HERMES and REACH products."""

    name = "cdf"

    def detect(self, head: bytes, name: str, size: int) -> bool:
        from .sniff import is_cdf

        return is_cdf(head, name, size)

    def index(self, source, fileobj, whole, *, variables, hdu, template, options):
        from .cdf import read_cdf

        if hdu is not None:
            raise SOCDataError(source.name, f"hdu={hdu!r} is for FITS files; this is a CDF")
        return read_cdf(
            source, fileobj, whole, variables=variables, template=template, options=options
        )

    def read(self, source, var, state, start, stop, cache, whole_object_bytes, copy):
        from .cdf import read_records

        if var.record_dim is None:
            raise SOCDataError(source.name, f"variable {var.name!r} should have been read already")
        return read_records(
            source, var.reader, state, start, stop, cache=cache,
            whole_object_bytes=whole_object_bytes, copy=copy,
        )  # fmt: skip


class FITSFormat(FileFormat):
    """FITS (SOLARNET): PADRE MeDDEA products."""

    name = "fits"

    def detect(self, head: bytes, name: str, size: int) -> bool:
        from .sniff import FITS_MAGIC

        return head[:9] == FITS_MAGIC

    def index(self, source, fileobj, whole, *, variables, hdu, template, options):
        from .fits import read_fits

        return read_fits(source, fileobj, whole, variables=variables, hdu=hdu)

    def read(self, source, var, state, start, stop, cache, whole_object_bytes, copy):
        from .fits import read_column

        values = read_column(source, var.reader, cache=cache, whole_object_bytes=whole_object_bytes)
        if values.shape != var.shape:
            raise SOCDataError(
                source.name, f"variable {var.name!r} has shape {values.shape}, expected {var.shape}"
            )
        return values[start:stop] if var.record_dim is not None else values


class TableFormat(FileFormat):
    """CSV housekeeping tables: the PADRE spacecraft's telemetry exports."""

    name = "csv"

    def detect(self, head: bytes, name: str, size: int) -> bool:
        from .tables import is_housekeeping_table

        return is_housekeeping_table(head, name)

    def index(self, source, fileobj, whole, *, variables, hdu, template, options):
        from .tables import read_table

        if hdu is not None:
            raise SOCDataError(source.name, f"hdu={hdu!r} is for FITS files; this is a CSV table")
        return read_table(source, fileobj, whole, variables=variables)

    def read(self, source, var, state, start, stop, cache, whole_object_bytes, copy):
        raise SOCDataError(source.name, f"variable {var.name!r} should have been read already")


FORMATS: dict[str, FileFormat] = {f.name: f for f in (CDFFormat(), FITSFormat(), TableFormat())}


def format_named(name: str) -> FileFormat:
    return FORMATS[name]


def detect_format(head: bytes, name: str, size: int) -> FileFormat:
    """The format of the file whose first bytes (``HEAD_BYTES`` of them) are ``head``.

    Raises :class:`SOCDataError` naming ``name`` for anything else: an empty file, NetCDF,
    HDF5, raw telemetry, or bytes that are no known format.
    """
    for fmt in FORMATS.values():
        if fmt.detect(head, name, size):
            return fmt
    refuse(head, name, size)
    raise AssertionError("unreachable")  # refuse always raises


__all__ = ["FORMATS", "HEAD_BYTES", "FileFormat", "detect_format"]
