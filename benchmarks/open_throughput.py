"""How fast ``open_mfdataset`` turns CDF files into one Dataset, against the field's readers.

Against an embedded S3 endpoint (``soc-workspace store serve`` in its own process, as in the
local workspace) holding >= 200 HERMES EEA l1 CDF files (>= 200 MB), and against the same
files on local disk, each round measures:

(a) ceiling: the same bytes read in parallel (S3: s3fs ``cat`` or 16 threads of ``cat_file``,
             the faster; local: 16 threads reading the files);
(b) pycdfpp: the fastest CDF reader in the field, as a user would drive it to get the same
             Dataset: the bytes fetched with 16 threads (as fast as the ceiling), each file
             ``pycdfpp.load`` + ISTP dimensions, epochs as datetime64 and FILLVAL as NaN
             (integers as float), then ``xarray.concat``;
(c) naive:   a loop of download + ``cdflib.xarray.cdf_to_xarray`` + ``xarray.concat``;
(d) ours:    ``soc_workspace.open_mfdataset(urls).load()``.

It prints MB/s for each (file bytes / wall time) and the ratios; the last line is one JSON
object with ``ours_vs_pycdfpp``, ``ours_vs_ceiling``, ``ours_vs_naive`` (S3), the same with a
``local_`` prefix, and the medians over the rounds. Goals: ours_vs_pycdfpp >= 1.0,
ours_vs_ceiling >= 0.85.

The data: ``soc_workspace.demo.write_demo_data`` (EEA, ``--days`` days, hourly files of
~1.4 MB), or, with ``--source generated`` or where the demo generator is missing, hourly
files made from the real HERMES EEA sample (../shared/data) with cdflib's writer.

    .venv/bin/python benchmarks/open_throughput.py            # 9 days, 3 rounds
    .venv/bin/python benchmarks/open_throughput.py --days 3 --rounds 3 --naive-rounds 1
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

    report = write_demo_data(
        options, days=days, missions=["hermes"], instruments=["eea"], catalog=False
    )
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


def fetch_all(urls: list[str], options: dict) -> list[bytes]:
    from concurrent.futures import ThreadPoolExecutor

    import s3fs

    fs = s3fs.S3FileSystem(**options, skip_instance_cache=True)
    with ThreadPoolExecutor(16) as pool:
        return list(pool.map(fs.cat_file, urls))


def read_all(paths: list[Path]) -> list[bytes]:
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(16) as pool:
        return list(pool.map(Path.read_bytes, paths))


def pycdfpp_dataset(data: bytes):
    """One file through pycdfpp into the Dataset ours makes (ISTP dimensions, datetime64
    epochs, FILLVAL as NaN with integers as float)."""
    import pycdfpp
    import xarray as xr

    cdf = pycdfpp.load(data)
    out = {}
    for name, var in cdf.items():
        attrs = {k: a.value for k, a in var.attributes.items()}
        if var.type in (pycdfpp.DataType.CDF_TIME_TT2000, pycdfpp.DataType.CDF_EPOCH,
                        pycdfpp.DataType.CDF_EPOCH16):  # fmt: skip
            values = pycdfpp.to_datetime64(var)
        elif var.type in (pycdfpp.DataType.CDF_CHAR, pycdfpp.DataType.CDF_UCHAR):
            values = np.char.decode(var.values, "utf-8")
        else:
            values = var.values
            fill = attrs.get("FILLVAL")
            if fill is not None and values.dtype.kind in "iuf":
                fill = np.asarray(fill[0]).astype(values.dtype)
                if values.dtype.kind in "iu":
                    values = values.astype("f4" if values.dtype.itemsize <= 2 else "f8")
                values = np.where(values == fill, np.nan, values)
        if var.is_nrv:
            values = values[0]
            dims = tuple(f"{name}_dim{i + 1}" for i in range(values.ndim))
        else:
            dep = attrs.get("DEPEND_0", name if name == "Epoch" else None)
            first = dep if isinstance(dep, str) else f"{name}_record"
            dims = (first, *(f"{name}_dim{i}" for i in range(1, values.ndim)))
        out[name] = xr.Variable(dims, values)
    coords = {k: v for k, v in out.items() if k == "Epoch"}
    return xr.Dataset({k: v for k, v in out.items() if k != "Epoch"}, coords=coords)


def with_pycdfpp(blobs_of):
    import xarray as xr

    t = time.perf_counter()
    blobs = blobs_of()
    parts = [pycdfpp_dataset(b) for b in blobs]
    del blobs
    ds = xr.concat(parts, dim="Epoch", data_vars="minimal", coords="minimal", compat="override")
    return time.perf_counter() - t, ds


def ceiling_local(paths: list[Path]) -> float:
    t = time.perf_counter()
    data = read_all(paths)
    elapsed = time.perf_counter() - t
    del data
    return elapsed


def naive_local(paths: list[Path]):
    import cdflib.xarray
    import xarray as xr

    t = time.perf_counter()
    parts = [cdflib.xarray.cdf_to_xarray(str(p), to_datetime=True, fillval_to_nan=True)
             for p in paths]  # fmt: skip
    ds = xr.concat(parts, dim="Epoch", data_vars="minimal", coords="minimal", compat="override")
    ds.load()
    return time.perf_counter() - t, ds


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
    folder = tmp / "local"
    folder.mkdir()
    paths = []
    for url, data in zip(urls, fetch_all(urls, options), strict=True):
        paths.append(folder / url.rsplit("/", 1)[-1])
        paths[-1].write_bytes(data)
    # Warm-up (imports, connections), not timed.
    ceiling(urls[:20], options)
    ours(urls[:20])
    with_pycdfpp(lambda: fetch_all(urls[:20], options))
    naive(urls[:3], options, tmp)
    keys = ("ceiling", "pycdfpp", "naive", "ours", "ours_open")
    times: dict[str, list[float]] = {k: [] for k in keys}
    times.update({f"local_{k}": [] for k in keys})
    checked = False
    for r in range(args.rounds):
        for where, sources in (("", urls), ("local_", paths)):
            if where:
                times["local_ceiling"].append(ceiling_local(paths))
            else:
                times["ceiling"].append(ceiling(urls, options))
            elapsed, opened, ds = ours(sources)
            times[f"{where}ours"].append(elapsed)
            times[f"{where}ours_open"].append(opened)
            fetch = (lambda: read_all(paths)) if where else (lambda: fetch_all(urls, options))
            fast, other = with_pycdfpp(fetch)
            times[f"{where}pycdfpp"].append(fast)
            if r < args.naive_rounds:
                slow, ref = naive_local(paths) if where else naive(urls, options, tmp)
                times[f"{where}naive"].append(slow)
                if not checked:  # the same numbers came out of all three
                    check_same(ds, ref, "the cdflib.xarray loop")
                    check_same(ds, other, "pycdfpp")
                    checked = True
            del ds, other
        line = ", ".join(f"{k} {v[-1]:.2f} s" for k, v in times.items() if len(v) > r)
        print(f"round {r + 1}: {line}  (load average {os.getloadavg()[0]:.1f})", flush=True)
    return times


def check_same(ours_ds, other, label: str) -> None:
    for name in ours_ds.variables:
        if name in other.variables:
            a, b = ours_ds[name].values, other[name].values
            if a.dtype.kind in "iu" and b.dtype.kind == "f":  # cdflib.xarray keeps int fills
                a = a.astype(b.dtype)
            fill = ours_ds[name].attrs.get("FILLVAL")
            if b.dtype.kind in "iu" and fill is not None:
                b = np.where(b == fill, np.nan, b)
            same = np.array_equal(a, b.reshape(a.shape), equal_nan=a.dtype.kind in "fM")
            if not same:
                raise SystemExit(f"ours and {label} disagree on {name}")
    print(f"ours and {label} read the same values")


def report(times: dict, n: int, total: int, source: str, args) -> None:
    med = {k: statistics.median(v) for k, v in times.items() if v}
    names = [f"{w}{k}" for w in ("", "local_") for k in ("ceiling", "pycdfpp", "naive", "ours")]
    mbps = {k: total / 1e6 / med[k] for k in names}
    for k in names:
        print(f"{k:14s} {mbps[k]:8.1f} MB/s   (median {med[k]:.2f} s, {len(times[k])} rounds)")
    result = {}
    for w in ("", "local_"):
        for base in ("pycdfpp", "ceiling", "naive"):
            result[f"{w}ours_vs_{base}"] = round(mbps[f"{w}ours"] / mbps[f"{w}{base}"], 3)
    print("   ".join(f"{k} {v:.2f}" for k, v in result.items()))
    result |= {
        **{f"{k}_mb_s": round(v, 1) for k, v in mbps.items()},
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
