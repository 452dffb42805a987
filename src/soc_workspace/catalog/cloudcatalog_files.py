"""The CloudCatalog files of an index (catalog.json, yearly CSV, info files), made from a manifest.

Their names are fixed by the CloudCatalog spec, so unlike our parquet files they cannot be
written under new names before the manifest is published. They are written after it, from it:
every one of them is a function of the manifest (and of the parquet files it names). Two
writers that publish one after the other may write them in the other order; so after writing,
a writer reads the manifest again, and if a newer generation was published meanwhile it
writes the same files again from that one. The writer that finishes last has written its
files from the newest manifest and seen no newer one: the files converge on it.

``build`` also reads the stored files and rewrites those that differ from what they should
be (a damaged or missing CSV, catalog.json or info file): the repair.
"""

from __future__ import annotations

import logging
import re
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from . import cloudcatalog
from .location import CATALOG_JSON, PREFIX, IndexLocation, IndexWriter
from .manifest import dataset_from_manifest, read_snapshot

log = logging.getLogger(__name__)

_ROUNDS = 5  # each round means another writer published meanwhile
_OURS = re.compile(r"^[A-Za-z0-9_-]+(_\d{4}\.csv|\.json)$")  # <id>_<YYYY>.csv, <id>.json


def csv_name(dataset_id: str, year: int) -> str:
    return f"{PREFIX}{dataset_id}_{year}.csv"


def info_name(dataset_id: str) -> str:
    return f"{PREFIX}{dataset_id}.json"


class CloudCatalogView:
    """What each CloudCatalog file of ``manifest`` holds.

    ``tables``: parquet file name -> its year table, for the years in memory; the others are
    read back from their parquet files when first needed.
    """

    def __init__(
        self,
        location: IndexLocation,
        manifest: dict[str, Any],
        tables: dict[str, pd.DataFrame] | None = None,
    ) -> None:
        self.location = location
        self.manifest = manifest
        self.tables = dict(tables or {})
        entries = manifest["datasets"]
        self.csvs = {y["csv"]: ds for ds, e in entries.items() for y in e["years"].values()}
        self.parquet = {
            y["csv"]: y["parquet"] for e in entries.values() for y in e["years"].values()
        }
        self.infos = {info_name(ds): ds for ds in entries}

    def names(self) -> set[str]:
        return {CATALOG_JSON, *self.csvs, *self.infos}

    def content(self, name: str) -> bytes | None:
        """The bytes ``name`` should hold; None when it is no file of this index."""
        entries = self.manifest["datasets"]
        if name == CATALOG_JSON:
            return self._catalog_json()
        if name in self.infos:
            return cloudcatalog.info_bytes(dataset_from_manifest(entries[self.infos[name]]))
        if name in self.csvs:
            dataset = dataset_from_manifest(entries[self.csvs[name]])
            return cloudcatalog.csv_bytes(self._table(self.parquet[name]), dataset)
        return None

    def read_tables(self, names: list[str]) -> None:
        """Fetch, in one batch, the parquet files behind the CSV files ``names``."""
        wanted = sorted({self.parquet[n] for n in names if n in self.parquet} - set(self.tables))
        if not wanted:
            return
        fs = self.location.fs
        found = fs.cat([self.location.path(p) for p in wanted])
        for p in wanted:
            self.tables[p] = year_table(found[self.location.path(p)])

    def _table(self, parquet: str) -> pd.DataFrame:
        if parquet not in self.tables:
            self.tables[parquet] = year_table(
                self.location.fs.cat_file(self.location.path(parquet))
            )
        return self.tables[parquet]

    def _catalog_json(self) -> bytes:
        location = self.location
        entries = [
            cloudcatalog.catalog_entry(
                dataset_from_manifest(e),
                location.index_url,
                e["start"],
                e["stop"],
                pd.Timestamp(e.get("modified") or self.manifest.get("created") or e["stop"]),
            )
            for e in self.manifest["datasets"].values()
        ]
        return cloudcatalog.catalog_json(location.bucket, location.index_url, entries)


def year_table(data: bytes) -> pd.DataFrame:
    """One year's file table from its parquet file."""
    return pq.read_table(pa.BufferReader(data)).to_pandas()


def stored_names(location: IndexLocation) -> set[str]:
    """The CloudCatalog files now under the index (a listing of the index folder only)."""
    fs = location.fs
    try:
        found = fs.ls(location.path(PREFIX), detail=False, refresh=True)
    except FileNotFoundError:
        found = []
    names = {PREFIX + p.rstrip("/").rsplit("/", 1)[-1] for p in found}
    return {n for n in names if _OURS.match(n[len(PREFIX) :]) and n != PREFIX + "manifest.json"}


def write_cloudcatalog(
    writer: IndexWriter,
    manifest: dict[str, Any],
    token: str | None,
    names: set[str],
    *,
    tables: dict[str, pd.DataFrame] | None = None,
    check: bool = False,
    before: dict[str, Any] | None = None,
) -> list[str]:
    """Write the CloudCatalog files ``names`` and catalog.json of ``manifest`` (version ``token``).

    A name that is no file of ``manifest`` is deleted. ``check=True``: first read what is
    stored and write only what differs. Returned: the files that were damaged or missing, that
    is, that did not hold what ``before`` (the manifest they were written from) says. Then,
    until the manifest stays at the version these files were written from, write them again
    from the newer one (see the module's docstring).
    """
    location = writer.location
    repaired: list[str] = []
    for _round in range(_ROUNDS):
        view = CloudCatalogView(location, manifest, tables)
        todo = [*sorted(set(names) - {CATALOG_JSON}), CATALOG_JSON]  # catalog.json last
        view.read_tables(todo)
        wanted = {n: view.content(n) for n in todo}
        if check:
            stored = location.fs.cat([location.path(n) for n in todo], on_error="return")
            found = {n: stored.get(location.path(n)) for n in todo}
            todo = [n for n in todo if _differs(found[n], wanted[n])]
            repaired = _damaged(location, before, {n: found[n] for n in todo})
        for name in todo:
            if wanted[name] is None:
                writer.delete([name])
            else:
                writer.put(name, wanted[name])
        current = read_snapshot(location)
        if current.token == token or current.manifest is None:
            return repaired
        log.info("%s was published meanwhile: writing its CloudCatalog files", current.generation)
        manifest, token, tables, check = current.manifest, current.token, None, False
    log.warning(
        "%s: the index kept changing while its CloudCatalog files were written; if HelioCloud "
        "tools see an old state, run `soc-workspace catalog build --bucket %s`",
        location.root,
        location.bucket,
    )
    return repaired


def _damaged(
    location: IndexLocation, before: dict[str, Any] | None, found: dict[str, Any]
) -> list[str]:
    """Of the ``found`` files (name -> stored bytes or error), those ``before`` says should
    hold something else: damaged or missing, not merely out of date."""
    if before is None:
        return []
    view = CloudCatalogView(location, before)
    names = [n for n in found if n in view.names()]
    view.read_tables(names)
    return [n for n in names if _differs(found[n], view.content(n))]


def _differs(stored: Any, wanted: bytes | None) -> bool:
    if wanted is None:
        return isinstance(stored, bytes)  # a stale file to delete
    return stored != wanted
