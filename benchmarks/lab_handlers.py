"""The SOC data browser's handlers on a 1,000,000-file catalog: does the panel's dataset list,
a month's files and the month's availability strip answer in under 300 ms at the handler?

In one run on the embedded store (a real `soc-workspace store serve` process):

1. the catalog benchmark's index is published (benchmarks/catalog_query.py: 1,000,000 HERMES
   l1 files of 4 instruments over 10 years, ~2% reprocessed; ~2,100 files per instrument-month);
2. a real `jupyter server` runs the extension (soc_workspace_lab) with a token, and the
   requests the panel makes are timed end to end over HTTP:
   - `datasets` (the tree),
   - `files` of one instrument-month (the first page of 50, with the month's total),
   - `availability` of that month (the strip);
   warm (a server that has answered before, as during a session; each month is a new one,
   so its year of the index may still be fetched) and cold (the first requests of a freshly
   started server, the catalog's disk cache cleared, asked 1 s after the server answers: a
   browser loads JupyterLab's page, megabytes of JavaScript, before the panel can ask).
   By default the extension reads the catalog's dataset list while the server starts; also
   timed: asking at once (`cold_at_once`, the start-up read not finished) and with that read
   turned off (`cold_no_read_at_start`, `LabSettings.read_catalog_at_start=False`: the
   first request reads the store);
3. baselines in the same run: the same catalog calls in-process, without the server (the floor:
   what the handler adds is the difference), and listing one instrument-month of objects with
   s3fs (what a browser without a catalog would have to do).

The last line is one JSON object: medians (p50) and 95th percentiles in milliseconds, the
ratios, and `under_300ms` for the slowest of the panel's requests (warm p95, and every cold
request of servers with the default settings).

    .venv/bin/python benchmarks/lab_handlers.py          # ~3-5 minutes on 2 cores
    .venv/bin/python benchmarks/lab_handlers.py --entries 100000 --repeats 5   # quick
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
import requests

sys.path.insert(0, str(Path(__file__).parent))
from catalog_query import (  # the catalog benchmark's index, reused as it is
    FIRST_YEAR,
    INSTRUMENTS,
    YEARS,
    _listing_buckets,
    _publish_index,
    _start_store,
)

TOKEN = "lab-handlers-benchmark-token"
LIMIT_MS = 300.0
PAGE_LOAD = 1.0  # s: JupyterLab's page loads before the panel can ask
DATASET = "hermes_eea_l1"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=15, help="months timed (warm)")
    parser.add_argument("--cold", type=int, default=5, help="fresh servers timed (cold)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="lab-bench-"))
    store = _start_store(work / "store")
    # As users' servers have it: the manifest is trusted for a minute (the default).
    os.environ.pop("SOC_WORKSPACE__CATALOG__MAX_AGE", None)
    try:
        _run(args, work)
    finally:
        store.terminate()
        store.wait(timeout=30)
        shutil.rmtree(work, ignore_errors=True)


class Server:
    """`jupyter server` with the extension, as users' servers load it (from etc/jupyter)."""

    def __init__(self, work: Path, *, read_catalog_at_start: bool = True) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        self.url = f"http://127.0.0.1:{port}/soc-workspace-lab"
        home = Path(tempfile.mkdtemp(dir=work, prefix="home-"))
        env = {**os.environ, "HOME": str(home), "JUPYTER_CONFIG_DIR": str(home / ".jupyter")}
        command = [sys.executable, "-m", "jupyter_server", "--no-browser", "--allow-root"]
        command += ["--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}"]
        command += [f"--ServerApp.root_dir={home}", f"--IdentityProvider.token={TOKEN}"]
        command += [f"--LabSettings.read_catalog_at_start={read_catalog_at_start}"]
        self.log = home / "server.log"
        with open(self.log, "w") as out:
            self.process = subprocess.Popen(command, env=env, stdout=out, stderr=out)
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"token {TOKEN}"
        deadline = time.monotonic() + 60
        while True:
            try:
                if self.session.get(f"http://127.0.0.1:{port}/api/status", timeout=2).ok:
                    return
            except requests.ConnectionError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise SystemExit(f"jupyter server did not start:\n{self.log.read_text()[-3000:]}")
            time.sleep(0.2)

    def get(self, path: str, **params: object) -> tuple[float, dict]:
        """Seconds for one request, and its answer."""
        t = time.perf_counter()
        response = self.session.get(f"{self.url}/{path}", params=params, timeout=60)
        took = time.perf_counter() - t
        if response.status_code != 200:
            raise SystemExit(f"{path} {params}: HTTP {response.status_code} {response.text}")
        return took, response.json()

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


def _month(start: pd.Timestamp) -> dict[str, str]:
    first = start.replace(day=1)
    stop = (first + pd.Timedelta(days=32)).replace(day=1)
    return {"start": f"{first:%Y-%m-%dT00:00:00Z}", "stop": f"{stop:%Y-%m-%dT00:00:00Z}"}


def _panel_requests(server: Server, month: dict[str, str]) -> dict[str, float]:
    """The panel's three requests for one month, as it makes them."""
    timings = {}
    timings["datasets"], answer = server.get("datasets")
    timings["month_files"], page = server.get("files", dataset=DATASET, offset=0, limit=50, **month)
    timings["month_availability"], strip = server.get("availability", dataset=DATASET, **month)
    in_strip = sum(d["files"] for d in strip["days"])
    if (
        not any(d["dataset"] == DATASET for d in answer["datasets"])
        or page["total"] == 0
        or len(page["files"]) != min(50, page["total"])
        or in_strip != page["total"]
    ):
        raise SystemExit(
            f"unexpected answers for {month}: {page['total']} files, {in_strip} in strip"
        )
    return timings


def _direct(month: dict[str, str]) -> dict[str, float]:
    """The same catalog calls in this process: what is left without the server."""
    from soc_workspace.catalog import list_datasets, search

    timings = {}
    t = time.perf_counter()
    list_datasets()
    timings["datasets"] = time.perf_counter() - t
    t = time.perf_counter()
    search(dataset=DATASET, start=month["start"], stop=month["stop"])
    timings["month_files"] = time.perf_counter() - t
    return timings


def _ms(values: list[float], q: float = 0.5) -> float:
    return float(pd.Series(values).quantile(q) * 1000)


def _run(args: argparse.Namespace, work: Path) -> None:
    from soc_workspace.catalog import clear_cache
    from soc_workspace.store import filesystem

    print(f"synthesising and publishing an index of {args.entries:,} files ...")
    _publish_index(args.entries)
    listing = _listing_buckets(args.entries / len(INSTRUMENTS) / YEARS)["month"]

    rng = random.Random(2)
    months = [
        _month(pd.Timestamp(FIRST_YEAR, 1, 1) + pd.Timedelta(days=rng.randrange(0, 365 * YEARS)))
        for _ in range(args.repeats + args.cold)
    ]
    kinds = ("datasets", "month_files", "month_availability")

    # name -> (read the catalog at start, seconds between the server answering and the panel
    # asking: JupyterLab's page loads first, 2 s and more in tests/test_lab_browser.py)
    starts = {
        "cold": (True, PAGE_LOAD),
        "cold_at_once": (True, 0.0),
        "cold_no_read_at_start": (False, PAGE_LOAD),
    }
    fresh: dict[str, dict[str, list[float]]] = {n: {k: [] for k in kinds} for n in starts}
    for name, (read_at_start, delay) in starts.items():
        print(f"{name}: {args.cold} freshly started servers ...")
        for month in months[: args.cold]:
            clear_cache(disk=True)
            server = Server(work, read_catalog_at_start=read_at_start)
            try:
                time.sleep(delay)
                for kind, seconds in _panel_requests(server, month).items():
                    fresh[name][kind].append(seconds)
            finally:
                server.stop()
    cold = fresh["cold"]

    print(f"warm: {args.repeats} months on one server ...")
    warm: dict[str, list[float]] = {k: [] for k in kinds}
    server = Server(work)
    try:
        _panel_requests(server, months[0])  # the session has used the panel before
        for month in months[args.cold :]:
            for kind, seconds in _panel_requests(server, month).items():
                warm[kind].append(seconds)
        page = server.get("files", dataset=DATASET, offset=0, limit=50, **months[-1])[1]
    finally:
        server.stop()

    direct: dict[str, list[float]] = {"datasets": [], "month_files": []}
    _direct(months[0])
    for month in months[args.cold :]:
        for kind, seconds in _direct(month).items():
            direct[kind].append(seconds)

    fs = filesystem(skip_instance_cache=True)
    fs.ls("bench-listing-month")  # connection set up before timing, as for the others
    listed = []
    for prefix in listing:
        fs.invalidate_cache()
        t = time.perf_counter()
        found = fs.find(prefix)
        listed.append(time.perf_counter() - t)

    results: dict[str, float | int | bool] = {
        "entries": args.entries,
        "files_per_month": page["total"],
        "listed_keys_per_month": len(found),
    }
    for kind in kinds:
        results[f"warm_{kind}_p50_ms"] = _ms(warm[kind])
        results[f"warm_{kind}_p95_ms"] = _ms(warm[kind], 0.95)
        results[f"cold_{kind}_p50_ms"] = _ms(cold[kind])
        results[f"cold_{kind}_max_ms"] = max(cold[kind]) * 1000
        for name in ("cold_at_once", "cold_no_read_at_start"):
            results[f"{name}_{kind}_p50_ms"] = _ms(fresh[name][kind])
    for kind in direct:
        results[f"direct_{kind}_p50_ms"] = _ms(direct[kind])
        results[f"handler_over_direct_{kind}"] = round(
            results[f"warm_{kind}_p50_ms"] / results[f"direct_{kind}_p50_ms"], 1
        )
    results["listing_month_p50_ms"] = _ms(listed)
    results["speedup_month_files_vs_listing"] = round(
        results["listing_month_p50_ms"] / results["warm_month_files_p50_ms"], 1
    )
    slowest_warm = max(results[f"warm_{k}_p95_ms"] for k in kinds)
    slowest_cold = max(results[f"cold_{k}_max_ms"] for k in kinds)
    results["slowest_warm_p95_ms"] = slowest_warm
    results["slowest_cold_ms"] = slowest_cold
    results["under_300ms"] = bool(slowest_warm < LIMIT_MS and slowest_cold < LIMIT_MS)
    for name, value in results.items():
        shown = f"{value:12.2f}" if isinstance(value, float) else f"{value!s:>12}"
        print(f"  {name:40s} {shown}")
    print(
        json.dumps(
            {k: round(v, 2) if isinstance(v, float) else v for k, v in results.items()},
            default=str,
        )
    )


if __name__ == "__main__":
    main()
