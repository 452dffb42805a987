"""CDF files into the layout of an xarray Dataset: the glue between the file format
(:mod:`.cdf_format`: byte ranges, pycdfpp for the rest) and the ISTP conventions (:mod:`.istp`).

Indexing a file reads its structure and coordinates; data variables are read later, each
chunk as exactly the bytes of its records. Files of one structure (the usual month of files)
reuse the first file's attributes and ISTP plan: the others are indexed in about a millisecond.
"""

from __future__ import annotations

import io
import threading
import warnings
from dataclasses import dataclass
from typing import Any, BinaryIO

import numpy as np

from . import cdf_format as fmt
from .cdf_format import CDFVariable
from .errors import SOCDataError, SOCDataWarning
from .istp import (
    Plan,
    final_dtype,
    finish,
    istp_dims,
    masked_dtype,
    valid_range,
    variable_attrs,
)
from .layout import DEFAULT_OPTIONS, FileLayout, ReadOptions, VarLayout
from .source import ByteCache, Source

__all__ = ["CDFFile", "CDFVariable", "decode_whole", "read_cdf", "read_records"]

# cdflib is not thread-safe (mutable default arguments, dtype strings parsed with ``ast``).
CDFLIB_LOCK = threading.RLock()


@dataclass
class CDFFile:
    """What a reader of a CDF needs besides its source: set when the file is indexed."""

    version: int
    compressed_file: bool  # whole-file compressed: ranges refer to the inflated bytes
    plan: Plan | None = None  # the ISTP dimensions, shared by files of one structure
    variables: list[str] | None = None
    options: ReadOptions = DEFAULT_OPTIONS


def read_cdf(
    source: Source,
    fileobj: BinaryIO,
    whole: bytes | None,
    *,
    variables: list[str] | None = None,
    template: FileLayout | None = None,
    options: ReadOptions = DEFAULT_OPTIONS,
) -> FileLayout:
    """Index one CDF file: its ISTP structure, time axes and coordinates (read now), and where
    each data variable's records are (read later).

    ``template``, the layout of an earlier file with the same variables, saves reading the
    attributes and constants again: open_mfdataset reads those from the first file of a
    dataset only.
    """
    name = source.name
    fileobj.seek(0)
    compressed_file = fmt.is_compressed(fileobj.read(8))
    if compressed_file:
        whole = _inflated(source, fileobj, whole)
        fileobj = io.BytesIO(whole)
    read = fmt.Bytes(fileobj, whole)
    header = fmt.read_header(read, source, compressed_file)
    try:
        specs = fmt.read_variables(read, header, source)
        signature = (
            tuple((v, s.cdf_type, s.shape, s.nrecs is None) for v, s in specs.items()),
            fmt.structure_attributes(read, header, source),
        )
    except SOCDataError:
        raise
    except Exception as err:
        raise SOCDataError(name, f"cannot be read as a CDF ({type(err).__name__}: {err})") from err
    state = CDFFile(
        version=header.version, compressed_file=compressed_file, variables=variables,
        options=options,
    )  # fmt: skip
    reuse = (
        template is not None
        and template.signature == signature
        and template.reader_state.variables == variables
        and template.reader_state.options == options
    )
    library: Any = None  # pycdfpp's view of the file, made when needed
    if reuse:
        attrs, var_attrs, plan = template.attrs, template.raw_attrs, template.reader_state.plan
    else:
        library = _library(source, fileobj, whole)
        attrs, var_attrs = _attributes(source, fileobj, library)
        missing = set(specs) - set(var_attrs)
        if missing:  # our index and the library disagree: the file is not what it says
            raise SOCDataError(
                name, f"cannot read the attributes of {', '.join(sorted(missing))}: corrupted"
            )
        plan = istp_dims(name, specs, var_attrs, variables)
    state.plan = plan
    for v, spec in specs.items():
        spec.fill = var_attrs[v].get("FILLVAL") if options.mask_fill else None
        spec.valid = valid_range(var_attrs[v], options.mask_invalid)
        spec.masked_dtype = masked_dtype(spec, var_attrs[v], options.mask_fill,
                                         options.mask_invalid)  # fmt: skip

    layout = FileLayout(
        source=source, format="cdf", attrs=attrs, signature=signature, raw_attrs=var_attrs
    )
    layout.reader_state = state

    def fetch(ranges: list[tuple[int, int]]) -> list[Any]:
        return [read(a, b - a) for a, b in ranges]

    leap: list[int] = []
    try:
        for v in plan.order:
            spec = specs[v]
            if spec.written:
                fmt.index_blocks(read, spec, header, source)
            values = None
            if v in plan.eager:
                if reuse and spec.nrecs is None:  # a constant: the dataset keeps the first's
                    values = template.variables[v].values
                else:
                    if not spec.exact and library is None:
                        library = _library(source, fileobj, whole)
                    values = _read_now(spec, fetch, source, library, leap)
            if spec.nrecs == 0:
                values = finish(np.zeros((0, *spec.shape), np.dtype(spec.dtype)), spec)
            layout.variables[v] = VarLayout(
                name=v,
                dims=plan.dims[v],
                shape=((spec.nrecs,) if spec.nrecs is not None else ()) + spec.shape,
                dtype=final_dtype(spec),
                # files of one structure share their (first file's) attributes
                attrs=template.variables[v].attrs if reuse else variable_attrs(var_attrs[v], spec),
                coord=v in plan.coords,
                values=values,
                record_dim=plan.dims[v][0] if spec.nrecs is not None else None,
                reader=spec,
            )
    except SOCDataError:
        raise
    except Exception as err:
        raise SOCDataError(
            name, f"cannot read its variables ({type(err).__name__}: {err})"
        ) from err
    if not reuse:
        for warning in plan.warnings:
            warnings.warn(f"{name}: {warning}", SOCDataWarning, stacklevel=3)
    if sum(leap):
        warnings.warn(
            f"{name}: {sum(leap)} record(s) fall inside a leap second (23:59:60.x UTC), which "
            "datetime64 cannot hold; they are labelled 23:59:59.999999999 so that the time "
            "index stays in order",
            SOCDataWarning,
            stacklevel=3,
        )
    if whole is not None and not compressed_file:
        layout.whole = whole
    return layout


def _inflated(source: Source, fileobj: BinaryIO, whole: bytes | None) -> bytes:
    """The inflated bytes of a whole-file compressed CDF, inflated once and kept for the
    chunks that read it later (``cdf_format.INFLATED``)."""

    def make() -> bytes:
        data = whole
        if data is None:
            fileobj.seek(0)
            data = fileobj.read()
        return fmt.inflate(data, source.name)

    return fmt.INFLATED.get((source.name, source.size), make)


def _library(source: Source, fileobj: BinaryIO, whole: bytes | None) -> Any:
    """pycdfpp over the file: its bytes in memory, or its path when local (memory-mapped)."""
    if whole is not None:
        return fmt.load_with_pycdfpp(whole, source.name)
    if source.is_local:
        return fmt.load_with_pycdfpp(source.path, source.name)
    return None  # a large remote object: cdflib reads its attributes through the file object


def _attributes(
    source: Source, fileobj: BinaryIO, library: Any
) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    try:
        if library is not None:
            return fmt.pycdfpp_attributes(library)
        return _cdflib_attributes(source, fileobj)
    except SOCDataError:
        raise
    except Exception as err:
        raise SOCDataError(
            source.name, f"cannot read its attributes ({type(err).__name__}: {err})"
        ) from err


def _cdflib_attributes(
    source: Source, fileobj: BinaryIO
) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """Attributes of a large remote object through cdflib, which seeks in a file object
    (pycdfpp needs the whole file); the block cache fetches only what it reads."""
    import cdflib

    class Unclosed(io.RawIOBase):
        # cdflib closes the file it read when it is done; ours is read on afterwards.
        def readable(self) -> bool:
            return True

        def seekable(self) -> bool:
            return True

        def seek(self, offset: int, whence: int = 0) -> int:
            return fileobj.seek(offset, whence)

        def tell(self) -> int:
            return fileobj.tell()

        def read(self, size: int = -1) -> bytes:
            return fileobj.read(size)

        def readinto(self, buffer: Any) -> int:
            data = fileobj.read(len(buffer))
            buffer[: len(data)] = data
            return len(data)

    class StreamCDF(cdflib.CDF):
        # cdflib picks how to read from the name: an s3:// name makes it ask this method
        # for a file object, which returns ours.
        def _file_or_url_or_s3_handler(self, *args: Any) -> Any:
            fileobj.seek(0)
            return Unclosed()

    def value(att: Any) -> Any:
        return fmt.attribute_value(att.Data, fmt.type_number(att.Data_Type))

    with CDFLIB_LOCK:
        cdf = StreamCDF("s3://soc-workspace/" + source.name.rsplit("/", 1)[-1])
        info = cdf.cdf_info()
        global_attrs: dict[str, Any] = {}
        for key in cdf.globalattsget():
            last = cdf.attinq(key).max_gr_entry  # entry numbers may have gaps
            found = [value(cdf.attget(key, i)) for i in range(last + 1) if _has_entry(cdf, key, i)]
            global_attrs[key] = "" if not found else found[0] if len(found) == 1 else found
        var_attrs = {
            v: {k: value(cdf.attget(k, v)) for k in cdf.varattsget(v)}
            for v in [*info.zVariables, *info.rVariables]
        }
    return global_attrs, var_attrs


def _has_entry(cdf: Any, key: str, entry: int) -> bool:
    try:
        cdf.attget(key, entry)
    except Exception:
        return False
    return True


def _read_now(
    spec: CDFVariable, fetch: Any, source: Source, library: Any, leap: list[int]
) -> np.ndarray:
    """A coordinate or constant, read while indexing."""
    if spec.nrecs == 0:
        return finish(np.zeros((0, *spec.shape), np.dtype(spec.dtype)), spec)
    if spec.exact:
        n = spec.nrecs if spec.nrecs is not None else 1
        raw = fmt.decode(spec, 0, n, fetch, source)
    else:
        raw = _decoded_by_library(source, spec, library)
    return finish(raw if spec.nrecs is not None else raw[0], spec, leap=leap)


def _decoded_by_library(source: Source, spec: CDFVariable, library: Any) -> np.ndarray:
    """All records of a variable that is not plain byte ranges (sparse records, gaps,
    strings), decoded by pycdfpp once per file and kept for the chunks that follow."""

    def make() -> np.ndarray:
        cdf = library
        if cdf is None:
            fileobj, whole = source.open(1 << 62)
            try:
                if fmt.is_compressed((fileobj.seek(0), fileobj.read(8))[1]):
                    whole = _inflated(source, fileobj, whole)
                cdf = _library(source, fileobj, whole)
            finally:
                fileobj.close()
        return fmt.pycdfpp_values(cdf, spec, source.name)

    return fmt.DECODED.get((source.name, source.size, spec.name), make)


# -- reading records later -------------------------------------------------------------------
def read_records(
    source: Source,
    spec: CDFVariable,
    state: CDFFile,
    start: int,
    stop: int,
    *,
    cache: ByteCache | None = None,
    whole_object_bytes: int = 16 << 20,
    copy: bool = True,
) -> np.ndarray:
    """Records ``start:stop`` of a record-varying variable, decoded (epochs, fills, byte order).

    Bytes come from ``cache`` when the file is kept there, else exactly the byte ranges of the
    records are fetched (a whole-file compressed file is inflated once and kept).
    """
    try:
        if stop <= start:
            return finish(np.zeros((0, *spec.shape), np.dtype(spec.dtype)), spec)
        whole = cache.take(source.name) if cache is not None else None
        if not spec.exact:
            return finish(_decoded_by_library(source, spec, None)[start:stop].copy(), spec)
        if state.compressed_file:
            fileobj, data = (io.BytesIO(whole), whole) if whole is not None else (None, None)
            if fileobj is None:
                fileobj, data = source.open(1 << 62)
            try:
                whole = _inflated(source, fileobj, data)
            finally:
                fileobj.close()
        if whole is not None:
            view = memoryview(whole)
            raw = fmt.decode(spec, start, stop, lambda rs: [view[a:b] for a, b in rs], source, copy)
        else:
            raw = fmt.decode(spec, start, stop, source.read_ranges, source, copy)
        return finish(raw, spec)
    except SOCDataError:
        raise
    except Exception as err:
        raise SOCDataError(
            source.name, f"cannot read variable {spec.name!r} ({type(err).__name__}: {err})"
        ) from err


def decode_whole(
    source: Source, spec: CDFVariable, whole: bytes, out: np.ndarray | None = None
) -> np.ndarray:
    """All records of a record-varying variable, decoded from the file's bytes in memory; may
    be a read-only view of them, or ``out`` when it was filled in place."""
    view = memoryview(whole)
    n = spec.nrecs or 0
    raw = fmt.decode(spec, 0, n, lambda rs: [view[a:b] for a, b in rs], source, copy=False)
    return finish(raw, spec, out=out)
