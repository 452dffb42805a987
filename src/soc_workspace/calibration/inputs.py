"""Which files a rerun starts from, and fetching one into a scratch directory.

An input may be given as an ``s3://`` URL (or any fsspec URL, e.g. PADRE's HTTPS mirror), a
key in its instrument bucket (``l0/2025/06/01/hermes_EEA_l0_...bin``), a bare SOC file name
(found at its key in the instrument bucket of ``settings.environment``), or a local path.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import fsspec

from ..config import Settings, load_settings
from ..missions import FileInfo, bucket_for, get_mission, key_for, parse_filename, parse_key

log = logging.getLogger(__name__)


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
        settings = settings or load_settings()
        name = text.rstrip("/").rsplit("/", 1)[-1]
        info = parse_filename(name)
        key = parse_key(text).key.strip("/") if "/" in text else key_for(info)
        bucket = bucket_for(info.mission, info.instrument, settings.environment)
        url = f"s3://{bucket}/{key}"
    return InputFile(url=url, info=parse_filename(url.rsplit("/", 1)[-1]))


def url_to_fs(url: str, settings: Settings | None = None) -> tuple[fsspec.AbstractFileSystem, str]:
    """The filesystem and path of a URL; s3 URLs use the store settings."""
    if url.startswith("s3://"):
        from ..store import storage_options

        return fsspec.core.url_to_fs(url, **storage_options(settings or load_settings()))
    return fsspec.core.url_to_fs(url)


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
    start: datetime | date | str,
    stop: datetime | date | str,
    settings: Settings | None = None,
) -> list[str]:
    """URLs of the files of one instrument and level that start in ``[start, stop)``.

    Uses the catalog when it is available; otherwise lists the day folders of the range in the
    instrument bucket (current and legacy key layouts), which is fine for days, slow for years.
    """
    settings = settings or load_settings()
    m = get_mission(mission)
    inst = m.instrument(instrument)
    level = level or m.first_level
    if level not in m.levels:
        raise ValueError(f"level {level!r} is not a level of {m.name}: expected one of {m.levels}")
    begin, end = _as_utc(start), _as_utc(stop)
    if end <= begin:
        raise ValueError(f"the time range is empty: stop {end} is not after start {begin}")
    from_catalog = _from_catalog(m.name, inst.name, level, begin, end, settings)
    if from_catalog is not None:
        return from_catalog
    bucket = bucket_for(m.name, inst.name, settings.environment)
    log.info("listing the day folders of %s in %s (no catalog index)", level, bucket)
    fs, _ = url_to_fs(f"s3://{bucket}", settings)
    found: set[str] = set()
    for prefix in _day_prefixes(bucket, level, level == m.first_level, begin, end):
        for path in fs.glob(prefix):
            name = path.rsplit("/", 1)[-1]
            try:
                info = parse_filename(name)
            except ValueError:
                continue  # index files and strays are not inputs
            if info.instrument == inst.name and info.level == level and begin <= info.time < end:
                found.add(f"s3://{path}")
    return sorted(found, key=lambda u: (parse_filename(u.rsplit("/", 1)[-1]).time, u))


def _from_catalog(
    mission: str, instrument: str, level: str, begin: datetime, end: datetime, settings: Settings
) -> list[str] | None:
    """The catalog's answer (files overlapping the range), or None without a catalog index."""
    try:
        from ..catalog import CatalogError, search
    except ImportError:  # an installation without the catalog module
        return None
    try:
        found = search(mission, instrument, level, start=begin, stop=end, settings=settings)
    except CatalogError as err:
        log.warning(
            "no catalog for %s %s %s (%s): listing the bucket", mission, instrument, level, err
        )
        return None
    return [str(url) for url in found["url"]]


def _day_prefixes(
    bucket: str, level: str, first_level: bool, begin: datetime, end: datetime
) -> Iterable[str]:
    descriptor = "" if first_level else "*/"
    day = begin.date()
    months = set()
    while datetime.combine(day, datetime.min.time(), UTC) < end:
        yield f"{bucket}/{level}/{descriptor}{day:%Y/%m/%d}/*"
        months.add(f"{day:%Y/%m}")
        day += timedelta(days=1)
    for month in sorted(months):  # the layout used before mid-2025
        yield f"{bucket}/{level}/{descriptor}{month}/*"


def _as_utc(value: datetime | date | str) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if not isinstance(value, datetime):
        value = datetime.combine(value, datetime.min.time())
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
