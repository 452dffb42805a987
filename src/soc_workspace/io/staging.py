"""Data variables decoded into place while many files are opened.

open_mfdataset fetches each small object once, while indexing it. Rather than keeping the raw
bytes and copying the records out of them when the user computes (and Dask copying them once
more to join the chunks), the records are copied straight into one contiguous array per
variable, in the order the files arrive, while other threads still wait on the network. The
Dask chunks are read-only views of that array, and computing a whole variable returns the
array itself: the data are copied once, and that copy overlaps the transfer. (On the 2-core
VM where this was measured, writing fresh memory costs about as much as receiving it, so the
extra copies halved the throughput; see benchmarks/open_throughput.py.)

Anything that does not fit (over ``io.cache_mb``, compressed or sparse variables, files that
end up in another order) is simply not staged: those chunks read their bytes the usual way.
A copy of the staging sent to another process is empty, so Dask workers elsewhere read their
byte ranges themselves.
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import dask.array as da
import numpy as np

from .cdf import CDFFile, CDFVariable, decode_whole
from .layout import FileLayout, VarLayout
from .source import Source


class Staging:
    """Per-variable arrays filled file by file; positions of each file's records in them.

    Positions are given out in the order files arrive (``add``, one thread); the copies
    themselves run in a small thread pool (numpy copies release the GIL), and ``finish``
    waits for them.
    """

    def __init__(self, limit_bytes: float, expected_files: int) -> None:
        self.limit = limit_bytes
        self.used = 0
        self.expected_files = max(1, expected_files)
        self.buffers: dict[str, np.ndarray] = {}
        self.filled: dict[str, int] = {}
        self.placed: dict[tuple[str, str], int] = {}  # (variable, file) -> first record
        self.closed: set[str] = set()  # variables no longer staged
        self._pool: ThreadPoolExecutor | None = None
        self._jobs: list[tuple[str, list[str], Future[None]]] = []

    def add(self, layout: FileLayout) -> int:
        """Stage what can be staged of one file (in arrival order); how many variables were
        left to be read later."""
        left = 0
        copies = []
        for var in layout.lazy_variables:
            start = self._reserve(layout, var)
            if start is None:
                left += 1
            else:
                copies.append((var.reader, self.buffers[var.name], start, var.shape[0]))
        if copies:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="soc-stage")
            job = self._pool.submit(_copy, layout.source, layout.whole, copies)
            self._jobs.append((layout.source.name, [v.name for v in layout.lazy_variables], job))
        return left

    def _reserve(self, layout: FileLayout, var: VarLayout) -> int | None:
        spec, state = var.reader, layout.reader_state
        if (
            var.name in self.closed
            or layout.whole is None
            or var.record_dim is None
            or not isinstance(spec, CDFVariable)
            or not isinstance(state, CDFFile)
            or state.compressed_file
            or not spec.exact
        ):
            self.closed.add(var.name)
            return None
        n = var.shape[0]
        buf = self.buffers.get(var.name)
        if buf is None:
            # Room for twice the records the first file suggests: untouched pages cost nothing.
            capacity = max(2 * n * self.expected_files, n)
            buf = np.empty((capacity, *var.shape[1:]), dtype=var.dtype)
            self.buffers[var.name] = buf
            self.filled[var.name] = 0
        start = self.filled[var.name]
        nbytes = n * (buf.nbytes // len(buf)) if len(buf) else 0
        if start + n > len(buf) or self.used + nbytes > self.limit:
            self.closed.add(var.name)
            return None
        self.filled[var.name] = start + n
        self.placed[(var.name, layout.source.name)] = start
        self.used += nbytes
        return start

    def finish(self) -> None:
        """No more files: wait for the copies; the staged arrays become read-only (views of
        them are handed out). A file whose copy failed is read the usual way (and its error
        then names it)."""
        for file, names, job in self._jobs:
            if job.exception() is not None:
                for name in names:
                    self.placed.pop((name, file), None)
        self._jobs.clear()
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
        for buf in self.buffers.values():
            buf.flags.writeable = False

    def view(self, name: str, file: str, n: int) -> np.ndarray | None:
        start = self.placed.get((name, file))
        buf = self.buffers.get(name)
        if start is None or buf is None:
            return None
        return buf[start : start + n]

    def whole(self, name: str, files: list[tuple[str, int]]) -> np.ndarray | None:
        """The variable over ``files`` (name, records) in that order, if they were staged one
        after the other."""
        buf = self.buffers.get(name)
        if buf is None:
            return None
        position = 0
        for file, n in files:
            if self.placed.get((name, file)) != position:
                return None
            position += n
        return buf[:position] if position == self.filled.get(name) else None

    def __reduce__(self) -> tuple[type[Staging], tuple[float, int]]:
        return (Staging, (0, 1))  # never shipped: elsewhere, chunks read their bytes


def _copy(
    source: Source, whole: bytes, copies: list[tuple[CDFVariable, np.ndarray, int, int]]
) -> None:
    for spec, buf, start, n in copies:
        place = buf[start : start + n]
        values = decode_whole(source, spec, whole, out=place)
        if values is not place:
            place[...] = values


class StagedArray(da.Array):
    """A Dask array whose full compute returns the staged array itself instead of joining
    its chunks (Dask's usual final copy). Anything derived from it is a plain Dask array."""

    _soc_whole: Any = None

    def __dask_postcompute__(self) -> tuple[Any, tuple[Any, ...]]:
        return _finalize, (self._soc_whole,)


def _finalize(results: Any, whole: Any) -> Any:
    staged = whole() if whole is not None else None
    if staged is not None:
        return staged
    return da.core.finalize(results)
