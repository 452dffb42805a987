"""From a search to data: the one way to open a search result, ``open_catalog_files``."""

from __future__ import annotations

import inspect
from typing import Any

import pandas as pd

from ..config import Settings
from ..io import open_mfdataset
from ..timestamps import to_utc
from .query import search

_UNSET: Any = object()


def open_catalog_files(
    files: pd.DataFrame | None = None,
    /,
    *,
    parallel: bool = True,
    chunks: Any = _UNSET,
    errors: str = "raise",
    trim: bool = True,
    settings: Settings | None = None,
    **arguments: Any,
) -> Any:
    """Open the files of a search as one xarray Dataset (lazily, with Dask).

    Parameters
    ----------
    files
        A :func:`search` result (one dataset). Without it, the search arguments among the
        keywords (``mission``, ``instrument``, ``level``, ``start``, ``stop``, ...) are passed
        to :func:`search` first: ``open_catalog_files(mission="hermes", instrument="eea",
        level="l1", start="2025-06-01", stop="2025-06-02")``.
    parallel, chunks, errors
        Passed to :func:`soc_workspace.open_mfdataset`, as are its other keywords
        (``variables``, ``hdu``, ``progress``, ``storage_options``), with the files' URLs and
        sizes.
    trim
        Keep only the times within ``start``/``stop`` (files overlap the range, so their
        first and last records may lie outside it).
    settings
        The workspace settings (store, catalog, ``io.*``) for the search and the reading;
        default: the settings in effect.

    Raises
    ------
    ValueError
        When nothing was found, or the files belong to more than one dataset (they would not
        concatenate): the message lists the datasets to choose from.
    """
    query = {k: v for k, v in arguments.items() if k in _SEARCH_ARGUMENTS}
    options = {k: v for k, v in arguments.items() if k not in _SEARCH_ARGUMENTS}
    if "storage_options" in query:
        options["storage_options"] = query["storage_options"]
    if files is None:
        files = search(**query, settings=settings)
        what = ", ".join(f"{k}={v!r}" for k, v in query.items() if v is not None)
    else:
        extra = sorted(set(query) - {"start", "stop", "storage_options"})
        if extra:
            raise TypeError(
                f"give either a search result or search arguments, not both (got {extra})"
            )
        what = "the given search result"
    if not isinstance(files, pd.DataFrame) or "url" not in files:
        raise TypeError("open_catalog_files takes a search result: a DataFrame with a 'url' column")
    if files.empty:
        raise ValueError(f"no files found for {what}: nothing to open")
    if "dataset" in files and files["dataset"].nunique() > 1:
        counts = files["dataset"].value_counts().sort_index()
        listing = ", ".join(f"{d} ({n} files)" for d, n in counts.items())
        raise ValueError(
            f"the files belong to {len(counts)} datasets ({listing}); they do not concatenate. "
            "Narrow the search (instrument=, level=, descriptor=) or open each: "
            "{d: open_catalog_files(f) for d, f in files.groupby('dataset')}"
        )
    options.update(parallel=parallel, errors=errors, settings=settings)
    if chunks is not _UNSET:
        options["chunks"] = chunks
    sizes = files["filesize"].tolist() if "filesize" in files else None
    data = open_mfdataset(files["url"].tolist(), sizes=sizes, **options)
    if trim and (query.get("start") is not None or query.get("stop") is not None):
        data = _trim(data, query.get("start"), query.get("stop"))
    return data


_SEARCH_ARGUMENTS = frozenset(inspect.signature(search).parameters) - {"settings"}


def _trim(data: Any, start: Any, stop: Any) -> Any:
    """Select [start, stop) along the dataset's time dimension, when it has one."""
    for dim in data.dims:
        coord = data.coords.get(dim)
        if coord is not None and pd.api.types.is_datetime64_any_dtype(coord.dtype):
            lo = None if start is None else _naive_utc(start)
            hi = None if stop is None else _naive_utc(stop)
            selected = data.sel({dim: slice(lo, hi)})
            if hi is not None and selected.sizes[dim] and selected[dim].values[-1] == hi:
                selected = selected.isel({dim: slice(0, -1)})  # the range excludes stop
            return selected
    return data


def _naive_utc(value: Any) -> Any:
    return to_utc(value).tz_localize(None).to_datetime64()  # as xarray keeps times
