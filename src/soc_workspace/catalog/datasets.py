"""Datasets and their file tables: which files belong together, when each covers, which is newest.

A dataset is one mission, instrument and level, plus the descriptor and mode where the file
names carry them: ``hermes_eea_l1``, ``padre_meddea_l0_photon``. Test products get their own
datasets (``padre_meddea_l0test_photon``) so they never mix with flight data.

A dataset's file table has one row per object, sorted by start time, with columns
``start, stop, url, filesize, version, etag, modified, latest`` (see ``TABLE_SCHEMA``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from ..missions import KeyInfo, get_mission, parse_bucket, parse_key

_ID_PART = re.compile(r"[^A-Za-z0-9-]+")

TABLE_SCHEMA = pa.schema(
    [
        ("start", pa.timestamp("ms", tz="UTC")),
        ("stop", pa.timestamp("ms", tz="UTC")),
        ("url", pa.string()),
        ("filesize", pa.int64()),
        ("version", pa.string()),
        ("etag", pa.string()),
        ("modified", pa.timestamp("ms", tz="UTC")),
        ("latest", pa.bool_()),
    ]
)
COLUMNS = TABLE_SCHEMA.names


@dataclass(frozen=True)
class Dataset:
    """What every file of one dataset shares."""

    id: str
    mission: str | None
    instrument: str | None
    level: str | None
    descriptor: str | None = None
    mode: str | None = None
    test: bool = False
    filetype: str = "other"  # CloudCatalog's word for the file format: cdf, fits, binary, ...

    @property
    def full_level(self) -> str | None:
        """The level as file names write it: ``l0``, or ``l0test`` for test products."""
        return None if self.level is None else self.level + ("test" if self.test else "")

    @property
    def title(self) -> str:
        if self.mission is None:
            return self.id
        m = get_mission(self.mission)
        inst = m.instrument(self.instrument or "")
        words = [m.name.upper(), inst.full_name, self.level or ""]
        words += [w for w in (self.descriptor, self.mode) if w]
        if self.test:
            words.append("(test products)")
        return " ".join(words)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


_FILETYPES = {"cdf": "cdf", "fits": "fits", "fts": "fits", "csv": "csv", "txt": "txt"}


def dataset_for(key: KeyInfo) -> Dataset:
    """The dataset a parsed object key belongs to."""
    info = key.file
    parts = [info.mission, info.instrument, info.level + ("test" if info.test else "")]
    parts += [_ID_PART.sub("-", p) for p in (info.descriptor, info.mode) if p]
    return Dataset(
        id="_".join(parts),
        mission=info.mission,
        instrument=info.instrument,
        level=info.level,
        descriptor=info.descriptor,
        mode=info.mode,
        test=info.test,
        filetype=_FILETYPES.get(info.extension.lower(), "binary"),
    )


@dataclass(frozen=True)
class StoredObject:
    """One object as a listing or a HEAD request describes it."""

    key: str
    size: int
    etag: str
    modified: datetime | None


@dataclass(frozen=True)
class Skipped:
    """An object the catalog could not place, and why."""

    key: str
    reason: str


def group_objects(
    bucket: str, objects: Iterable[StoredObject]
) -> tuple[dict[str, Dataset], dict[str, pd.DataFrame], list[Skipped]]:
    """Sort the objects of ``bucket`` into datasets: (datasets, raw file rows, skipped).

    Objects whose key does not parse, or that belong to another instrument than the bucket's,
    are returned in ``skipped`` with the reason; nothing is dropped silently.
    """
    try:
        owner = parse_bucket(bucket)
    except ValueError:
        owner = None  # any bucket may hold SOC files; only instrument buckets are checked
    datasets: dict[str, Dataset] = {}
    rows: dict[str, list[tuple]] = {}
    skipped: list[Skipped] = []
    for obj in objects:
        try:
            key = parse_key(obj.key)
        except ValueError as err:
            skipped.append(Skipped(obj.key, str(err)))
            continue
        info = key.file
        if owner and (info.mission, info.instrument) != (owner.mission, owner.instrument):
            skipped.append(
                Skipped(
                    obj.key,
                    f"a {info.mission} {info.instrument} file in the {owner.mission} "
                    f"{owner.instrument} bucket {bucket!r}",
                )
            )
            continue
        ds = dataset_for(key)
        datasets.setdefault(ds.id, ds)
        rows.setdefault(ds.id, []).append(
            (info.time, f"s3://{bucket}/{obj.key}", obj.size, info.version, obj.etag, obj.modified)
        )
    frames = {
        ds_id: pd.DataFrame(
            r, columns=["start", "url", "filesize", "version", "etag", "modified"]
        ).astype({"filesize": "int64"})
        for ds_id, r in rows.items()
    }
    return datasets, frames, skipped


def finish_table(rows: pd.DataFrame) -> pd.DataFrame:
    """Sort one dataset's rows, estimate stop times and mark the newest version of each file.

    File names carry only a start time, so ``stop`` is estimated: the start of the next file,
    and at most the dataset's typical spacing (the median gap between file starts) after the
    file's own start. A dataset of one file gets ``stop == start``.

    Versions of one file share its start time; the newest is the highest version
    (``X.Y.Z`` compared as numbers), then the most recently modified, then the last URL.
    """
    df = rows.copy()
    df["start"] = _utc_ms(df["start"])
    df["modified"] = _utc_ms(df["modified"]) if "modified" in df else pd.NaT
    df["etag"] = df["etag"].fillna("").astype(str).str.strip('"')
    df["version"] = df["version"].astype(object).where(df["version"].notna(), None)
    df = df.drop_duplicates("url", keep="last")
    order = _version_order(df["version"])
    df = (
        df.assign(_v=order)
        .sort_values(["start", "_v", "modified", "url"], na_position="first", kind="stable")
        .drop(columns="_v")
    )
    df["latest"] = ~df.duplicated("start", keep="last")
    df["stop"] = estimate_stops(df["start"])
    return df[COLUMNS].reset_index(drop=True)


def estimate_stops(starts: pd.Series) -> pd.Series:
    """Stop times for sorted start times (see :func:`finish_table`)."""
    t = starts.to_numpy("datetime64[ms]").astype("int64")
    unique = np.unique(t)
    spacing = int(np.median(np.diff(unique))) if len(unique) > 1 else 0
    following = np.append(unique[1:], unique[-1] + spacing) if len(unique) else unique
    stops = np.minimum(following, unique + spacing)
    mapped = stops[np.searchsorted(unique, t)]
    return pd.Series(
        pd.to_datetime(mapped, unit="ms", utc=True), index=starts.index, name="stop"
    ).astype("datetime64[ms, UTC]")


def _utc_ms(values: pd.Series) -> pd.Series:
    return pd.to_datetime(values, utc=True).astype("datetime64[ms, UTC]")


def version_key(version: str | None) -> tuple[int, ...]:
    """Order of a version string: ``1.0.10`` > ``1.0.9``; raw ``v01`` is (1,); none is lowest."""
    if not version:
        return (-1,)
    parts = re.findall(r"\d+", version)
    return tuple(int(p) for p in parts) or (-1,)


def _version_order(versions: pd.Series) -> np.ndarray:
    """A rank per row that sorts versions numerically (few distinct versions: rank those)."""
    distinct = sorted({v for v in versions if v is not None}, key=version_key)
    rank = {v: i for i, v in enumerate(distinct)}
    return np.array([rank.get(v, -1) if v is not None else -1 for v in versions], dtype="int64")


def to_arrow(table: pd.DataFrame) -> pa.Table:
    return pa.Table.from_pandas(table[COLUMNS], schema=TABLE_SCHEMA, preserve_index=False)
