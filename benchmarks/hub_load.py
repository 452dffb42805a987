"""Load on the workspace's hub: one person's path, a Dask cluster, and N people at once.

Measures, against a workspace started here (or a running one, ``--state-dir``):

1. login to JupyterLab served, for one person alone (login form, spawn, OAuth, lab page);
2. a gateway cluster scaled to 2 workers, from that person's kernel;
3. N people (default 30) logging in and starting their servers at the same moment: failures,
   p50/p95 time from login to JupyterLab served, and the hub API's p95 latency during that
   storm, against its latency when idle (the baseline, measured in the same run).

The last line is one JSON object. Example::

    .venv/bin/python benchmarks/hub_load.py --users 30
"""

from __future__ import annotations

import argparse
import contextlib
import json
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from soc_workspace.local.client import BrowserSession, HubAPI
from soc_workspace.local.workspace import Connection
from soc_workspace.workshop.load import ApiProbe, percentile, probe

PASSWORD = "benchmark-password-42"


def start_workspace(state: Path, args: argparse.Namespace) -> None:
    config = state / "benchmark.toml"
    config.write_text(
        textwrap.dedent(
            f"""
            [workspace]
            port = 0
            demo_days = 0
            [hub]
            start_timeout = {args.spawn_timeout}
            http_timeout = {args.spawn_timeout}
            concurrent_spawn_limit = {args.spawn_limit}
            """
        )
    )
    started = time.monotonic()
    subprocess.run(
        [
            sys.executable,
            "-m",
            "soc_workspace",
            "up",
            "--state-dir",
            str(state),
            "--config",
            str(config),
        ],
        check=True,
        capture_output=True,
    )
    print(f"workspace up in {time.monotonic() - started:.1f} s ({state})", flush=True)


def sign_up(connection: Connection, admin: BrowserSession, name: str) -> None:
    BrowserSession(connection.hub_url).signup(name, PASSWORD)
    admin.approve(name)


def login_to_lab(connection: Connection, name: str) -> tuple[float, BrowserSession]:
    """Seconds from submitting the login form to JupyterLab's page served."""
    session = BrowserSession(connection.hub_url, timeout=300)
    started = time.monotonic()
    session.login(name, PASSWORD)
    session.start_server(timeout=600)
    page = session.open_lab()
    if not session.is_jupyterlab(page):
        raise RuntimeError(f"{name}: JupyterLab was not served (HTTP {page.status_code})")
    return time.monotonic() - started, session


def cluster_two_workers(session: BrowserSession) -> float:
    kernel = session.start_kernel()
    result = session.run_code(
        kernel,
        textwrap.dedent(
            """
            import time
            from dask_gateway import Gateway
            started = time.monotonic()
            gateway = Gateway()
            cluster = gateway.new_cluster()
            cluster.scale(2)
            client = cluster.get_client()
            client.wait_for_workers(2, timeout=300)
            print(time.monotonic() - started)
            client.close(); cluster.close(); gateway.close()
            """
        ),
        timeout=400,
    )
    if not result.ok:
        raise RuntimeError(f"gateway cluster failed: {result.error}")
    session.delete_kernel(kernel)
    return float(result.stdout.split()[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=30, help="people in the storm")
    parser.add_argument("--state-dir", type=Path, help="use this running workspace")
    parser.add_argument(
        "--spawn-timeout",
        type=int,
        default=600,
        help="hub start/http timeout when the benchmark starts the workspace",
    )
    parser.add_argument(
        "--spawn-limit",
        type=int,
        default=0,
        help="hub.concurrent_spawn_limit when starting the workspace (0: none)",
    )
    args = parser.parse_args()

    own = args.state_dir is None
    state = Path(tempfile.mkdtemp(prefix="socws-bench-")) if own else args.state_dir
    if own:
        start_workspace(state, args)
    try:
        connection = Connection.read(state)
        api = HubAPI(connection.api_url, connection.api_token)
        admin = BrowserSession(connection.hub_url)
        admin.login(connection.admin_user, Path(connection.admin_password_file).read_text().strip())
        tag = hex(int(time.time()))[-5:]

        idle_ms = probe(api, 5)

        first = f"bench{tag}solo"
        sign_up(connection, admin, first)
        login_lab_s, session = login_to_lab(connection, first)
        print(f"login to JupyterLab served: {login_lab_s:.1f} s", flush=True)
        cluster_s = cluster_two_workers(session)
        print(f"gateway cluster with 2 workers: {cluster_s:.1f} s", flush=True)
        session.stop_server()

        names = [f"bench{tag}u{i:02d}" for i in range(args.users)]
        for name in names:
            sign_up(connection, admin, name)
        print(f"{len(names)} accounts signed up and approved; the storm starts", flush=True)
        storm_probe = ApiProbe(api)
        storm_probe.start()
        ready: list[float] = []
        failures: list[str] = []
        started = time.monotonic()
        with ThreadPoolExecutor(max_workers=args.users) as pool:
            futures = {pool.submit(login_to_lab, connection, n): n for n in names}
            for future, name in futures.items():
                try:
                    ready.append(future.result()[0])
                except Exception as err:
                    failures.append(f"{name}: {err}")
        storm_s = time.monotonic() - started
        storm_probe.done.set()
        storm_probe.join()
        for failure in failures:
            print(f"failed: {failure}", flush=True)
        print(
            f"storm of {args.users}: {len(ready)} ready, {len(failures)} failed "
            f"in {storm_s:.1f} s; "
            f"ready p50 {percentile(ready, 50):.1f} s, p95 {percentile(ready, 95):.1f} s; "
            f"hub API p95 {percentile(storm_probe.latencies_ms, 95):.0f} ms during, "
            f"{percentile(idle_ms, 95):.0f} ms idle",
            flush=True,
        )
        for name in [first, *names]:
            with contextlib.suppress(Exception):
                api.request("DELETE", f"/users/{name}/server")
        result = {
            "login_to_lab_s": round(login_lab_s, 2),
            "cluster_2_workers_s": round(cluster_s, 2),
            "users": args.users,
            "failures": len(failures),
            "ready_p50_s": round(percentile(ready, 50), 2),
            "ready_p95_s": round(percentile(ready, 95), 2),
            "storm_s": round(storm_s, 2),
            "api_p95_ms": round(percentile(storm_probe.latencies_ms, 95), 1),
            "api_idle_p95_ms": round(percentile(idle_ms, 95), 1),
            "api_p95_vs_idle": round(
                percentile(storm_probe.latencies_ms, 95) / percentile(idle_ms, 95), 2
            ),
            "ready_p95_vs_single": round(percentile(ready, 95) / login_lab_s, 2),
            "api_errors": storm_probe.errors,
        }
    finally:
        if own:
            subprocess.run(
                [sys.executable, "-m", "soc_workspace", "down", "--state-dir", str(state)],
                capture_output=True,
            )
            shutil.rmtree(state, ignore_errors=True)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
