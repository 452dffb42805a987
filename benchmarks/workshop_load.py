"""A workshop's start on one machine: N participants at once, measured as a rehearsal does.

The same code as ``soc-workspace workshop rehearse`` (soc_workspace.workshop.rehearse):
a workspace is started here (multi-user mode when run as root, else personal; a day of demo
data), a workshop is created with the half-day course and small Dask limits, then N synthetic
participants log in at once, start their servers, open JupyterLab and run the course's first
notebook (its Dask step on the gateway). Before them, one participant alone: the CPU-seconds
the workspace spends on one start, times N, over the cores, is the machine's limit, the
baseline the storm's p95 is compared with (``ready_p95_vs_limit``). The hub API's latency
while idle is the baseline of its latency during the storm.

Goals (issue 15): failures 0, api_p95_ms <= 1000, ready_p95_vs_limit <= 1.5 for 30.
The last line is one JSON object. Example::

    .venv/bin/python benchmarks/workshop_load.py --participants 30
    .venv/bin/python benchmarks/workshop_load.py --participants 60 --no-notebook
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from soc_workspace.workshop.create import create
from soc_workspace.workshop.end import end
from soc_workspace.workshop.hub import WorkshopHub
from soc_workspace.workshop.rehearse import rehearse

COURSE = Path(__file__).parents[1] / "notebooks" / "workshops" / "intro-half-day"
KEYS = ("failures", "ready_p95_s", "ready_p95_vs_limit", "api_p95_ms", "notebook_p95_s")


def soc(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "soc_workspace", *args], check=True, capture_output=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--participants", type=int, default=30)
    parser.add_argument("--pace", type=float, default=0.0, help="seconds between arrivals")
    parser.add_argument("--no-notebook", action="store_true", help="only up to JupyterLab")
    parser.add_argument(
        "--isolation",
        choices=["personal", "multi-user"],
        default="multi-user" if os.geteuid() == 0 else "personal",
    )
    parser.add_argument("--user-nice", type=int, help="workspace.user_nice (default: settings)")
    parser.add_argument(
        "--compute-nice", type=int, help="workspace.compute_nice (default: settings)"
    )
    parser.add_argument("--spawn-slots", type=int, help="hub.spawn_slots (default: settings)")
    parser.add_argument("--limits", default="workers=1,cores=2,memory=4G")
    args = parser.parse_args()

    state = Path(tempfile.mkdtemp(prefix="socws-workshop-bench-", dir="/tmp"))
    state.chmod(0o755)
    config = state.parent / f"{state.name}.toml"
    hub_settings = ["[hub]", "start_timeout = 1800", "http_timeout = 300"]
    if args.spawn_slots is not None:
        hub_settings.append(f"spawn_slots = {args.spawn_slots}")
    workspace = ["[workspace]", "port = 0", "demo_days = 1", f'isolation = "{args.isolation}"']
    if args.user_nice is not None:
        workspace.append(f"user_nice = {args.user_nice}")
    if args.compute_nice is not None:
        workspace.append(f"compute_nice = {args.compute_nice}")
    config.write_text("\n".join(workspace + hub_settings) + "\n")
    started = time.monotonic()
    soc("up", "--state-dir", str(state), "--config", str(config))
    print(f"workspace up in {time.monotonic() - started:.1f} s ({args.isolation} mode)", flush=True)
    name = f"bench{os.getpid() % 10000}"
    try:
        hub = WorkshopHub.connect(state_dir=state)
        ends = (datetime.now(UTC) + timedelta(hours=6)).isoformat(timespec="seconds")
        create(
            hub,
            name,
            users=1,
            ends=ends,
            content=str(COURSE),
            limits=args.limits,
            sheet_dir=state / "sheet",
        )
        load_before = os.getloadavg()
        print(f"load average before the storm: {load_before}", flush=True)
        report = rehearse(
            hub,
            name,
            args.participants,
            pace=args.pace,
            notebook=not args.no_notebook,
            timeout=1800,
            progress=lambda line: print(line, flush=True),
        )
        load_after = os.getloadavg()
        print(f"load average after the storm: {load_after}", flush=True)
        for line in report.lines():
            print(line, flush=True)
        end(hub, name)
        summary = report.summary()
        summary.update(
            isolation=args.isolation,
            load_before=[round(v, 2) for v in load_before],
            load_after=[round(v, 2) for v in load_after],
            goals_met=bool(
                report.failures == []
                and report.api_p95_ms <= 1000
                and (report.ready_p95_vs_limit or float("inf")) <= 1.5
            ),
        )
    finally:
        soc("down", "--state-dir", str(state), "--config", str(config))
        if args.isolation == "multi-user":
            from soc_workspace.local import accounts

            for user in [f"{name}-01", *(f"{name}-r{i:02d}" for i in range(args.participants + 1))]:
                if accounts.is_workspace_account(user):
                    accounts.retire_account(user)
        shutil.rmtree(state, ignore_errors=True)
        config.unlink(missing_ok=True)
    for key in KEYS:
        print(f"{key}: {summary[key]}")
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
