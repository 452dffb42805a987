"""The manifest (``catalog/manifest.json``): which parquet file holds each dataset's year.

Readers trust nothing in it unchecked: :func:`parse_manifest` checks every field a reader or
writer uses and names the first one that is missing or wrong, so a damaged manifest is a
:class:`CatalogError` saying how to repair it, never a ``KeyError``. Writers read it as a
:class:`Snapshot` carrying its version token, and publish the next generation only over that
version (a conditional write, see ``location.IndexWriter.replace``).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, fields
from typing import Any

import pandas as pd

from .datasets import Dataset
from .errors import CatalogError, repair_hint
from .location import MANIFEST, PREFIX, IndexLocation, read_versioned

FORMAT = "soc-workspace-catalog/1"
PARQUET_PREFIX = PREFIX + "parquet/"
_YEAR_FIELDS = {"parquet": str, "csv": str, "rows": int, "start": str, "stop": str}
_ENTRY_FIELDS = {"dataset": dict, "start": str, "stop": str, "files": int, "years": dict}
_DATASET_FIELDS = {f.name for f in fields(Dataset)}
# <id>_<year>-<digest>[-<writer>].parquet: the digest is the content's SHA-256, shortened.
_DIGEST = re.compile(r"_\d{4}-([0-9a-f]{16})(?:-[0-9a-f]+)?\.parquet$")


@dataclass(frozen=True)
class Snapshot:
    """The manifest as one read found it.

    ``token`` is the version of the manifest object (None: there is none), ``manifest`` its
    content when it is sound, ``damage`` what is wrong with it when it is not.
    """

    manifest: dict[str, Any] | None
    token: str | None
    damage: DamagedManifest | None = None

    @property
    def generation(self) -> str | None:
        return (self.manifest or {}).get("generation")


NO_MANIFEST = Snapshot(None, None)


def read_snapshot(location: IndexLocation) -> Snapshot:
    """The current manifest of ``location`` with its version; damage is reported, not raised."""
    found = read_versioned(location, MANIFEST)
    if found is None:
        return NO_MANIFEST
    data, token = found
    try:
        return Snapshot(parse_manifest(data, location.url(MANIFEST), location.bucket), token)
    except DamagedManifest as err:
        return Snapshot(None, token, err)


class DamagedManifest(CatalogError):
    """A manifest that cannot be used; ``fault`` says what is wrong, the message also the cure."""

    def __init__(self, fault: str, hint: str) -> None:
        super().__init__(f"{fault}; {hint}")
        self.fault = fault


def parse_manifest(data: bytes, source: str, bucket: str | None = None) -> dict[str, Any]:
    """Parse and check a manifest; a damaged one raises :class:`DamagedManifest` naming why."""
    hint = repair_hint(bucket) if bucket else "`soc-workspace catalog build` rebuilds it"

    def damaged(what: str) -> DamagedManifest:
        return DamagedManifest(f"{source} is damaged: {what}", hint)

    try:
        manifest = json.loads(data)
    except ValueError as err:
        raise damaged(f"not valid JSON ({err})") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise damaged(f"not a soc-workspace catalog manifest (expected format {FORMAT!r})")
    if not isinstance(manifest.get("generation"), str):
        raise damaged("no 'generation'")
    if not isinstance(manifest.get("datasets"), dict):
        raise damaged("no 'datasets'")
    for ds_id, entry in manifest["datasets"].items():
        fault = _entry_fault(entry)
        if fault:
            raise damaged(f"dataset {ds_id!r}: {fault}")
    previous = manifest.get("previous", [])
    if not isinstance(previous, list) or not all(_is_parquet_name(p) for p in previous):
        raise damaged("'previous' is not a list of the index's parquet files")
    return manifest


def _is_parquet_name(name: Any) -> bool:
    """A file the index may write and delete: ``catalog/parquet/<id>/<file>.parquet``.

    Writers delete what manifests name; a damaged one must not make them delete data.
    """
    if not isinstance(name, str) or not name.startswith(PARQUET_PREFIX):
        return False
    parts = name[len(PARQUET_PREFIX) :].split("/")
    return len(parts) == 2 and parts[1].endswith(".parquet") and "." not in parts[0]


def _entry_fault(entry: Any) -> str | None:
    if not isinstance(entry, dict):
        return "not an object"
    fault = _fields_fault(entry, _ENTRY_FIELDS)
    if fault:
        return fault
    if not set(entry["dataset"]) <= _DATASET_FIELDS or "id" not in entry["dataset"]:
        return f"'dataset' has unknown or missing fields ({sorted(entry['dataset'])})"
    if not entry["years"]:
        return "no years"
    for year, ref in entry["years"].items():
        if not str(year).isdigit() or not isinstance(ref, dict):
            return f"year {year!r} is not a year with its files"
        fault = _fields_fault(ref, _YEAR_FIELDS) or _times_fault(ref)
        if fault:
            return f"year {year}: {fault}"
        if not _is_parquet_name(ref["parquet"]):
            return f"year {year}: 'parquet' is not a file of the index ({ref['parquet']!r})"
        if ref["csv"] != f"{PREFIX}{entry['dataset']['id']}_{year}.csv":
            return f"year {year}: 'csv' is not the dataset's CSV of that year ({ref['csv']!r})"
    prefixes = entry.get("prefixes", [])
    if not isinstance(prefixes, list) or not all(isinstance(p, str) for p in prefixes):
        return "'prefixes' is not a list of folders"
    return _times_fault(entry) or _times_fault(entry, ("last_start", "modified"), optional=True)


def _fields_fault(obj: dict[str, Any], wanted: dict[str, type]) -> str | None:
    for name, kind in wanted.items():
        if name not in obj:
            return f"no {name!r}"
        if not isinstance(obj[name], kind):
            return f"{name!r} is not a {kind.__name__}"
    return None


def _times_fault(
    obj: dict[str, Any], names: tuple[str, ...] = ("start", "stop"), optional: bool = False
) -> str | None:
    for name in names:
        if optional and obj.get(name) is None:
            continue
        try:
            if pd.Timestamp(obj[name]) is pd.NaT:
                raise ValueError
        except (ValueError, TypeError):
            return f"{name!r} is not a time ({obj[name]!r})"
    return None


def dataset_from_manifest(entry: dict[str, Any]) -> Dataset:
    return Dataset(**entry["dataset"])


def parquet_files(manifest: dict[str, Any] | None) -> set[str]:
    """The parquet files a manifest names (relative to the index root)."""
    if not manifest:
        return set()
    return {
        y["parquet"] for e in manifest.get("datasets", {}).values() for y in e["years"].values()
    }


def year_digest(ref: dict[str, Any]) -> str | None:
    """The content digest of a year's parquet file, as the manifest records it."""
    found = _DIGEST.search(ref.get("parquet", ""))
    return ref.get("digest") or (found.group(1) if found else None)
