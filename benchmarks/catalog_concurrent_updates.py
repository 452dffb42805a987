"""Two `soc-workspace catalog update` processes at once, 25 rounds: nothing may be lost.

In one run on the embedded store (a real `soc-workspace store serve` process): a bucket of a
month of 5-minute HERMES EEA files is indexed; then

1. baseline: single `catalog update --keys` processes, one at a time, each adding one new file;
2. ours: 25 rounds, each uploading two new files of the same dataset and year and releasing
   two `catalog update` processes at once, one per file (so both rewrite the same year file).
   Each process runs the real command (``soc_workspace.cli.main``) after its imports, on a
   signal given to both (imports take seconds on a busy machine and would keep them apart).

After every round the index must list exactly the files uploaded so far, through our search
and through HelioCloud's `cloudcatalog` client, and every file its manifest names must exist
(tests/catalog_checks.py). Races are counted from the updates' own log ("applying this update
to it again": a publish that lost the race and was applied again). The last line is one JSON
object: rounds, rounds that lost something, failed updates, races, and the median wall time
(from the signal to both ending) of a two-update round against one update alone.

    .venv/bin/python benchmarks/catalog_concurrent_updates.py            # 5-15 minutes on 2 cores
    .venv/bin/python benchmarks/catalog_concurrent_updates.py --rounds 5  # quick
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT / "tests"))  # the same index check as the tests

BUCKET = "hermes-eea"
DATASET = "hermes_eea_l1"
MONTH = datetime(2025, 6, 1, tzinfo=UTC)
SPAN = ("2025-01-01T00:00:00Z", "2026-01-01T00:00:00Z")
UPDATE = ["-v", "catalog", "update", "-b", BUCKET, "-q"]
RETRIED = "applying this update to it again"
# Each update is the real `soc-workspace` command (cli.main) in a process of its own; the
# processes import first and start together, as two event consumers on a warm machine would
# (imports take seconds here, which would otherwise keep them from overlapping at all).
GATE = """
import pathlib, sys, time
import soc_workspace.catalog.cli
from soc_workspace.cli import main
ready, go = map(pathlib.Path, sys.argv[1:3])
ready.touch()
while not go.exists():
    time.sleep(0.002)
main(sys.argv[3:])
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=25)
    parser.add_argument("--singles", type=int, default=5, help="baseline updates timed")
    args = parser.parse_args()
    from bench_store import embedded_store

    with embedded_store("catalog-concurrency-bench-", SOC_WORKSPACE__CATALOG__MAX_AGE="0") as work:
        _run(args, work)


def _key(when: datetime) -> str:
    from soc_workspace.missions import key_for, make_filename, parse_filename

    name = make_filename(mission="hermes", instrument="eea", level="l1", time=when, version="1.0.0")
    return key_for(parse_filename(name))


def _updates(keys: list[str], work: Path) -> tuple[float, list[str], int]:
    """Run one update per key, released at once; (wall seconds, failures, races retried)."""
    go = work / "go"
    go.unlink(missing_ok=True)
    procs, ready = [], []
    for i, key in enumerate(keys):
        listing, flag = work / f"keys-{i}.txt", work / f"ready-{i}"
        listing.write_text(key + "\n")
        flag.unlink(missing_ok=True)
        ready.append(flag)
        gate = [sys.executable, "-c", GATE, str(flag), str(go)]
        procs.append(
            subprocess.Popen(
                [*gate, *UPDATE, "--keys", str(listing)],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
        )
    while not all(f.exists() for f in ready):
        if any(p.poll() is not None for p in procs):
            raise SystemExit(f"an update process ended early: {procs[0].communicate()}")
        time.sleep(0.01)
    began = time.perf_counter()
    go.touch()
    outputs = [p.communicate(timeout=600) for p in procs]
    took = time.perf_counter() - began
    failures = [
        f"update of {key} exited {p.returncode}: {err.strip()[-500:]}"
        for key, p, (_out, err) in zip(keys, procs, outputs, strict=True)
        if p.returncode
    ]
    return took, failures, sum(err.count(RETRIED) for _out, err in outputs)


def _run(args: argparse.Namespace, work: Path) -> None:
    import s3fs
    from catalog_checks import index_problems

    from soc_workspace.catalog import build

    fs = s3fs.S3FileSystem(endpoint_url=os.environ["AWS_ENDPOINT_URL_S3"], key="k", secret="s")
    fs.mkdir(BUCKET)
    month = [MONTH + timedelta(minutes=5 * i) for i in range(30 * 24 * 12)]
    fs.pipe({f"{BUCKET}/{_key(t)}": b"x" for t in month})
    expected = {f"s3://{BUCKET}/{_key(t)}" for t in month}
    build(BUCKET, progress=False)
    print(f"indexed {len(month):,} files of {BUCKET}")
    new = (MONTH + timedelta(days=40, seconds=7 * i) for i in range(10**6))  # fresh names

    singles = []
    for _ in range(args.singles):
        key = _key(next(new))
        fs.pipe_file(f"{BUCKET}/{key}", b"new")
        expected.add(f"s3://{BUCKET}/{key}")
        took, failures, _ = _updates([key], work)
        if failures:
            raise SystemExit("\n".join(failures))
        singles.append(took)
    print(f"one update alone: median {statistics.median(singles):.2f} s")

    rounds, lost, failed, races = [], 0, 0, 0
    for round_ in range(args.rounds):
        keys = [_key(next(new)) for _ in range(2)]
        fs.pipe({f"{BUCKET}/{k}": b"new" for k in keys})
        expected |= {f"s3://{BUCKET}/{k}" for k in keys}
        took, failures, retried = _updates(keys, work)
        problems = failures + index_problems(BUCKET, DATASET, expected, *SPAN)
        rounds.append(took)
        failed += len(failures)
        races += retried
        lost += bool(problems)
        state = "; ".join(problems) if problems else "nothing lost"
        print(f"round {round_ + 1:2d}: {took:.2f} s, {retried} race(s) retried, {state}")
    print(
        json.dumps(
            {
                "rounds": args.rounds,
                "rounds_losing_something": lost,
                "failed_updates": failed,
                "races_retried": races,
                "median_round_s": round(statistics.median(rounds), 3),
                "median_single_update_s": round(statistics.median(singles), 3),
                "round_vs_single_ratio": round(
                    statistics.median(rounds) / statistics.median(singles), 2
                ),
            }
        )
    )


if __name__ == "__main__":
    main()
