"""Where a file's bytes come from: a local path, an ``s3://`` (or other fsspec) URL, or an
open file object, without temporary files.

On S3 every request costs about as much time as a megabyte of transfer, so a small object is
fetched with one request (a ranged GET of the first ``whole_object_mb``, which returns the
whole object when it is smaller, so no HEAD request is needed), and a large one is read in byte
ranges through an fsspec file with a block cache.
"""

from __future__ import annotations

import io
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any, BinaryIO

import fsspec

from ..config import Settings
from ..repro.opened_files import note as note_opened
from ..store import url_to_fs
from .errors import SOCDataError
from .sniff import HEAD_BYTES

# Block size when a large object is read through a file object (metadata reads, FITS).
_BLOCK_SIZE = 1 << 20


class Source:
    """One file, wherever it is. Picklable when it is a path or a URL (for Dask workers)."""

    def __init__(
        self,
        name: str,
        *,
        fs: fsspec.AbstractFileSystem | None = None,
        path: str | None = None,
        fileobj: BinaryIO | None = None,
        size: int | None = None,
    ) -> None:
        self.name = name  # what messages call the file: the user's path or URL
        self.fs = fs
        self.path = path
        self.fileobj = fileobj
        self._size = size
        self._lock = threading.Lock()

    # -- construction --------------------------------------------------------------------
    @classmethod
    def resolve(
        cls,
        target: Any,
        storage_options: dict[str, Any] | None = None,
        size: int | None = None,
        filesystems: dict[str, fsspec.AbstractFileSystem] | None = None,
        settings: Settings | None = None,
    ) -> Source:
        """A source for a path, a URL or a file object; ``s3://`` URLs reach the store of
        ``settings`` (default: the settings in effect), ``storage_options`` on top.

        ``filesystems`` (protocol -> filesystem) is filled and reused across calls, so that
        resolving many URLs makes one filesystem.
        """
        if isinstance(target, Source):
            return target
        if isinstance(target, fsspec.core.OpenFile):
            url = _url(target.fs, target.path)
            note_opened(url)
            return cls(url, fs=target.fs, path=target.path, size=size)
        if hasattr(target, "read") and hasattr(target, "seek"):
            fs, path = getattr(target, "fs", None), getattr(target, "path", None)
            if isinstance(fs, fsspec.AbstractFileSystem) and isinstance(path, str):
                note_opened(_url(fs, path))
                return cls(_url(fs, path), fs=fs, path=path, size=getattr(target, "size", size))
            name = getattr(target, "name", None) or repr(target)
            return cls(str(name), fileobj=target, size=size)
        if isinstance(target, os.PathLike):
            target = os.fspath(target)
        if not isinstance(target, str):
            raise TypeError(
                f"cannot open {target!r}: expected a path, an s3:// URL or a file object"
            )
        if "://" in target and not target.startswith("file://"):
            protocol = target.split("://", 1)[0]
            known = filesystems if filesystems is not None else {}
            if protocol not in known:
                known[protocol] = url_to_fs(target, settings, **(storage_options or {}))[0]
            fs = known[protocol]
            note_opened(target)
            return cls(target, fs=fs, path=fs._strip_protocol(target), size=size)
        path = Path(target.removeprefix("file://")).expanduser()
        if not path.is_file():
            if path.is_dir():
                raise SOCDataError(target, "is a folder, not a file (use open_mfdataset for many)")
            raise FileNotFoundError(f"{target}: no such file")
        note_opened(str(path.resolve()))
        return cls(str(target), path=str(path), size=size)

    @property
    def is_local(self) -> bool:
        return self.fs is None and self.path is not None

    def __getstate__(self) -> dict[str, Any]:
        if self.fileobj is not None:
            raise TypeError(f"{self.name}: an open file object cannot be sent to other processes")
        state = dict(self.__dict__)
        del state["_lock"]
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()

    # -- reading -------------------------------------------------------------------------
    @property
    def size(self) -> int:
        if self._size is None:
            if self.is_local:
                self._size = os.path.getsize(self.path)
            elif self.fs is not None:
                self._size = int(self.fs.size(self.path))
            else:
                with self._lock:
                    pos = self.fileobj.tell()
                    self._size = self.fileobj.seek(0, os.SEEK_END)
                    self.fileobj.seek(pos)
        return self._size

    def read_prefix(self, nbytes: int) -> bytes:
        """The first ``nbytes`` (all of them when the file is smaller), in one request."""
        if self.is_local:
            with open(self.path, "rb") as f:
                data = f.read(nbytes)
        elif self.fs is not None:
            data = self.fs.cat_file(self.path, start=0, end=nbytes)
        else:
            with self._lock:
                self.fileobj.seek(0)
                data = self.fileobj.read(nbytes)
        if len(data) < nbytes:
            self._size = len(data)
        return data

    def read_ranges(self, ranges: Sequence[tuple[int, int]]) -> list[bytes]:
        """The bytes of each ``(start, stop)`` range; remote ranges are fetched concurrently."""
        if not ranges:
            return []
        if self.is_local:
            with open(self.path, "rb") as f:
                fd = f.fileno()
                return [os.pread(fd, stop - start, start) for start, stop in ranges]
        if self.fs is not None:
            starts = [start for start, _ in ranges]
            stops = [stop for _, stop in ranges]
            return self.fs.cat_ranges([self.path] * len(ranges), starts, stops)
        with self._lock:
            out = []
            for start, stop in ranges:
                self.fileobj.seek(start)
                out.append(self.fileobj.read(stop - start))
            return out

    def open(self, whole_object_bytes: int) -> tuple[BinaryIO, bytes | None]:
        """A seekable file object for the readers, and the whole content when it was fetched.

        Local files are opened as they are; remote objects up to ``whole_object_bytes`` are
        fetched with one request and read from memory; larger ones through a block cache.
        """
        if self.is_local:
            if self.size <= whole_object_bytes:  # parsing from memory is 3x faster than seeks
                with open(self.path, "rb") as f:
                    data = f.read()
                return io.BytesIO(data), data
            return open(self.path, "rb"), None
        if self.fs is not None:
            if self._size is None or self._size <= whole_object_bytes:
                data = self.read_prefix(whole_object_bytes + 1)
                if len(data) <= whole_object_bytes:
                    return io.BytesIO(data), data
            f = self.fs.open(
                self.path, "rb", block_size=_BLOCK_SIZE, cache_type="blockcache", size=self.size
            )
            return f, None
        return _SharedFile(self.fileobj, self._lock), None

    def head(self) -> bytes:
        return self.read_prefix(HEAD_BYTES)


class _SharedFile(io.RawIOBase):
    """A caller's file object seen through its own position, so that reads never interleave."""

    def __init__(self, fileobj: BinaryIO, lock: threading.Lock) -> None:
        self._f = fileobj
        self._lock = lock
        self._pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = 0) -> int:
        if whence == os.SEEK_SET:
            self._pos = offset
        elif whence == os.SEEK_CUR:
            self._pos += offset
        else:
            with self._lock:
                self._pos = self._f.seek(0, os.SEEK_END) + offset
        return self._pos

    def tell(self) -> int:
        return self._pos

    def read(self, size: int = -1) -> bytes:
        with self._lock:
            self._f.seek(self._pos)
            data = self._f.read() if size is None or size < 0 else self._f.read(size)
        self._pos += len(data)
        return data

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


def _url(fs: fsspec.AbstractFileSystem, path: str) -> str:
    protocol = fs.protocol[0] if isinstance(fs.protocol, (tuple, list)) else fs.protocol
    return path if protocol in ("file", "local") else f"{protocol}://{path}"


class ByteCache:
    """Whole files fetched while opening, kept until each planned read has used them.

    It belongs to one opened dataset (its Dask graph holds it) and is never shipped to Dask
    workers: a copy sent elsewhere is empty, and readers there fetch their byte ranges.
    """

    def __init__(self, limit_bytes: float) -> None:
        self.limit = limit_bytes
        self.used = 0
        self._data: dict[str, bytes] = {}
        self._uses: dict[str, int] = {}
        self._lock = threading.Lock()

    def offer(self, key: str, data: bytes, uses: int) -> bool:
        """Keep ``data`` for ``uses`` reads, if it fits; True when kept."""
        with self._lock:
            if uses <= 0 or self.used + len(data) > self.limit:
                return False
            self._data[key] = data
            self._uses[key] = uses
            self.used += len(data)
            return True

    def take(self, key: str) -> bytes | None:
        """The kept bytes for one read (released after the last planned one), or None."""
        with self._lock:
            data = self._data.get(key)
            if data is None:
                return None
            self._uses[key] -= 1
            if self._uses[key] <= 0:
                del self._data[key], self._uses[key]
                self.used -= len(data)
            return data

    def __reduce__(self) -> tuple[type[ByteCache], tuple[float]]:
        return (ByteCache, (0,))
