"""Rerun scaling: the pipeline's calibration called serially in one process vs our rerun.

Twenty HERMES EEA level-0 files (test instrument, ~1 s of calibration each) in the embedded S3
store. Measured in one run:

- serial: one process of the mission environment imports the package once and calls
  ``process_file`` on each file in turn (inputs already on local disk: the calibration alone);
- ceiling: the same, as two such processes at once, each on half of the files (what the two
  cores give two calibrations when nothing else runs: other developers share them);
- ours, 1 worker and 2 workers: ``soc_workspace.calibration.rerun`` on a local Dask cluster
  (started and warmed up before the clock starts), which fetches each input from the store,
  runs it isolated in the mission environment, and uploads products, log and provenance.

The four measurements alternate in each repetition, so other users' load falls on all alike.

    isolation_overhead_s = (ours with 1 worker - serial) / files     (goal <= 0.5 s)
    speedup_2_workers    = serial / ours with 2 workers              (goal >= 1.6 on 2 cores)
    ceiling_speedup_2_processes = serial / ceiling
    ours_vs_ceiling      = ceiling / ours with 2 workers           (goal >= 0.95)

``cpu_s_2_workers`` says where the time of the 2-worker run goes (CPU seconds of the
calibrations, the mission interpreters, the Dask workers, this process with the embedded store
and the scheduler, and what two cores left idle; compare the calibrations with ``serial_s``).
The last line is one JSON object with the results.

    .venv/bin/python benchmarks/rerun_scaling.py [--files 20] [--packets 2500] [--repeat 1]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
INSTRUMENT = ROOT / "tests" / "rerun" / "instrument"
SPEC = ROOT / "tests" / "rerun" / "instrument.txt"
J2000_UNIX = 946727935.816 - 5  # the instrument clock's zero, leap seconds since 2000 counted

SERIAL = """
import sys, time
from pathlib import Path
from soc_test_instrument.calibration import process_file
files = [Path(p) for p in sys.argv[1:]]
start = time.perf_counter()
for f in files:
    process_file(f)
print(time.perf_counter() - start)
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=20)
    parser.add_argument("--packets", type=int, default=2500, help="per file (~1 s at 2500)")
    parser.add_argument("--repeat", type=int, default=1, help="runs of each; medians reported")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="rerun-bench-") as tmp:
        print(json.dumps(run(Path(tmp), args.files, args.packets, args.repeat)))


def run(tmp: Path, n_files: int, packets: int, repeat: int) -> dict:
    sys.path.insert(0, str(INSTRUMENT))
    from soc_test_instrument.packets import simulate

    from soc_workspace.store import EmbeddedStore

    store = EmbeddedStore(None).start()
    os.environ.update(store.environment())
    os.environ.update(
        SOC_WORKSPACE__CALIBRATION__ENVIRONMENTS_DIR=str(tmp / "environments"),
        SOC_WORKSPACE__CALIBRATION__ENVIRONMENTS='{"hermes/eea": "bench"}',
        SOC_WORKSPACE__CALIBRATION__PACKAGES='{"hermes/eea": "soc_test_instrument"}',
        SOC_WORKSPACE__SCRATCH__URL="s3://soc-workspace-scratch",
    )
    from soc_workspace.calibration import create_environment, rerun
    from soc_workspace.compute import dask_cluster
    from soc_workspace.store import filesystem

    env = create_environment("bench", SPEC, kernel=False)
    raw = tmp / "raw"
    raw.mkdir()
    fs = filesystem()
    fs.mkdir("hermes-eea")
    urls = []
    for i in range(n_files):
        name = f"hermes_EEA_l0_2025152-{i:02d}0000_v0.bin"
        start = int(1748736000 + i * 3600 - J2000_UNIX)  # 2025-06-01 + i hours
        simulate(raw / name, packets=packets, start=start, seed=i)
        fs.put_file(str(raw / name), f"hermes-eea/l0/2025/06/01/{name}")
        urls.append(f"s3://hermes-eea/l0/2025/06/01/{name}")
    print(f"{n_files} files of {packets} packets; load average {os.getloadavg()}", file=sys.stderr)

    work = tmp / "serial"
    work.mkdir()
    files = []
    for path in sorted(raw.iterdir()):
        (work / path.name).write_bytes(path.read_bytes())
        files.append(str(work / path.name))

    def calibrate(batch: list[str]) -> subprocess.Popen:
        return subprocess.Popen(
            [str(env.python), "-c", SERIAL, *batch],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,  # its log lines; the timing is on stdout
            text=True,
            cwd=work,
            env={**os.environ, "HOME": str(work)},
        )

    serial, ceiling = [], []
    ours: dict[int, list[float]] = {1: [], 2: []}
    cpu: dict[int, list[dict[str, float]]] = {1: [], 2: []}
    # Both clusters stay up (idle workers cost nothing) and the four measurements alternate,
    # so that load from other users of the machine falls on all of them alike.
    with dask_cluster(1) as one_worker, dask_cluster(2) as two_workers:
        clients = {1: one_worker, 2: two_workers}
        for client in clients.values():
            client.run(lambda: __import__("soc_workspace.calibration.batch"))  # import once
        for _ in range(repeat):
            process = calibrate(files)
            serial.append(float(process.communicate()[0].split()[-1]))
            print(f"serial in-process: {serial[-1]:.2f} s", file=sys.stderr)
            for workers, client in clients.items():
                pids = list(client.run(os.getpid).values())
                before = cpu_seconds(pids)
                started = time.perf_counter()
                table = rerun(urls, cluster=client, progress=False)
                ours[workers].append(time.perf_counter() - started)
                cpu[workers].append(
                    {k: cpu_seconds(pids)[k] - before[k] for k in before}
                    | {"wall": ours[workers][-1]}
                )
                assert (table["status"] == "ok").all(), table[["input", "error"]]
                print(f"ours, {workers} worker(s): {ours[workers][-1]:.2f} s", file=sys.stderr)
            started = time.perf_counter()
            halves = [calibrate(files[0::2]), calibrate(files[1::2])]
            for process in halves:
                process.communicate()
            ceiling.append(time.perf_counter() - started)
            print(f"two serial processes at once: {ceiling[-1]:.2f} s", file=sys.stderr)
    store.stop()
    t_serial, t_ceiling = statistics.median(serial), statistics.median(ceiling)
    # Where the time of the 2-worker run goes, in CPU seconds (medians of the repetitions):
    # the calibrations (forked per file), the mission interpreters serving them, the Dask
    # workers (fetch, upload, provenance, Dask), and this process (the embedded store, the
    # scheduler, the client); "idle" is what two cores could have done meanwhile and did not.
    spent = {k: statistics.median(run[k] for run in cpu[2]) for k in cpu[2][0]}
    spent["idle_of_2_cores"] = 2 * spent.pop("wall") - sum(spent.values())
    t1, t2 = statistics.median(ours[1]), statistics.median(ours[2])
    return {
        "files": n_files,
        "packets_per_file": packets,
        "cores": os.cpu_count(),
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "serial_s": round(t_serial, 3),
        "calibration_per_file_s": round(t_serial / n_files, 3),
        "rerun_1_worker_s": round(t1, 3),
        "rerun_2_workers_s": round(t2, 3),
        "isolation_overhead_s": round((t1 - t_serial) / n_files, 3),
        "speedup_2_workers": round(t_serial / t2, 3),
        "scaling_2_vs_1_worker": round(t1 / t2, 3),
        "two_processes_s": round(t_ceiling, 3),
        "ceiling_speedup_2_processes": round(t_serial / t_ceiling, 3),
        "ours_vs_ceiling": round(t_ceiling / t2, 3),
        "cpu_s_2_workers": {k: round(v, 2) for k, v in spent.items()},
    }


def cpu_seconds(worker_pids: list[int]) -> dict[str, float]:
    """CPU seconds so far: calibrations, mission interpreters, Dask workers, this process.

    A worker's children are its warm mission interpreters; theirs (waited for) are the
    forked calibrations of each file.
    """
    import psutil

    spent = {"calibrations": 0.0, "interpreters": 0.0, "workers": 0.0}
    for pid in worker_pids:
        worker = psutil.Process(pid)
        times = worker.cpu_times()
        spent["workers"] += times.user + times.system
        for child in worker.children():
            with contextlib.suppress(psutil.NoSuchProcess):
                times = child.cpu_times()
                spent["interpreters"] += times.user + times.system
                spent["calibrations"] += times.children_user + times.children_system
    times = psutil.Process().cpu_times()
    spent["store_scheduler_client"] = times.user + times.system
    return spent


if __name__ == "__main__":
    main()
