"""One file into one xarray Dataset: ``open_dataset``."""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from typing import Any

import numpy as np
import xarray as xr
from xarray.backends import BackendArray
from xarray.core import indexing

from ..config import Settings, current_settings
from .errors import SOCDataError
from .formats import HEAD_BYTES, detect_format, format_named
from .layout import DEFAULT_OPTIONS, FileLayout, ReadOptions, VarLayout
from .source import ByteCache, Source

Chunks = Mapping[Hashable, Any] | str | int | None


def open_dataset(
    path_or_url: Any,
    *,
    variables: list[str] | None = None,
    chunks: Chunks = None,
    hdu: str | int | None = None,
    storage_options: dict[str, Any] | None = None,
    mask_fill: bool = True,
    mask_invalid: bool = False,
    settings: Settings | None = None,
) -> xr.Dataset:
    """Open one HERMES/REACH CDF, PADRE MeDDEA FITS or PADRE spacecraft CSV file as a
    labelled Dataset.

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
    mask_fill
        True (default): values equal to a variable's FILLVAL become NaN, and integer
        variables with a FILLVAL become floating point (float32 up to 16-bit integers,
        float64 above), as xarray does with ``_FillValue``. False: the stored values, integers
        kept as integers.
    mask_invalid
        True: values outside VALIDMIN/VALIDMAX become NaN too. Default False: the valid range
        stays in the attributes only.
    settings
        The workspace settings (the store, ``io.*``); default: the settings in effect
        (:func:`soc_workspace.config.current_settings`).

    Returns
    -------
    xarray.Dataset
        CDF: ISTP variables with their attributes; DEPEND_0 time axes as ``datetime64[ns]``
        coordinates, DEPEND_i/LABL_PTR_i and support_data as coordinates, FILLVAL -> NaN.
        FITS: a ``time`` coordinate (UTC) and the HDU's columns with units. CSV
        housekeeping tables: a ``time`` coordinate and a variable per column.

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
    options = ReadOptions(mask_fill=mask_fill, mask_invalid=mask_invalid)
    ds = open_lazy(
        path_or_url,
        variables=variables,
        hdu=hdu,
        storage_options=storage_options,
        options=options,
        settings=settings,
    )
    if chunks is None:
        return ds.load()
    return ds.chunk(chunks)


def open_lazy(
    path_or_url: Any,
    *,
    variables: list[str] | None = None,
    hdu: str | int | None = None,
    storage_options: dict[str, Any] | None = None,
    options: ReadOptions = DEFAULT_OPTIONS,
    settings: Settings | None = None,
) -> xr.Dataset:
    """The Dataset with coordinates read and data variables read on first use (xarray's
    lazy indexing); what the ``soc`` engine returns."""
    settings = settings or current_settings()
    whole_bytes = int(settings.io.whole_object_mb * (1 << 20))
    source = Source.resolve(path_or_url, storage_options, settings=settings)
    layout = index_file(
        source, variables=variables, hdu=hdu, whole_object_bytes=whole_bytes, options=options
    )
    cache = ByteCache(settings.io.cache_mb * (1 << 20))
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
    options: ReadOptions = DEFAULT_OPTIONS,
) -> FileLayout:
    """Open a file and read its structure and coordinates (not its data variables)."""
    fileobj, whole = source.open(whole_object_bytes)
    try:
        if whole is not None:
            head = whole[:HEAD_BYTES]
            size = len(whole)
        else:
            fileobj.seek(0)
            head = fileobj.read(HEAD_BYTES)
            size = source.size
        reader = detect_format(head, source.name, size)
        layout = reader.index(
            source, fileobj, whole, variables=variables, hdu=hdu, template=template,
            options=options,
        )  # fmt: skip
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
                _LazyArray(
                    layout.format,
                    layout.source,
                    var,
                    layout.reader_state,
                    cache,
                    whole_object_bytes,
                )
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
    file_format: str,
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
    reader = format_named(file_format)
    return reader.read(source, var, state, start, stop, cache, whole_object_bytes, copy)


class _LazyArray(BackendArray):
    """One variable of one file, read when indexed: only the records asked for."""

    def __init__(
        self,
        file_format: str,
        source: Source,
        var: VarLayout,
        state: Any,
        cache: ByteCache,
        whole_object_bytes: int,
    ) -> None:
        self.format, self.source, self.var, self.state = file_format, source, var, state
        self.cache, self.whole_object_bytes = cache, whole_object_bytes
        self.shape = var.shape
        self.dtype = var.dtype

    def __getitem__(self, key: indexing.ExplicitIndexer) -> np.ndarray:
        return indexing.explicit_indexing_adapter(
            key, self.shape, indexing.IndexingSupport.BASIC, self._getitem
        )

    def _getitem(self, key: tuple[Any, ...]) -> np.ndarray:
        if not self.shape:
            return read_variable(self.format, self.source, self.var, self.state, 0, 0,
                                 self.cache, self.whole_object_bytes)[key]  # fmt: skip
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
            self.format, self.source, self.var, self.state, lo, hi, self.cache,
            self.whole_object_bytes,
        )  # fmt: skip
        if isinstance(first, slice):
            picked = block[slice(rows[0] - lo, None, rows.step)][: len(rows)] if rows else block[:0]
        else:
            picked = block[0]
        return np.asarray(picked[(slice(None),) * (1 if isinstance(first, slice) else 0) + rest])
