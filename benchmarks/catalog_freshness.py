"""A live catalog: time from an upload to `search` returning the file, with `catalog watch`.

In one run on the embedded store (a real `soc-workspace store serve` process, whose moto server
sends S3 event notifications to its SQS queue), with a day of demo HERMES EEA data indexed:

1. ours: a real `soc-workspace catalog watch --subscribe` process; N new files are uploaded at
   the pipeline's pace (default 100 per minute); a poller searches (``catalog.max_age`` 0: each
   search reads the manifest again) every 0.1 s and notes when each file is first returned;
2. baseline, the way before this: no watcher, a `catalog update` (listing the newest date
   folders) every ``--baseline-every`` seconds, as a cron job would, for N/4 more uploads at
   the same pace.
Then a full `catalog build` of the bucket into a separate index must hold exactly the files of
the live index (missed: in the build, not live; extra: live, not in the build; duplicated: a
file indexed twice). The last line is one JSON object: p50/p95 of both, counts, the ratio.

    .venv/bin/python benchmarks/catalog_freshness.py                 # ~2.5 minutes
    .venv/bin/python benchmarks/catalog_freshness.py --uploads 20 --per-minute 200   # quick
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
from bench_store import embedded_store

BUCKET = "hermes-eea"
DAY = date(2025, 6, 1)
NEW_DAY = datetime(2025, 6, 2)  # uploads: one file a minute of the next day
QUEUE = "catalog-events"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--uploads", type=int, default=100)
    parser.add_argument("--per-minute", type=float, default=100.0, help="the pipeline's pace")
    parser.add_argument("--baseline-every", type=float, default=30.0, help="cron period (s)")
    args = parser.parse_args()
    with embedded_store("freshness-bench-", SOC_WORKSPACE__CATALOG__MAX_AGE="0") as work:
        _run(args, work)


class Uploads:
    """Uploads at a pace, and a poller noting when search first returns each one."""

    def __init__(self, fs, template: bytes) -> None:  # type: ignore[no-untyped-def]
        self.fs, self.template = fs, template
        self.uploaded: dict[str, float] = {}  # url -> time of the upload's answer
        self.seen: dict[str, float] = {}
        self.stop = threading.Event()

    def poll(self) -> None:
        from soc_workspace.catalog import search

        while not self.stop.is_set():
            found = search("hermes", "eea", "l1", NEW_DAY, NEW_DAY + timedelta(days=1))
            now = time.monotonic()
            for url in found["url"]:
                self.seen.setdefault(url, now)
            time.sleep(0.1)

    def upload(self, first: int, count: int, per_minute: float) -> None:
        from soc_workspace.missions import key_for, parse_filename

        step = 60.0 / per_minute
        begin = time.monotonic()
        for i in range(first, first + count):
            time.sleep(max(0.0, begin + (i - first) * step - time.monotonic()))
            stamp = NEW_DAY + timedelta(minutes=i)
            name = f"hermes_eea_l1_{stamp:%Y%m%dT%H%M%S}_v1.0.0.cdf"
            key = key_for(parse_filename(name))
            self.fs.pipe(f"{BUCKET}/{key}", self.template)
            self.uploaded[f"s3://{BUCKET}/{key}"] = time.monotonic()

    def delays(self, urls: list[str]) -> list[float]:
        return [self.seen[u] - self.uploaded[u] for u in urls if u in self.seen]


def _watcher(log: Path) -> subprocess.Popen:
    import boto3

    argv = [sys.executable, "-m", "soc_workspace", "catalog", "watch", "--queue", QUEUE]
    proc = subprocess.Popen([*argv, "--subscribe"], stdout=log.open("w"), stderr=subprocess.STDOUT)
    s3 = boto3.client("s3", endpoint_url=os.environ["AWS_ENDPOINT_URL_S3"])
    deadline = time.monotonic() + 120
    while not s3.get_bucket_notification_configuration(Bucket=BUCKET).get("QueueConfigurations"):
        if proc.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"catalog watch did not subscribe: {log.read_text()}")
        time.sleep(0.2)
    return proc


def _percentiles(delays: list[float]) -> tuple[float | None, float | None]:
    if not delays:
        return None, None
    return round(float(np.percentile(delays, 50)), 3), round(float(np.percentile(delays, 95)), 3)


def _against_full_build(work: Path) -> dict[str, int]:
    """The live index against a build from scratch (into a folder of its own)."""
    from soc_workspace.catalog import build, search
    from soc_workspace.config import current_settings

    settings = current_settings()
    fresh = settings.model_copy(
        update={"catalog": settings.catalog.model_copy(update={"url": str(work / "rebuilt")})}
    )
    build(BUCKET, progress=False, settings=fresh)
    span = ("2025-01-01", "2026-01-01")
    live = search("hermes", "eea", "l1", *span, version="all")
    full = search("hermes", "eea", "l1", *span, version="all", settings=fresh)
    live_urls, full_urls = set(live["url"]), set(full["url"])
    return {
        "indexed_live": len(live),
        "indexed_by_full_build": len(full),
        "missed": len(full_urls - live_urls),
        "extra": len(live_urls - full_urls),
        "duplicated": len(live) - len(live_urls),
    }


def _run(args: argparse.Namespace, work: Path) -> None:
    from soc_workspace.catalog import update
    from soc_workspace.demo import write_demo_data
    from soc_workspace.store import filesystem

    write_demo_data(days=1, start=DAY, instruments=["eea"], progress=False)
    fs = filesystem(skip_instance_cache=True)
    template = fs.cat(next(p for p in fs.find(f"{BUCKET}/l1") if p.endswith(".cdf")))
    log = work / "watch.log"
    watcher = _watcher(log)
    runs = Uploads(fs, template)
    poller = threading.Thread(target=runs.poll, daemon=True)
    poller.start()
    print(f"ours: {args.uploads} uploads at {args.per_minute:g}/min with catalog watch ...")
    runs.upload(0, args.uploads, args.per_minute)
    ours = list(runs.uploaded)
    deadline = time.monotonic() + 30
    while not set(ours) <= set(runs.seen) and time.monotonic() < deadline:
        time.sleep(0.2)
    watcher.terminate()
    watcher.wait(timeout=30)

    baseline = max(1, args.uploads // 4)
    print(f"baseline: {baseline} uploads, `catalog update` every {args.baseline_every:g} s ...")
    cron_stop = threading.Event()

    def cron() -> None:
        while not cron_stop.wait(args.baseline_every):
            update(BUCKET, progress=False)

    cron_thread = threading.Thread(target=cron, daemon=True)
    cron_thread.start()
    runs.upload(args.uploads, baseline, args.per_minute)
    theirs = [u for u in runs.uploaded if u not in ours]
    deadline = time.monotonic() + 2 * args.baseline_every + 30
    while not set(theirs) <= set(runs.seen) and time.monotonic() < deadline:
        time.sleep(0.2)
    cron_stop.set()
    runs.stop.set()
    poller.join(timeout=30)
    cron_thread.join(timeout=120)

    ours_p50, ours_p95 = _percentiles(runs.delays(ours))
    base_p50, base_p95 = _percentiles(runs.delays(theirs))
    checked = _against_full_build(work)
    lines = log.read_text().splitlines()
    batches = [line for line in lines if "message(s)" in line]
    print(f"ours: p50 {ours_p50} s, p95 {ours_p95} s over {len(batches)} batches; ", end="")
    print(f"baseline: p50 {base_p50} s, p95 {base_p95} s; against a full build: {checked}")
    result = {
        "uploads": args.uploads,
        "per_minute": args.per_minute,
        "upload_to_searchable_p50_s": ours_p50,
        "upload_to_searchable_p95_s": ours_p95,
        "not_searchable_within_30s": len(set(ours) - set(runs.seen)),
        "watch_batches": len(batches),
        "watch_failed_batches": sum("FAILED" in line for line in lines),
        "baseline_cron_every_s": args.baseline_every,
        "baseline_upload_to_searchable_p50_s": base_p50,
        "baseline_upload_to_searchable_p95_s": base_p95,
        "baseline_over_ours_p50": (
            round(base_p50 / ours_p50, 1) if base_p50 and ours_p50 else None
        ),
        **checked,
        "goal_p95_s": 2.0,
        "goal_met": bool(
            ours_p95 is not None
            and ours_p95 <= 2.0
            and checked["missed"] == checked["extra"] == checked["duplicated"] == 0
        ),
        "search_max_age_s": 0,
        "median_batch_messages": statistics.median(
            [int(b.split(" message(s)")[0].split()[-1]) for b in batches] or [0]
        ),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
