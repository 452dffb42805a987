"""One file into one xarray Dataset: ``open_dataset``."""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from typing import Any

import numpy as np
import xarray as xr
from xarray.backends import BackendArray
from xarray.core import indexing

from ..config import load_settings
from .cdf import read_cdf, read_records
from .errors import SOCDataError
from .fits import read_column, read_fits
from .layout import FileLayout, VarLayout
from .sniff import detect_format
from .source import ByteCache, Source

Chunks = Mapping[Hashable, Any] | str | int | None


def open_dataset(
    path_or_url: Any,
    *,
    variables: list[str] | None = None,
    chunks: Chunks = None,
    hdu: str | int | None = None,
    storage_options: dict[str, Any] | None = None,
) -> xr.Dataset:
    """Open one HERMES CDF or PADRE MeDDEA FITS file as a labelled Dataset.

    Parameters
    ----------
    path_or_url
        A local path, an ``s3://bucket/key`` URL (reached with the workspace's store settings,
        see ``soc-workspace config show``), any other fsspec URL, or an open file object.
    variables
        Only these variables (with the coordinates they need). Default: all.
    chunks
        None (default): read the values now. A dict such as ``{"Epoch": 1000}``, ``"auto"``
        or ``{}`` (one chunk per variable): a lazy Dataset backed by Dask; each chunk reads
        only the bytes of its records.
    hdu
        FITS only: which HDU to open (name or index). Default: the product's data HDU
        (SCI for photon lists, SPEC for spectra, HK for housekeeping). ``ds.attrs["hdus"]``
        lists the others.
    storage_options
        Extra fsspec/s3fs options, on top of the store settings.

    Returns
    -------
    xarray.Dataset
        CDF: ISTP variables with their attributes; DEPEND_0 time axes as ``datetime64[ns]``
        coordinates, DEPEND_i/LABL_PTR_i and support_data as coordinates, float FILLVAL -> NaN.
        FITS: a ``time`` coordinate (UTC) and the HDU's columns with units.

    Raises
    ------
    SOCDataError
        When the file is empty, truncated, not CDF/FITS (NetCDF, HDF5, raw telemetry, text),
        or its ISTP attributes or FITS structure are broken. The message names the file.

    Examples
    --------
    >>> import soc_workspace as soc
    >>> ds = soc.open_dataset("s3://hermes-eea/l1/unknown/2025/06/01/"
    ...                       "hermes_eea_l1_20250601T000000_v1.0.0.cdf")  # doctest: +SKIP
    >>> ds["hermes_eea_accum"].sel(Epoch="2025-06-01T00:10")  # doctest: +SKIP
    """
    ds = open_lazy(path_or_url, variables=variables, hdu=hdu, storage_options=storage_options)
    if chunks is None:
        return ds.load()
    return ds.chunk(chunks)


def open_lazy(
    path_or_url: Any,
    *,
    variables: list[str] | None = None,
    hdu: str | int | None = None,
    storage_options: dict[str, Any] | None = None,
) -> xr.Dataset:
    """The Dataset with coordinates read and data variables read on first use (xarray's
    lazy indexing); what the ``soc`` engine returns."""
    settings = load_settings().io
    whole_bytes = int(settings.whole_object_mb * (1 << 20))
    source = Source.resolve(path_or_url, storage_options)
    layout = index_file(source, variables=variables, hdu=hdu, whole_object_bytes=whole_bytes)
    cache = ByteCache(settings.cache_mb * (1 << 20))
    if layout.whole is not None:
        cache.offer(source.name, layout.whole, len(layout.lazy_variables))
        layout.whole = None
    return layout_to_dataset(layout, cache, whole_bytes)


def index_file(
    source: Source,
    *,
    variables: list[str] | None = None,
    hdu: str | int | None = None,
    whole_object_bytes: int,
    template: FileLayout | None = None,
) -> FileLayout:
    """Open a file and read its structure and coordinates (not its data variables)."""
    fileobj, whole = source.open(whole_object_bytes)
    try:
        if whole is not None:
            head = whole[:2880]
            size = len(whole)
        else:
            fileobj.seek(0)
            head = fileobj.read(2880)
            size = source.size
        kind = detect_format(head, source.name, size)
        if kind == "cdf":
            if hdu is not None:
                raise SOCDataError(source.name, f"hdu={hdu!r} is for FITS files; this is a CDF")
            layout = read_cdf(source, fileobj, whole, variables=variables, template=template)
        else:
            layout = read_fits(source, fileobj, whole, variables=variables, hdu=hdu)
        if source.is_local:
            layout.whole = None  # local reads of just the needed bytes are cheap: keep nothing
        return layout
    finally:
        fileobj.close()


def layout_to_dataset(layout: FileLayout, cache: ByteCache, whole_object_bytes: int) -> xr.Dataset:
    """A Dataset whose data variables are read on first access (xarray's lazy indexing)."""
    coords: dict[str, xr.Variable] = {}
    data_vars: dict[str, xr.Variable] = {}
    for var in layout.variables.values():
        if var.values is not None:
            data: Any = var.values
        else:
            data = indexing.LazilyIndexedArray(
                _LazyArray(layout.source, var, layout.reader_state, cache, whole_object_bytes)
            )
        variable = xr.Variable(var.dims, data, attrs=var.attrs)
        (coords if var.coord else data_vars)[var.name] = variable
    try:
        ds = xr.Dataset(data_vars, coords=coords, attrs=layout.attrs)
    except ValueError as err:  # e.g. one dimension with two lengths: broken ISTP attributes
        raise SOCDataError(layout.source.name, f"inconsistent dimensions ({err})") from err
    ds.encoding["source"] = layout.source.name
    return ds


def read_variable(
    source: Source,
    var: VarLayout,
    state: Any,
    start: int,
    stop: int,
    cache: ByteCache | None,
    whole_object_bytes: int,
    copy: bool = True,
) -> np.ndarray:
    """Records ``start:stop`` of a data variable (all of it when it has no record dimension).

    ``copy=False`` may return a read-only view of fetched bytes, for callers that copy anyway.
    """
    if var.reader is None:
        raise SOCDataError(source.name, f"variable {var.name!r} has no data to read")
    if hasattr(var.reader, "blocks"):  # a CDF variable
        if var.record_dim is None:
            raise SOCDataError(source.name, f"variable {var.name!r} should have been read already")
        if stop <= start:
            return np.zeros((0, *var.shape[1:]), var.dtype)
        return read_records(
            source, var.reader, state, start, stop, cache=cache,
            whole_object_bytes=whole_object_bytes,
            copy=copy,
        )  # fmt: skip
    values = read_column(source, var.reader, cache=cache, whole_object_bytes=whole_object_bytes)
    if values.shape != var.shape:
        raise SOCDataError(
            source.name, f"variable {var.name!r} has shape {values.shape}, expected {var.shape}"
        )
    return values[start:stop] if var.record_dim is not None else values


class _LazyArray(BackendArray):
    """One variable of one file, read when indexed: only the records asked for."""

    def __init__(
        self,
        source: Source,
        var: VarLayout,
        state: Any,
        cache: ByteCache,
        whole_object_bytes: int,
    ) -> None:
        self.source, self.var, self.state = source, var, state
        self.cache, self.whole_object_bytes = cache, whole_object_bytes
        self.shape = var.shape
        self.dtype = var.dtype

    def __getitem__(self, key: indexing.ExplicitIndexer) -> np.ndarray:
        return indexing.explicit_indexing_adapter(
            key, self.shape, indexing.IndexingSupport.BASIC, self._getitem
        )

    def _getitem(self, key: tuple[Any, ...]) -> np.ndarray:
        if not self.shape:
            return read_variable(self.source, self.var, self.state, 0, 0, self.cache,
                                 self.whole_object_bytes)[key]  # fmt: skip
        first, rest = key[0], key[1:]
        n = self.shape[0]
        if isinstance(first, slice):
            start, stop, step = first.indices(n)
            rows = range(start, stop, step)
        else:
            rows = range(int(first) % n, int(first) % n + 1)
        if len(rows) == 0:
            lo = hi = 0
        else:
            lo, hi = min(rows[0], rows[-1]), max(rows[0], rows[-1]) + 1
        block = read_variable(
            self.source, self.var, self.state, lo, hi, self.cache, self.whole_object_bytes
        )
        if isinstance(first, slice):
            picked = block[slice(rows[0] - lo, None, rows.step)][: len(rows)] if rows else block[:0]
        else:
            picked = block[0]
        return np.asarray(picked[(slice(None),) * (1 if isinstance(first, slice) else 0) + rest])
