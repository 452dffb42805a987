"""Which files a rerun starts from, and fetching one into a scratch directory.

An input may be given as an ``s3://`` URL (or any fsspec URL, e.g. PADRE's HTTPS mirror), a
key in its instrument bucket (``l0/2025/06/01/hermes_EEA_l0_...bin``), a bare SOC file name
(found at its key in the instrument bucket of ``settings.stage``), or a local path. A time
range's inputs are what the catalog finds (:func:`find_inputs`).
"""

from __future__ import annotations

import hashlib
import os
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..config import Settings, current_settings
from ..missions import FileInfo, bucket_for, get_mission, key_for, parse_filename, parse_key
from ..store import url_to_fs
from ..timestamps import TimeLike


@dataclass(frozen=True)
class InputFile:
    """One input of a rerun: where it is and what its name says."""

    url: str  # s3://bucket/key, another fsspec URL, or an absolute local path
    info: FileInfo

    @property
    def name(self) -> str:
        return self.url.rstrip("/").rsplit("/", 1)[-1]

    @property
    def is_local(self) -> bool:
        return "://" not in self.url


def resolve_input(
    key_or_path: str | os.PathLike[str], settings: Settings | None = None
) -> InputFile:
    """Where ``key_or_path`` is. Raises ValueError for a name no mission uses."""
    text = os.fspath(key_or_path)
    if text.startswith("file://"):
        text = text.removeprefix("file://")
    if "://" in text:
        url = text
    elif text.startswith(("/", "./", "../", "~")) or Path(text).exists():
        path = Path(text).expanduser().resolve()
        if not path.is_file():
            raise FileNotFoundError(f"input file {path} does not exist")
        url = str(path)
    else:
        settings = settings or current_settings()
        name = text.rstrip("/").rsplit("/", 1)[-1]
        info = parse_filename(name)
        key = parse_key(text).key.strip("/") if "/" in text else key_for(info)
        bucket = bucket_for(info.mission, info.instrument, settings.stage)
        url = f"s3://{bucket}/{key}"
    return InputFile(url=url, info=parse_filename(url.rsplit("/", 1)[-1]))


def fetch(source: InputFile, destination: Path, settings: Settings | None = None) -> dict[str, Any]:
    """Copy the input to ``destination``; return what identifies the bytes fetched.

    The record holds the object's ETag, version id and modification time when the store
    reports them, and always the size and SHA-256 of the copy.
    """
    record: dict[str, Any] = {"url": source.url, "name": source.name}
    if source.is_local:
        shutil.copyfile(source.url, destination)
        stat = Path(source.url).stat()
        record["last_modified"] = datetime.fromtimestamp(stat.st_mtime, UTC).isoformat()
    else:
        fs, path = url_to_fs(source.url, settings)
        try:
            info = fs.info(path)
        except FileNotFoundError:
            raise FileNotFoundError(f"input {source.url} does not exist in the store") from None
        fs.get_file(path, str(destination))
        record["etag"] = str(info.get("ETag", "")).strip('"') or None
        record["version_id"] = info.get("VersionId")
        modified = info.get("LastModified")
        record["last_modified"] = modified.isoformat() if hasattr(modified, "isoformat") else None
    record["size"] = destination.stat().st_size
    record["sha256"] = sha256_of(destination)
    return record


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def input_urls(files_or_search: Any) -> list[str]:
    """The inputs of a batch: a list of keys/URLs/paths, or a table with a ``url`` column."""
    if hasattr(files_or_search, "columns"):  # a catalog search result (pandas DataFrame)
        if "url" not in files_or_search.columns:
            raise ValueError(
                "a table of inputs needs a 'url' column (as soc_workspace.catalog.search returns); "
                f"it has {list(files_or_search.columns)}"
            )
        return [str(u) for u in files_or_search["url"]]
    if isinstance(files_or_search, (str, os.PathLike)):
        return [os.fspath(files_or_search)]
    return [os.fspath(f) for f in files_or_search]


def find_inputs(
    mission: str,
    instrument: str,
    *,
    level: str | None = None,
    start: TimeLike,
    stop: TimeLike,
    listing: bool = False,
    settings: Settings | None = None,
) -> list[str]:
    """URLs of the files of one instrument and level that overlap ``[start, stop)``: what
    :func:`soc_workspace.catalog.search` finds (newest versions), in its order.

    Parameters
    ----------
    level
        Default: the mission's first level (what its calibration reads).
    listing
        Find the files by listing the instrument bucket's day folders instead of reading its
        catalog index, for a bucket not indexed yet. The same files come back (the listing
        goes through the catalog's own selection); it is slow for long ranges.

    Raises
    ------
    soc_workspace.catalog.CatalogError
        Without ``listing``, when the bucket has no index: the message says to build one
        (``soc-workspace catalog build``) or to list (``rerun --list-bucket``).
    """
    from ..catalog import CatalogError, search
    from ..catalog.listing import search_by_listing

    settings = settings or current_settings()
    m = get_mission(mission)
    level = level or m.first_level
    if listing:
        found = search_by_listing(m.name, instrument, level, start, stop, settings=settings)
    else:
        try:
            found = search(m.name, instrument, level, start, stop, settings=settings)
        except CatalogError as err:
            raise CatalogError(
                f"{err}; or find the inputs by listing the bucket instead "
                "(find_inputs(..., listing=True), `soc-workspace rerun --list-bucket`)"
            ) from err
    return [str(url) for url in found["url"]]
