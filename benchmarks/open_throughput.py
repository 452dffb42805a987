"""How fast ``open_mfdataset`` turns S3 objects into one Dataset, against two baselines.

Against an embedded S3 endpoint (``soc-workspace store serve`` in its own process, as in the
local workspace) holding >= 200 HERMES EEA l1 CDF files (>= 200 MB), each round measures:

(a) ceiling: the same objects' bytes read in parallel with s3fs (``S3FileSystem.cat``);
(b) naive:   a loop of download + ``cdflib.xarray.cdf_to_xarray`` + ``xarray.concat``;
(c) ours:    ``soc_workspace.open_mfdataset(urls).load()``.

It prints MB/s for each (object bytes / wall time) and the ratios; the last line is one JSON
object with ``ours_vs_ceiling``, ``ours_vs_naive`` and the medians over the rounds. Goals:
ours_vs_ceiling >= 0.7, ours_vs_naive >= 3.

The data: ``soc_workspace.demo.write_demo_data`` (EEA, ``--days`` days, hourly files of
~1.4 MB), or, with ``--source generated`` or where the demo generator is missing, hourly
files made from the real HERMES EEA sample (../shared/data) with cdflib's writer.

    .venv/bin/python benchmarks/open_throughput.py            # 9 days, 3 rounds
    .venv/bin/python benchmarks/open_throughput.py --days 9 --rounds 5 --naive-rounds 2
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SHARED_EEA = (
    Path(os.environ.get("SOC_WORKSPACE_SHARED_DATA", ROOT.parent / "shared" / "data"))
    / "hermes/eea/l1/hermes_eea_l1_20000101T170901_v1.0.0.cdf"
)
BENCH_BUCKET = "soc-workspace-benchmark"  # for generated files: not a pipeline bucket


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--days", type=int, default=9, help="days of hourly EEA files [9]")
    parser.add_argument("--rounds", type=int, default=3, help="measured rounds [3]")
    parser.add_argument(
        "--naive-rounds", type=int, default=1, help="rounds that also time the slow naive loop [1]"
    )
    parser.add_argument("--source", choices=["auto", "demo", "generated"], default="auto")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="soc-bench-") as tmp:
        store, env = start_store(Path(tmp) / "store")
        try:
            os.environ.update(env)
            import s3fs

            options = store_options(env)
            urls, source = prepare_data(args, options, Path(tmp))
            fs = s3fs.S3FileSystem(**options, skip_instance_cache=True)
            sizes = fs.sizes(urls)
            total = sum(sizes)
            print(f"{len(urls)} files, {total / 1e6:.1f} MB ({source}); store pid {store.pid}")
            if len(urls) < 200 or total < 200e6:
                print("warning: fewer than 200 files or 200 MB; use more --days", file=sys.stderr)
            results = measure(urls, total, options, Path(tmp), args)
        finally:
            store.terminate()
            store.wait(timeout=30)
    report(results, len(urls), total, source, args)
    return 0


# -- the store -------------------------------------------------------------------------------
def start_store(state: Path) -> tuple[subprocess.Popen, dict[str, str]]:
    """``soc-workspace store serve`` in its own process (its own interpreter and GIL)."""
    from soc_workspace.store.process import serve_in_subprocess

    store = serve_in_subprocess(state, "--port", "0")
    return store.process, store.environment()


def store_options(env: dict[str, str]) -> dict:
    return {
        "endpoint_url": env["AWS_ENDPOINT_URL_S3"],
        "key": env["AWS_ACCESS_KEY_ID"],
        "secret": env["AWS_SECRET_ACCESS_KEY"],
        "config_kwargs": {"s3": {"addressing_style": "path"}},
    }


# -- the data --------------------------------------------------------------------------------
def prepare_data(args: argparse.Namespace, options: dict, tmp: Path) -> tuple[list[str], str]:
    if args.source in ("auto", "demo"):
        try:
            from soc_workspace.demo import write_demo_data
        except ImportError:
            if args.source == "demo":
                raise
        else:
            return demo_data(write_demo_data, args.days, options), "demo data"
    return generated_data(args.days, options, tmp), "generated from the real EEA sample"


def demo_data(write_demo_data, days: int, options: dict) -> list[str]:
    from soc_workspace.missions import parse_filename

    report = write_demo_data(options, days=days, missions=["hermes"], instruments=["eea"])
    latest: dict[tuple, tuple[tuple[int, ...], str]] = {}
    for bucket, key, _size in report.objects:
        if not key.startswith("l1/") or not key.endswith(".cdf"):
            continue
        info = parse_filename(key.rsplit("/", 1)[-1])
        version = tuple(int(x) for x in info.version.split("."))
        ident = (info.instrument, info.level, info.descriptor, info.mode, info.time)
        if ident not in latest or latest[ident][0] < version:  # reprocessed: the newest only
            latest[ident] = (version, f"s3://{bucket}/{key}")
    return sorted(url for _, url in latest.values())


def generated_data(days: int, options: dict, tmp: Path) -> list[str]:
    """Hourly EEA-like files of ~1.4 MB: the real sample's variables, tiled to 118 records."""
    import cdflib
    import s3fs
    from cdflib.cdfwrite import CDF

    from soc_workspace.store import check_writable

    if not SHARED_EEA.is_file():
        raise SystemExit(f"no demo generator and no real EEA sample at {SHARED_EEA}")
    real = cdflib.CDF(str(SHARED_EEA))
    info = real.cdf_info()
    variables = {v: (real.varinq(v), real.varget(v), real.varattsget(v)) for v in info.zVariables}
    gattrs = {k: dict(enumerate(v)) for k, v in real.globalattsget().items()}
    start = int(cdflib.cdfepoch.compute_tt2000([2025, 6, 1, 0, 0, 0, 0, 0, 0]))
    fs = s3fs.S3FileSystem(**options, skip_instance_cache=True)
    check_writable(f"s3://{BENCH_BUCKET}")
    fs.mkdir(BENCH_BUCKET)
    urls = []
    nrec = 118
    for hour in range(24 * days):
        t0 = start + hour * 3600 * 10**9
        name = time.strftime(
            "hermes_eea_l1_%Y%m%dT%H%M%S_v1.0.0.cdf", time.gmtime(1748736000 + hour * 3600)
        )
        path = tmp / name
        writer = CDF(str(path), cdf_spec={"Majority": "row_major", "Encoding": 6}, delete=True)
        writer.write_globalattrs(gattrs)
        for v, (inq, data, attrs) in variables.items():
            if v == "Epoch":
                data = t0 + np.arange(nrec, dtype=np.int64) * 30 * 10**9
            else:
                data = np.concatenate([data] * (nrec // len(data) + 1))[:nrec]
            spec = {"Variable": v, "Data_Type": inq.Data_Type, "Num_Elements": 1,
                    "Rec_Vary": True, "Dim_Sizes": inq.Dim_Sizes, "Compress": 0}  # fmt: skip
            writer.write_var(spec, var_attrs=attrs, var_data=data)
        writer.close()
        url = f"s3://{BENCH_BUCKET}/l1/{name}"
        check_writable(url)
        fs.put_file(str(path), url)
        path.unlink()
        urls.append(url)
    return urls


# -- the measurements ------------------------------------------------------------------------
def ceiling(urls: list[str], options: dict) -> float:
    """The faster of s3fs's own parallel ``cat`` and 16 threads of ``cat_file`` (either can
    win on a given machine): the bytes alone, at the best rate s3fs gets them."""
    from concurrent.futures import ThreadPoolExecutor

    import s3fs

    fs = s3fs.S3FileSystem(**options, skip_instance_cache=True)
    t = time.perf_counter()
    data = fs.cat(urls)
    batch = time.perf_counter() - t
    assert len(data) == len(urls)
    del data
    t = time.perf_counter()
    with ThreadPoolExecutor(16) as pool:
        data = list(pool.map(fs.cat_file, urls))
    threads = time.perf_counter() - t
    del data
    return min(batch, threads)


def naive(urls: list[str], options: dict, tmp: Path):
    """What a scientist writes today: download each file, cdflib.xarray, then concat."""
    import cdflib.xarray
    import s3fs
    import xarray as xr

    fs = s3fs.S3FileSystem(**options, skip_instance_cache=True)
    folder = Path(tempfile.mkdtemp(dir=tmp))
    t = time.perf_counter()
    parts = []
    for url in urls:
        local = folder / url.rsplit("/", 1)[-1]
        fs.get_file(url, str(local))
        parts.append(cdflib.xarray.cdf_to_xarray(str(local), to_datetime=True, fillval_to_nan=True))
        local.unlink()
    ds = xr.concat(parts, dim="Epoch", data_vars="minimal", coords="minimal", compat="override")
    ds.load()
    return time.perf_counter() - t, ds


def ours(urls: list[str]):
    import soc_workspace

    t = time.perf_counter()
    ds = soc_workspace.open_mfdataset(urls, progress=False)
    opened = time.perf_counter() - t
    ds.load()
    return time.perf_counter() - t, opened, ds


def measure(urls: list[str], total: int, options: dict, tmp: Path, args) -> dict:
    import warnings

    warnings.simplefilter("ignore")  # cdflib.xarray prints/warns about ISTP details
    # Warm-up (imports, connections), not timed.
    ceiling(urls[:20], options)
    ours(urls[:20])
    naive(urls[:3], options, tmp)
    times: dict[str, list[float]] = {"ceiling": [], "naive": [], "ours": [], "ours_open": []}
    checked = False
    for r in range(args.rounds):
        times["ceiling"].append(ceiling(urls, options))
        elapsed, opened, ds = ours(urls)
        times["ours"].append(elapsed)
        times["ours_open"].append(opened)
        if r < args.naive_rounds:
            slow, ref = naive(urls, options, tmp)
            times["naive"].append(slow)
            if not checked:  # the same numbers came out of both
                check_same(ds, ref)
                checked = True
        del ds
        line = ", ".join(f"{k} {v[-1]:.2f} s" for k, v in times.items() if len(v) > r)
        print(f"round {r + 1}: {line}  (load average {os.getloadavg()[0]:.1f})", flush=True)
    return times


def check_same(ours_ds, naive_ds) -> None:
    for name in ours_ds.data_vars:
        if name in naive_ds:
            a, b = ours_ds[name].values, naive_ds[name].values
            if not np.array_equal(a, b.reshape(a.shape), equal_nan=a.dtype.kind == "f"):
                raise SystemExit(f"ours and the naive loop disagree on {name}")
    print("ours and the naive loop read the same values")


def report(times: dict, n: int, total: int, source: str, args) -> None:
    med = {k: statistics.median(v) for k, v in times.items() if v}
    mbps = {k: total / 1e6 / med[k] for k in ("ceiling", "naive", "ours")}
    for k in ("ceiling", "naive", "ours"):
        print(f"{k:8s} {mbps[k]:8.1f} MB/s   (median {med[k]:.2f} s over {len(times[k])} rounds)")
    print(
        f"ours/ceiling {mbps['ours'] / mbps['ceiling']:.2f}   "
        f"ours/naive {mbps['ours'] / mbps['naive']:.2f}"
    )
    result = {
        "ours_vs_ceiling": round(mbps["ours"] / mbps["ceiling"], 3),
        "ours_vs_naive": round(mbps["ours"] / mbps["naive"], 2),
        "ceiling_mb_s": round(mbps["ceiling"], 1),
        "naive_mb_s": round(mbps["naive"], 1),
        "ours_mb_s": round(mbps["ours"], 1),
        "median_s": {k: round(v, 3) for k, v in med.items()},
        "files": n,
        "total_mb": round(total / 1e6, 1),
        "data": source,
        "rounds": args.rounds,
        "naive_rounds": args.naive_rounds,
        "cpus": os.cpu_count(),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    sys.exit(main())
