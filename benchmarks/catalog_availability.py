"""Data availability: ours against counting a search result, on the 1M-entry benchmark index.

In one run on the embedded store (a real `soc-workspace store serve` process), the index of
benchmarks/catalog_query.py (1,000,000 HERMES l1 files of 4 instruments over 10 years) is
published, then a year of every dataset, per day, is counted:

(a) ours: ``availability(start=, stop=, freq="1D")``, warm (index in memory) and cold (memory
    and disk caches cleared: fetched from S3);
(b) the baseline a user would write: ``search(...)`` for the same year, then a pandas groupby
    of the rows per dataset and day (files, bytes, newest version; no coverage).
Both must count the same files and bytes. The goal: ours warm <= 200 ms. The last line is one
JSON object of medians (ms) and the ratio baseline / ours (warm).

    .venv/bin/python benchmarks/catalog_availability.py              # ~2 minutes on 2 cores
    .venv/bin/python benchmarks/catalog_availability.py --entries 100000 --repeats 3
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import pandas as pd
from catalog_query import FIRST_YEAR, YEARS, _publish_index, _start_store


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=7, help="queries timed per kind")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="availability-bench-"))
    store = _start_store(work / "store")
    try:
        _run(args)
    finally:
        store.terminate()
        store.wait(timeout=30)
        shutil.rmtree(work, ignore_errors=True)


def _baseline(start: pd.Timestamp, stop: pd.Timestamp) -> pd.DataFrame:
    """Files, bytes and newest version per dataset and day, from a search's rows."""
    from soc_workspace.catalog import search

    rows = search(start=start, stop=stop)
    rows["period"] = rows["start"].dt.floor("1D")
    return rows.groupby(["dataset", "period"]).agg(
        files=("url", "size"), bytes=("filesize", "sum"), newest_version=("version", "max")
    )


def _median_ms(times: list[float]) -> float:
    return round(statistics.median(times) * 1000, 1)


def _run(args: argparse.Namespace) -> None:
    from soc_workspace.catalog import availability, clear_cache

    print(f"synthesising and publishing an index of {args.entries:,} files ...")
    _publish_index(args.entries)
    years = [FIRST_YEAR + (i * 3) % YEARS for i in range(args.repeats)]
    spans = [(pd.Timestamp(y, 1, 1, tz="UTC"), pd.Timestamp(y + 1, 1, 1, tz="UTC")) for y in years]
    cold, warm, base = [], [], []
    for t0, t1 in spans:
        clear_cache(disk=True)
        t = time.perf_counter()
        availability(start=t0, stop=t1, freq="1D")
        cold.append(time.perf_counter() - t)
    for t0, t1 in spans:  # a session that has looked at these years before, for both
        availability(start=t0, stop=t1, freq="1D")
        _baseline(t0, t1)
    for t0, t1 in spans:
        t = time.perf_counter()
        table = availability(start=t0, stop=t1, freq="1D")
        warm.append(time.perf_counter() - t)
        t = time.perf_counter()
        theirs = _baseline(t0, t1)
        base.append(time.perf_counter() - t)
        # the same files and bytes as the baseline counted, per dataset
        ours = table.groupby("dataset")[["files", "bytes"]].sum()
        counted = theirs.groupby("dataset")[["files", "bytes"]].sum()
        pd.testing.assert_frame_equal(ours, counted, check_dtype=False)
    files = int(table["files"].sum())
    print(
        f"a year ({files:,} files, {table['dataset'].nunique()} datasets, {len(table):,} rows): "
        f"ours warm {_median_ms(warm)} ms, cold {_median_ms(cold)} ms; "
        f"search + groupby {_median_ms(base)} ms"
    )
    result = {
        "entries": args.entries,
        "files_in_a_year": files,
        "ours_warm_p50_ms": _median_ms(warm),
        "ours_cold_p50_ms": _median_ms(cold),
        "baseline_search_groupby_p50_ms": _median_ms(base),
        "baseline_over_ours_warm": round(statistics.median(base) / statistics.median(warm), 2),
        "goal_warm_ms": 200,
        "goal_met": statistics.median(warm) <= 0.2,
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
