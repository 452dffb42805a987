"""Catalog queries: ours (warm and cold) against the cloudcatalog client and against listing.

In one run on the embedded store (a real `soc-workspace store serve` process):

1. an index of 1,000,000 files (HERMES l1 names of 4 instruments over 10 years, ~2% with a
   reprocessed second version) is synthesised and published with the catalog's own code into
   the four instrument buckets (the objects themselves need not exist);
2. one-day and one-month queries for all four instruments are timed:
   (a) ours, warm (index in memory) and cold (memory and disk caches cleared: fetched from S3);
   (b) HelioCloud's `cloudcatalog` client on the same index (its CSV files);
   (c) listing the day or month prefixes with s3fs, on a smaller real bucket holding one
       instrument-month of objects at the same density, times four instruments.
The last line is one JSON object: medians and ratios (ours warm against each baseline, the
smaller of the day and month ratios; the same with ours cold).

    .venv/bin/python benchmarks/catalog_query.py            # ~3 minutes on 2 cores
    .venv/bin/python benchmarks/catalog_query.py --entries 100000 --repeats 5   # quick
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from soc_workspace.store.process import serve_in_subprocess

INSTRUMENTS = {"eea": "eea", "nemisis": "nem", "merit": "mrt", "spani": "spn"}
FIRST_YEAR, YEARS = 2016, 10


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=15, help="queries timed per kind")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="catalog-bench-"))
    store = _start_store(work / "store")
    try:
        _run(args, work)
    finally:
        store.terminate()
        store.wait(timeout=30)
        shutil.rmtree(work, ignore_errors=True)


def _start_store(state: Path) -> subprocess.Popen:
    try:
        store = serve_in_subprocess(state)
    except RuntimeError as err:
        raise SystemExit(str(err)) from None
    os.environ.update(
        store.environment(),
        SOC_WORKSPACE__CATALOG__CACHE_DIR=str(state.parent / "cache"),
        SOC_WORKSPACE__CATALOG__MAX_AGE="3600",
    )
    return store.process


def _synthesise(instrument: str, n: int, rng: np.random.Generator) -> pd.DataFrame:
    """Raw rows of ``n`` files of one instrument, evenly over the years, ~2% reprocessed."""
    short = INSTRUMENTS[instrument]
    first = pd.Timestamp(f"{FIRST_YEAR}-01-01", tz="UTC")
    span = pd.Timestamp(f"{FIRST_YEAR + YEARS}-01-01", tz="UTC") - first
    originals = int(n / 1.02)
    step = span / originals
    starts = first + step * np.arange(originals)
    starts = pd.DatetimeIndex(starts).floor("s")
    redo = np.sort(rng.choice(originals, n - originals, replace=False))
    start = starts.append(starts[redo])
    version = ["1.0.0"] * originals + ["1.0.1"] * (n - originals)
    stamp = start.strftime("%Y%m%dT%H%M%S")
    folder = start.strftime("%Y/%m/%d")
    names = pd.Series([f"hermes_{short}_l1_{s}_v" for s in stamp]) + pd.Series(version) + ".cdf"
    urls = f"s3://hermes-{instrument}/l1/unknown/" + pd.Series(folder) + "/" + names
    return pd.DataFrame(
        {
            "start": start,
            "url": urls,
            "filesize": rng.integers(200_000, 2_000_000, n),
            "version": version,
            "etag": [f"{i:032x}" for i in rng.integers(0, 2**62, n)],
            "modified": start + pd.Timedelta("10min"),
        }
    )


def _publish_index(entries: int) -> None:
    from soc_workspace.catalog.datasets import Dataset, finish_table
    from soc_workspace.catalog.index import publish
    from soc_workspace.catalog.location import IndexWriter, locate
    from soc_workspace.config import current_settings

    settings = current_settings()
    rng = np.random.default_rng(0)
    for instrument in INSTRUMENTS:
        t = time.perf_counter()
        location = locate(f"hermes-{instrument}", settings)
        location.fs.mkdir(location.bucket)
        table = finish_table(_synthesise(instrument, entries // len(INSTRUMENTS), rng))
        dataset = Dataset(f"hermes_{instrument}_l1", "hermes", instrument, "l1", filetype="cdf")
        writer = IndexWriter(location, operator=False, endpoint=os.environ["AWS_ENDPOINT_URL_S3"])
        publish(writer, {dataset.id: dataset}, {dataset.id: table}, None, complete=True, skipped=[])
        took = time.perf_counter() - t
        print(f"  indexed {len(table):,} files of hermes-{instrument} in {took:.1f} s")


def _listing_buckets(density_per_year: float) -> dict[str, list[str]]:
    """Real buckets of (tiny) objects at the index's density, one instrument: query -> prefixes.

    moto scans a whole bucket for every listing, which S3 does not; so each kind of listing
    gets a bucket holding only what it lists: one day (two prefixes) and one month.
    """
    from soc_workspace.store import filesystem

    fs = filesystem(skip_instance_cache=True)
    month = pd.Timestamp("2021-03-01", tz="UTC")
    per_month = int(density_per_year / 12)
    step = pd.Timedelta(days=31) / per_month
    times = [month + step * i for i in range(per_month)]

    def key(t: pd.Timestamp) -> str:
        return f"l1/unknown/{t:%Y/%m/%d}/hermes_eea_l1_{t:%Y%m%dT%H%M%S}_v1.0.0.cdf"

    content = {
        "bench-listing-day": [key(t) for t in times if t.day in (5, 17)],
        "bench-listing-month": [key(t) for t in times],
    }
    for bucket, keys in content.items():
        fs.mkdir(bucket)
        fs.pipe({f"{bucket}/{k}": b"x" for k in keys})
    print(f"  listing buckets: {len(times):,} objects for March 2021 (one instrument)")
    return {
        "day": [f"bench-listing-day/l1/unknown/2021/03/{d:02d}" for d in (5, 17)] * 2,
        "month": ["bench-listing-month/l1/unknown/2021/03"] * 3,
    }


def _p50(times: list[float]) -> float:
    return statistics.median(times) * 1000


def _run(args: argparse.Namespace, work: Path) -> None:
    import cloudcatalog

    from soc_workspace.catalog import clear_cache, search
    from soc_workspace.store import filesystem

    print(f"synthesising and publishing an index of {args.entries:,} files ...")
    _publish_index(args.entries)
    per_year = args.entries / len(INSTRUMENTS) / YEARS
    listing_prefixes = _listing_buckets(per_year)

    rng = random.Random(1)
    days = [
        pd.Timestamp(FIRST_YEAR, 1, 1, tz="UTC") + pd.Timedelta(days=rng.randrange(1, 3640))
        for _ in range(args.repeats)
    ]
    queries = {
        "day": [(d, d + pd.Timedelta(days=1)) for d in days],
        "month": [
            (d.replace(day=1), (d.replace(day=1) + pd.Timedelta(days=32)).replace(day=1))
            for d in days
        ],
    }
    results: dict[str, float] = {"entries": args.entries}
    clients = {
        i: cloudcatalog.CloudCatalog(
            f"s3://hermes-{i}", endpoint_url=os.environ["AWS_ENDPOINT_URL_S3"]
        )
        for i in INSTRUMENTS
    }
    fs = filesystem(skip_instance_cache=True)
    fs.ls("bench-listing-day")  # the client's connection set up before timing, as for ours
    for kind, spans in queries.items():
        print(f"{kind} queries over the 4 instruments ({len(spans)} each):")
        cold, warm, theirs, listing, counts = [], [], [], [], []
        for t0, t1 in spans:
            clear_cache(disk=True)
            t = time.perf_counter()
            found = search("hermes", level="l1", start=t0, stop=t1)
            cold.append(time.perf_counter() - t)
            counts.append(len(found))
        for t0, t1 in spans:  # a session that has searched these years before
            search("hermes", level="l1", start=t0, stop=t1)
        for t0, t1 in spans:
            t = time.perf_counter()
            again = search("hermes", level="l1", start=t0, stop=t1)
            warm.append(time.perf_counter() - t)
        assert len(again) == counts[-1]
        for t0, t1 in spans[: max(3, len(spans) // 3)]:  # the baselines are slow: fewer runs
            iso = (f"{t0:%Y-%m-%dT%H:%M:%S}Z", f"{t1:%Y-%m-%dT%H:%M:%S}Z")
            t = time.perf_counter()
            frames = [clients[i].request_cloud_catalog(f"hermes_{i}_l1", *iso) for i in INSTRUMENTS]
            theirs.append(time.perf_counter() - t)
            _check_same(frames, search("hermes", level="l1", start=t0, stop=t1, version="all"), t0)
        prefixes = listing_prefixes[kind]
        for prefix in prefixes:
            fs.invalidate_cache()
            t = time.perf_counter()
            listed = fs.find(prefix)
            listing.append((time.perf_counter() - t) * len(INSTRUMENTS))
        row = {
            f"warm_{kind}_p50_ms": _p50(warm),
            f"cold_{kind}_p50_ms": _p50(cold),
            f"cloudcatalog_{kind}_p50_ms": _p50(theirs),
            f"listing_{kind}_p50_ms": _p50(listing),
            f"files_per_{kind}_query": statistics.median(counts),
            f"listed_keys_per_{kind}_prefix": len(listed),
        }
        for name, value in row.items():
            print(f"  {name:32s} {value:12.2f}")
        results.update(row)
    results["warm_p50_ms"] = max(results["warm_day_p50_ms"], results["warm_month_p50_ms"])
    results["cold_p50_ms"] = max(results["cold_day_p50_ms"], results["cold_month_p50_ms"])
    for base in ("cloudcatalog", "listing"):
        for mode in ("warm", "cold"):
            ratio = min(
                results[f"{base}_{k}_p50_ms"] / results[f"{mode}_{k}_p50_ms"] for k in queries
            )
            suffix = "" if mode == "warm" else "_cold"
            results[f"speedup_vs_{base}{suffix}"] = round(ratio, 1)
    print(json.dumps({k: round(v, 3) if isinstance(v, float) else v for k, v in results.items()}))


def _check_same(frames: list[pd.DataFrame], ours: pd.DataFrame, t0: pd.Timestamp) -> None:
    """Both answer the same question: the cloudcatalog client also keeps files ending at t0."""
    theirs = pd.concat([f for f in frames if len(f)])
    naive = t0.tz_convert(None)
    theirs = theirs[theirs["stop"] > naive]
    if set(theirs["datakey"]) != set(ours["url"]):
        raise SystemExit(
            f"results differ: cloudcatalog {len(theirs)} files, ours {len(ours)} (query at {t0})"
        )


if __name__ == "__main__":
    main()
