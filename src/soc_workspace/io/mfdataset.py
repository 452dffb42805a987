"""Many files into one Dataset along time, lazily: ``open_mfdataset``.

How it is fast (measured with benchmarks/open_throughput.py): every file is indexed in a
thread pool (S3 requests mostly wait), each small object with a single request, and the Dask
graph is built directly from the per-file record counts and byte ranges, a chunk per file,
instead of opening a Dataset per file and concatenating them with ``xarray.concat``. The data
of the objects fetched while indexing are decoded into place as they arrive (see
:mod:`.staging`; up to ``io.cache_mb``); without that a chunk fetches only its own byte
ranges, which is also what Dask workers elsewhere do.
"""

from __future__ import annotations

import glob as globlib
import warnings
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Literal

import dask.array as da
import numpy as np
import xarray as xr
from dask.base import tokenize
from dask.highlevelgraph import HighLevelGraph

from ..config import Settings, current_settings
from .dataset import Chunks, index_file, read_variable
from .errors import SOCDataError, SOCDataWarning
from .layout import FileLayout, ReadOptions, VarLayout
from .source import ByteCache, Source
from .staging import StagedArray, Staging

Errors = Literal["raise", "warn", "skip"]


def open_mfdataset(
    files: Any,
    *,
    variables: list[str] | None = None,
    parallel: bool = True,
    chunks: Chunks = None,
    errors: Errors = "raise",
    hdu: str | int | None = None,
    versions: Literal["latest", "all"] = "latest",
    storage_options: dict[str, Any] | None = None,
    progress: bool | None = None,
    mask_fill: bool = True,
    mask_invalid: bool = False,
    sizes: Sequence[int | None] | None = None,
    settings: Settings | None = None,
) -> xr.Dataset:
    """Open many files of one dataset as one lazy Dataset, concatenated along time.

    Parameters
    ----------
    files
        A list of paths, URLs or file objects, or a glob (``"data/*.cdf"``,
        ``"s3://hermes-eea/l1/unknown/2025/06/*/*.cdf"``). A catalog search result is opened
        with :func:`soc_workspace.open_catalog_files`.
    variables
        Only these variables (with the coordinates they need). Default: all.
    parallel
        Index the files in a thread pool of ``io.max_workers`` threads (default). False: one
        after the other.
    chunks
        None (default): one chunk per file. Otherwise rechunked, e.g. ``{"Epoch": 100_000}``.
    errors
        What a file that cannot be read (a :class:`SOCDataError`: truncated, not CDF/FITS,
        broken ISTP attributes, variables unlike the other files') does: ``"raise"``
        (default) stops; ``"warn"`` leaves it out with a warning each; ``"skip"`` leaves them
        out with one warning listing them. Files left out are listed in
        ``ds.attrs["skipped_files"]``, with the reasons in ``ds.attrs["skipped_reasons"]``.
        A file found broken only when its data are computed (a compressed block that does
        not inflate) becomes missing records (NaN, NaT) with ``"warn"`` and ``"skip"``: the
        computation finishes, a warning names the file, and it is added to
        ``ds.attrs["unreadable_files"]``.
    hdu
        FITS only: which HDU of each file (see :func:`open_dataset`).
    versions
        ``"latest"`` (default): where the SOC reprocessed a file (the same name but for its
        ``_vX.Y.Z``), only the newest version is read; the others are listed in
        ``ds.attrs["superseded_files"]``; records of overlapping files are kept once (see
        Returns). ``"all"``: every file and every record given.
    storage_options
        Extra fsspec/s3fs options, on top of the store settings.
    progress
        Show a progress bar while indexing. Default: when there are 20 files or more and the
        output is a terminal or notebook.
    mask_fill, mask_invalid
        Fill values and values outside VALIDMIN/VALIDMAX as NaN (see :func:`open_dataset`).
    sizes
        The size in bytes of each file of a list, where known (None where not): saves a
        request per large object. ``open_catalog_files`` passes the catalog's.
    settings
        The workspace settings (the store, ``io.*``); default: the settings in effect.

    Returns
    -------
    xarray.Dataset
        Dask-backed data variables, time coordinates in memory, files ordered by their first
        time. Variables without a time dimension come from the first file. Attributes are the
        first file's, plus ``source_files`` (the files, in order). Where files overlap in
        time, records at the same time are kept once (the newest version's, by the
        ``_vX.Y.Z`` in the names, else the later file's), the time index is sorted, and a
        warning names the files (also in ``ds.attrs["overlapping_files"]``).

    Examples
    --------
    >>> import soc_workspace as soc
    >>> ds = soc.open_mfdataset("s3://hermes-eea/l1/unknown/2025/06/*/*.cdf")  # doctest: +SKIP
    >>> ds["hermes_eea_stats"].resample(Epoch="1h").mean().compute()  # doctest: +SKIP
    """
    if errors not in ("raise", "warn", "skip"):
        raise ValueError(f"errors={errors!r}: expected 'raise', 'warn' or 'skip'")
    if versions not in ("latest", "all"):
        raise ValueError(f"versions={versions!r}: expected 'latest' or 'all'")
    settings = settings or current_settings()
    io_settings = settings.io
    whole_bytes = int(io_settings.whole_object_mb * (1 << 20))
    options = ReadOptions(mask_fill=mask_fill, mask_invalid=mask_invalid)
    sources = resolve_files(files, storage_options, sizes=sizes, settings=settings)
    if not sources:
        raise FileNotFoundError(f"no files match {files!r}")
    superseded: list[str] = []
    if versions == "latest":
        sources, superseded = _latest_versions(sources)

    skipped: list[tuple[str, str]] = []

    def skip(name: str, err: SOCDataError) -> None:
        if errors == "raise":
            raise err
        skipped.append((name, err.problem))
        if errors == "warn":
            warnings.warn(f"{name} left out: {err.problem}", UserWarning, stacklevel=4)

    def index(source: Source, template: FileLayout | None) -> FileLayout | SOCDataError:
        try:
            return index_file(
                source, variables=variables, hdu=hdu, whole_object_bytes=whole_bytes,
                template=template, options=options,
            )  # fmt: skip
        except SOCDataError as err:
            return err
        except FileNotFoundError as err:
            return SOCDataError(source.name, f"no such file ({err})")
        except Exception as err:  # reported per file (and raised with errors="raise")
            return SOCDataError(source.name, f"cannot be read ({type(err).__name__}: {err})")

    sources = _in_time_order(sources)
    bar = _progress(len(sources), progress)
    limit = io_settings.cache_mb * (1 << 20)
    staging = Staging(limit, len(sources))
    cache = ByteCache(limit)

    def keep(layout: FileLayout) -> None:
        # Decode what can be decoded into place now; keep the raw bytes only for the rest.
        left = staging.add(layout)
        if layout.whole is not None:
            cache.limit = limit - staging.used
            cache.offer(layout.source.name, layout.whole, left)
            layout.whole = None

    layouts: list[FileLayout] = []
    # The first readable file sets the structure (and its attributes are read only once).
    rest = list(sources)
    template = None
    while rest and template is None:
        result = index(rest.pop(0), None)
        bar(1)
        if isinstance(result, SOCDataError):
            skip(result.path, result)
        else:
            template = result
            keep(result)
            layouts.append(result)
    workers = io_settings.max_workers if parallel else 1
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="soc-open") as pool:
        futures = [pool.submit(index, s, template) for s in rest]
        try:
            for future in futures:
                result = future.result()
                bar(1)
                if isinstance(result, SOCDataError):
                    skip(result.path, result)
                    continue
                problem = _difference(template, result)
                if problem:
                    skip(result.source.name, SOCDataError(result.source.name, problem))
                    continue
                keep(result)
                layouts.append(result)
        except BaseException:
            for future in futures:
                future.cancel()
            raise
        finally:
            bar(None)
    if not layouts:
        raise SOCDataError(
            str(files),
            "none of the files could be read: "
            + "; ".join(f"{name}: {why}" for name, why in skipped),
        )
    if skipped and errors == "skip":
        warnings.warn(
            f"{len(skipped)} of {len(sources)} files left out (see ds.attrs['skipped_files']): "
            + "; ".join(f"{name}: {why}" for name, why in skipped),
            UserWarning,
            stacklevel=2,
        )
    staging.finish()
    failures = LoadFailures(errors != "raise")
    layouts = _time_sorted(layouts)
    ds = _combine(layouts, cache, staging, whole_bytes, failures)
    if versions == "latest":
        ds = _drop_overlaps(ds, layouts)
    if superseded:
        ds.attrs["superseded_files"] = superseded
    if skipped:
        ds.attrs["skipped_files"] = [name for name, _ in skipped]
        ds.attrs["skipped_reasons"] = [why for _, why in skipped]
    if failures.tolerate:
        ds.attrs["unreadable_files"] = failures.files  # filled in when a chunk fails to read
    if chunks is not None:
        ds = ds.chunk(chunks)
    return ds


def resolve_files(
    files: Any,
    storage_options: dict[str, Any] | None = None,
    *,
    sizes: Sequence[int | None] | None = None,
    settings: Settings | None = None,
) -> list[Source]:
    """Sources for a list (with the files' ``sizes`` where known) or a glob, local or remote."""
    filesystems: dict[str, Any] = {}  # one filesystem per protocol, the settings read once

    def resolve(target: Any, size: int | None = None) -> Source:
        return Source.resolve(
            target, storage_options, size=size, filesystems=filesystems, settings=settings
        )

    if hasattr(files, "columns"):  # a pandas DataFrame: iterating it would give its columns
        raise TypeError(
            "open_mfdataset takes a list of files or a glob; open a catalog search result "
            "with soc_workspace.open_catalog_files(result)"
        )
    if sizes is not None:
        files = list(files)
        if len(sizes) != len(files):
            raise ValueError(f"{len(sizes)} sizes for {len(files)} files: give one per file")
        return [
            resolve(f, size=None if n is None or n != n else int(n))
            for f, n in zip(files, sizes, strict=True)
        ]
    if isinstance(files, str) or hasattr(files, "__fspath__"):
        files = str(files)
        if not globlib.has_magic(files):
            return [resolve(files)]
        if "://" in files and not files.startswith("file://"):
            probe = resolve(files.split("*", 1)[0].rsplit("/", 1)[0] + "/")
            fs = probe.fs
            protocol = files.split("://", 1)[0]
            found = fs.glob(files, detail=True)
            return [
                Source(f"{protocol}://{path}", fs=fs, path=path, size=info.get("size"))
                for path, info in sorted(found.items())
                if info.get("type", "file") == "file"
            ]
        return [resolve(p) for p in sorted(globlib.glob(files))]
    if isinstance(files, Iterable):
        return [resolve(f) for f in files]
    raise TypeError(f"cannot open {files!r}: expected a list of paths or URLs, or a glob")


def _difference(first: FileLayout, other: FileLayout) -> str:
    """Why ``other`` cannot be concatenated with ``first`` ("" when it can)."""
    if first.format != other.format:
        return (
            f"it is {other.format.upper()}, the first file ({first.source.name}) is "
            f"{first.format.upper()}"
        )
    a, b = first.variables, other.variables
    if set(a) != set(b):
        extra, missing = sorted(set(b) - set(a)), sorted(set(a) - set(b))
        parts = [
            f"extra variables {extra}" if extra else "",
            f"missing {missing}" if missing else "",
        ]
        return f"its variables differ from the first file's ({first.source.name}): " + ", ".join(
            p for p in parts if p
        )
    for name, var in a.items():
        o = b[name]
        if var.dims != o.dims or var.dtype != o.dtype:
            return (
                f"variable {name!r} is {o.dtype} {o.dims}, in the first file "
                f"({first.source.name}) {var.dtype} {var.dims}"
            )
        cut = 1 if var.record_dim is not None else 0
        if var.shape[cut:] != o.shape[cut:]:
            return (
                f"variable {name!r} has shape {o.shape[cut:]} per record, in the first file "
                f"({first.source.name}) {var.shape[cut:]}"
            )
    return ""


def _latest_versions(sources: list[Source]) -> tuple[list[Source], list[str]]:
    """The newest version of each product (by the SOC file-name convention), and the rest.
    Names that do not follow the convention are all kept."""
    from ..missions import parse_filename

    best: dict[tuple[Any, ...], tuple[tuple[int, ...], int]] = {}
    keys: list[tuple[Any, ...] | None] = []
    for i, source in enumerate(sources):
        try:
            info = parse_filename(source.name.rsplit("/", 1)[-1])
            version = tuple(int(x) for x in (info.version or "").split(".") if x.isdigit())
        except ValueError:
            keys.append(None)
            continue
        key = (info.mission, info.instrument, info.mode, info.level, info.test,
               info.descriptor, info.time, info.extension)  # fmt: skip
        keys.append(key)
        if key not in best or best[key][0] < version:
            best[key] = (version, i)
    kept = [
        s
        for i, (s, k) in enumerate(zip(sources, keys, strict=True))
        if k is None or best[k][1] == i
    ]
    dropped = [
        s.name
        for i, (s, k) in enumerate(zip(sources, keys, strict=True))
        if k is not None and best[k][1] != i
    ]
    return kept, dropped


def _in_time_order(sources: list[Source]) -> list[Source]:
    """By the time in their names where every name has one (so files arrive in order), the
    first one given staying first (it sets the structure the others must have)."""
    from ..missions import parse_filename

    try:
        times = [parse_filename(s.name.rsplit("/", 1)[-1]).time for s in sources]
    except ValueError:
        return sources
    order = sorted(range(1, len(sources)), key=lambda i: (times[i], i))
    return [sources[0]] + [sources[i] for i in order]


def _time_sorted(layouts: list[FileLayout]) -> list[FileLayout]:
    return sorted(
        layouts,
        key=lambda lay: (lay.first_time() is None, lay.first_time() or np.datetime64(0, "ns")),
    )


class LoadFailures:
    """Files whose data could not be read when computed (``files``, the list that
    ``ds.attrs["unreadable_files"]`` shows). With ``tolerate``, their chunks become missing
    values and a warning names each file once. Not a list itself: Dask would take a list in
    a task for a list of tasks."""

    def __init__(self, tolerate: bool) -> None:
        self.files: list[str] = []
        self.tolerate = tolerate

    def report(self, err: SOCDataError) -> None:
        if err.path not in self.files:
            self.files.append(err.path)
            warnings.warn(
                f"{err.path}: left out of the result, its data cannot be read ({err.problem}); "
                "its records are missing values (listed in ds.attrs['unreadable_files'])",
                SOCDataWarning,
                stacklevel=2,
            )

    def __reduce__(self) -> tuple[Any, ...]:
        return (LoadFailures, (self.tolerate,))


def _combine(
    layouts: list[FileLayout],
    cache: ByteCache,
    staging: Staging,
    whole_bytes: int,
    failures: LoadFailures,
) -> xr.Dataset:
    """One Dataset from compatible file layouts (in time order), concatenated along their
    record dimensions."""
    first = layouts[0]
    token = tokenize([lay.source.name for lay in layouts], list(first.variables))
    coords: dict[str, xr.Variable] = {}
    data_vars: dict[str, xr.Variable] = {}
    for name, var in first.variables.items():
        if var.record_dim is None:
            data: Any = (
                var.values if var.values is not None else _single(first, var, cache, whole_bytes)
            )
        elif var.values is not None:
            data = np.concatenate([lay.variables[name].values for lay in layouts])
        else:
            data = _dask_concat(name, layouts, cache, staging, whole_bytes, token, failures)
        variable = xr.Variable(var.dims, data, attrs=var.attrs)
        (coords if var.coord else data_vars)[name] = variable
    try:
        ds = xr.Dataset(data_vars, coords=coords, attrs=dict(first.attrs))
    except ValueError as err:
        raise SOCDataError(first.source.name, f"inconsistent dimensions ({err})") from err
    ds.attrs["source_files"] = [lay.source.name for lay in layouts]
    return ds


def _dask_concat(
    name: str,
    layouts: list[FileLayout],
    cache: ByteCache,
    staging: Staging,
    whole_bytes: int,
    token: str,
    failures: LoadFailures,
) -> da.Array:
    """One Dask array, a chunk per file: a view of the staged array where the file was staged
    (see :mod:`.staging`), else a read of the file's bytes (kept ones or byte ranges)."""
    first = layouts[0].variables[name]
    key = f"soc-read-{name}-{token}"
    rest = first.shape[1:]
    copy = len(layouts) == 1  # a lone chunk is the result itself: it must own its memory
    graph = {}
    for i, layout in enumerate(layouts):
        var = layout.variables[name]
        graph[(key, i) + (0,) * len(rest)] = (
            _chunk, staging, layout.format, layout.source, var, layout.reader_state, cache,
            whole_bytes, copy, failures,
        )  # fmt: skip
    chunks = (tuple(lay.variables[name].shape[0] for lay in layouts), *((n,) for n in rest))
    meta = np.empty((0,) * len(first.shape), dtype=first.dtype)
    array = StagedArray(HighLevelGraph.from_collections(key, graph), key, chunks, meta=meta)
    files = [(lay.source.name, lay.variables[name].shape[0]) for lay in layouts]
    array._soc_whole = lambda: staging.whole(name, files)
    return array


def _chunk(
    staging: Staging,
    file_format: str,
    source: Source,
    var: VarLayout,
    state: Any,
    cache: ByteCache,
    whole_bytes: int,
    copy: bool,
    failures: LoadFailures,
) -> np.ndarray:
    staged = staging.view(var.name, source.name, var.shape[0])
    if staged is not None:
        return staged
    try:
        return read_variable(
            file_format, source, var, state, 0, var.shape[0], cache, whole_bytes, copy=copy
        )
    except SOCDataError as err:
        if not failures.tolerate:
            raise
        failures.report(err)
        return _missing(var)


def _missing(var: VarLayout) -> np.ndarray:
    """A chunk of missing values in the variable's type: NaN, NaT, empty strings, and for
    integers (which have no NaN) the smallest value of the type."""
    kind = var.dtype.kind
    if kind == "f":
        fill: Any = np.nan
    elif kind == "M":
        fill = np.datetime64("NaT")
    elif kind in "iu":
        fill = np.iinfo(var.dtype).min
    elif kind == "c":
        fill = complex(np.nan, np.nan)
    else:
        fill = ""
    return np.full(var.shape, fill, dtype=var.dtype)


def _single(layout: FileLayout, var: VarLayout, cache: ByteCache, whole_bytes: int) -> Any:
    return read_variable(
        layout.format, layout.source, var, layout.reader_state, 0, 0, cache, whole_bytes
    )


def _drop_overlaps(ds: xr.Dataset, layouts: list[FileLayout]) -> xr.Dataset:
    """Records of files that overlap in time kept once, the time index sorted (see
    open_mfdataset). Equal times within one file (photon events) are left as they are."""
    version: list[tuple[int, ...]] = []
    overlapping: set[str] = set()
    picks: dict[str, np.ndarray] = {}
    for dim in ds.dims:
        if dim not in ds.indexes or ds[dim].dtype.kind != "M":
            continue
        counts = [lay.record_axes().get(dim, 0) for lay in layouts]
        if len(counts) < 2 or sum(counts) != ds.sizes[dim]:
            continue
        index = ds.indexes[dim]
        if index.is_monotonic_increasing and index.is_unique:
            continue  # files in order, no time twice: they do not overlap
        times = ds[dim].values
        owner = np.repeat(np.arange(len(layouts)), counts)
        bounds = np.cumsum([0, *counts])
        spans = {}
        for i in range(len(layouts)):
            part = times[bounds[i] : bounds[i + 1]]
            if counts[i] and not np.isnat(part).all():
                spans[i] = (np.nanmin(part), np.nanmax(part))
        shared = {
            i
            for i, (lo, hi) in spans.items()
            for j, (lo2, hi2) in spans.items()
            if i != j and lo <= hi2 and lo2 <= hi
        }
        if not shared:
            continue  # no two files share a moment: nothing to do
        overlapping.update(layouts[i].source.name for i in shared)
        version = version or [_version_of(lay.source.name) for lay in layouts]
        # by time; within a time the newest version first, then the later file
        rank = [_neg(version[i]) for i in owner]
        order = np.array(
            sorted(range(len(times)), key=lambda i: (times[i], rank[i], -owner[i], i)), np.int64
        )
        t, o = times[order], owner[order]
        keep = np.ones(len(order), bool)
        # a time already given by another (preferred) file: dropped
        first_owner: dict[Any, int] = {}
        for j in range(len(order)):
            seen = first_owner.setdefault(t[j], o[j])
            if seen != o[j]:
                keep[j] = False
        picks[dim] = order[keep]
    if not picks:
        return ds
    ds = ds.isel(picks)
    names = sorted(overlapping)
    ds.attrs["overlapping_files"] = names
    warnings.warn(
        f"{len(names)} files overlap in time: {', '.join(names)}; records at the same time "
        "are kept once (the newest version's) and the time index is sorted",
        SOCDataWarning,
        stacklevel=3,
    )
    return ds


def _version_of(name: str) -> tuple[int, ...]:
    from ..missions import parse_filename

    try:
        info = parse_filename(name.rsplit("/", 1)[-1])
    except ValueError:
        return ()
    return tuple(int(x) for x in (info.version or "").split(".") if x.isdigit())


def _neg(version: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(-x for x in version)


def _progress(total: int, show: bool | None) -> Callable[[int | None], None]:
    if show is False or (show is None and total < 20):
        return lambda step: None
    from tqdm.auto import tqdm

    bar = tqdm(
        total=total, desc="opening files", unit="file", disable=None if show is None else False
    )

    def update(step: int | None) -> None:
        if step is None:
            bar.close()
        else:
            bar.update(step)

    return update
