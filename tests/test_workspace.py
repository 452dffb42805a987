"""The workspace on one machine, for real: ``soc-workspace up`` (personal mode), a person's
path from sign-up to JupyterLab, code in their kernel, a gateway cluster, the quick-start
template, and a real browser.

One workspace for the module; ``down`` at the end.
"""

from __future__ import annotations

import json
import os
import stat
import textwrap
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from workspace_support import (
    admin_session,
    cli,
    gateway_clusters,
    new_user,
    personal_demo_workspace,
)

from soc_workspace.local.client import BrowserSession, HubError

pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]

PASSWORD = "a-long-test-password-42"
DAY = "2025-06-01"


@pytest.fixture(scope="module")
def workspace():
    with personal_demo_workspace("socws-personal-") as connection:
        yield connection


@pytest.fixture(scope="module")
def admin(workspace):
    return admin_session(workspace)


@pytest.fixture(scope="module")
def scientist(workspace, admin):
    """A person who signed up, was approved, logged in and started JupyterLab."""
    session = new_user(workspace, admin, "sci", PASSWORD)
    seconds = session.start_server()
    print(f"server ready {seconds:.1f} s after the spawn request")
    return session


@pytest.fixture(scope="module")
def kernel(scientist):
    return scientist.start_kernel()


def run(session, kernel, code, timeout=180):
    result = session.run_code(kernel, textwrap.dedent(code), timeout=timeout)
    assert result.ok, f"{result.error}\n{result.stderr}"
    assert "Traceback" not in result.stderr, result.stderr
    return result.stdout.strip()


def test_up_reports_how_to_connect(workspace):
    path = os.path.join(workspace.state_dir, "connection.json")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600  # it holds the admin's token
    with open(path) as file:
        data = json.load(file)
    for key in ("hub_url", "api_url", "api_token", "store_endpoint"):
        assert data[key], key
    status = json.loads(cli("status", "--state-dir", workspace.state_dir, "--json").stdout)
    assert status["running"] is True
    assert status["components"]["dask-gateway"] == "running"
    assert status["components"]["store"].startswith("running")
    # `up` on a running workspace reports it instead of starting a second one
    again = cli("up", "--state-dir", workspace.state_dir)
    assert "already running" in again.stderr


def test_signup_needs_the_admins_approval(workspace, admin):
    person = BrowserSession(workspace.hub_url)
    person.signup("newcomer", PASSWORD)
    with pytest.raises(HubError, match="refused"):
        person.login("newcomer", PASSWORD)
    admin.approve("newcomer")
    person.login("newcomer", PASSWORD)
    with pytest.raises(HubError, match="refused"):
        BrowserSession(workspace.hub_url).login("newcomer", "not-the-password")


def test_login_reaches_jupyterlab(scientist):
    page = scientist.open_lab()
    assert scientist.is_jupyterlab(page), page.text[:500]
    assert page.url.endswith("/user/sci/lab")


def test_server_environment_and_folders(scientist, kernel, workspace):
    out = run(
        scientist,
        kernel,
        """
        import os
        from pathlib import Path
        print(os.environ["DASK_GATEWAY__ADDRESS"])
        print(os.environ["DASK_GATEWAY__PROXY_ADDRESS"])
        print(os.environ["SOC_WORKSPACE__STORE__ENDPOINT_URL"])
        print(Path.cwd() == Path.home(), sorted(p.name for p in Path.home().iterdir()
              if not p.name.startswith(".")))
        template = Path.home() / "templates" / "quickstart.ipynb"
        print(template.exists(), oct(template.stat().st_mode & 0o777))
        """,
    )
    gateway, proxy, store, home, template = out.splitlines()
    assert gateway == workspace.gateway_address
    assert proxy == workspace.gateway_proxy_address
    assert store == workspace.store_endpoint
    assert home == "True ['shared', 'teams', 'templates']"
    # Read-only by mode (root ignores modes; multi-user mode checks that users cannot write).
    assert template == "True 0o444"


def test_gateway_cluster_with_two_workers_computes(scientist, kernel, workspace):
    out = run(
        scientist,
        kernel,
        """
        import dask.array as da
        from soc_workspace.compute import dask_cluster
        with dask_cluster(workers=2) as client:
            workers = len(client.scheduler_info()["workers"])
            total = da.ones((2000, 2000), chunks=500).sum().compute()
            print(workers, int(total), type(client.cluster).__name__)
        import gc
        gc.collect()  # the gateway clients' __del__ must stay quiet in the notebook
        """,
        timeout=240,
    )
    assert out == "2 4000000 GatewayCluster"
    assert gateway_clusters(workspace, "sci") == {}  # dask_cluster closed it


def test_server_and_cluster_use_the_users_own_store_keys(scientist, kernel, workspace):
    """sci's server and Dask workers sign with sci's keys: sci's scratch folder is theirs,
    the pipeline buckets are read-only, nobody else's folder is reachable."""
    operator = json.loads(Path(workspace.state_dir, "store", "operator.json").read_text())
    out = run(
        scientist,
        kernel,
        """
        import os
        from soc_workspace.compute import dask_cluster
        from soc_workspace.store import filesystem

        def attempt(write, path):
            fs = filesystem(skip_instance_cache=True)
            try:
                if write:
                    fs.pipe(path, b"x")
                else:
                    fs.ls(path)
            except PermissionError:
                return "denied"
            return "allowed"

        probes = [
            (True, "soc-workspace-scratch/sci/from-{where}.txt"),
            (True, "hermes-eea/l1/from-{where}.txt"),
            (True, "soc-workspace-scratch/someone-else/from-{where}.txt"),
            (False, "hermes-eea/l1"),
        ]
        def where(name):
            return [attempt(w, p.format(where=name)) for w, p in probes]

        print(os.environ["AWS_ACCESS_KEY_ID"])
        print(*where("server"))
        with dask_cluster(workers=1) as client:
            print(*client.submit(where, "worker").result())
            print(*client.run(lambda: os.environ["AWS_ACCESS_KEY_ID"]).values())
        """,
        timeout=240,
    )
    key, server, worker, worker_key = out.splitlines()
    assert key != operator["access_key_id"]
    assert worker_key == key
    assert server == worker == "allowed denied denied allowed"


def test_refused_token_is_explained(scientist, kernel):
    out = run(
        scientist,
        kernel,
        """
        import os
        from soc_workspace.compute import GatewayAuthError, dask_cluster
        real, os.environ["JUPYTERHUB_API_TOKEN"] = os.environ["JUPYTERHUB_API_TOKEN"], "bogus"
        try:
            with dask_cluster(workers=1):
                print("ACCEPTED")
        except GatewayAuthError as err:
            print("explained:", "restart" in str(err) or "start your server" in str(err))
        finally:
            os.environ["JUPYTERHUB_API_TOKEN"] = real
        """,
    )
    assert out == "explained: True"


def test_kernel_searches_opens_and_computes_on_demo_data(scientist, kernel):
    out = run(
        scientist,
        kernel,
        f"""
        import pandas as pd
        from soc_workspace import catalog
        from soc_workspace.compute import dask_cluster
        files = catalog.search("hermes", "eea", "l1", start="{DAY}", stop="{DAY}T23:59:59")
        ds = catalog.open_catalog_files(files)
        name = next(v for v in ds.data_vars if ds[v].ndim == 1 and ds[v].dtype.kind in "fiu")
        time = ds[name].dims[0]
        with dask_cluster(workers=2) as client:
            workers = len(client.scheduler_info()["workers"])
            mean = float(ds[name].mean().compute())
        first, last = pd.Timestamp(ds[time].values[0]), pd.Timestamp(ds[time].values[-1])
        print(len(files), workers, mean == mean, first.date(), last.date())
        """,
        timeout=300,
    )
    count, workers, finite, first, last = out.split()
    assert int(count) == 24  # hourly files
    assert (workers, finite, first, last) == ("2", "True", DAY, DAY)


def test_an_upload_is_searchable_through_the_hubs_catalog_watch_service(workspace):
    """The hub runs `catalog watch` (a managed service): a file the pipeline uploads to the
    embedded store is found by search, and nobody runs `catalog update`."""
    import requests
    import s3fs

    from soc_workspace.catalog import search
    from soc_workspace.config import current_settings
    from soc_workspace.store.process import operator_options

    services = requests.get(
        f"{workspace.api_url}/services",
        headers={"Authorization": f"token {workspace.api_token}"},
        timeout=30,
    ).json()
    assert "catalog-watch" in services, services
    options = operator_options(Path(workspace.state_dir) / "store", workspace.store_endpoint)
    fs = s3fs.S3FileSystem(**options, skip_instance_cache=True)
    old = next(p for p in fs.find(f"hermes-eea/l1/unknown/{DAY.replace('-', '/')}"))
    new = "hermes-eea/l1/unknown/2025/06/09/hermes_eea_l1_20250609T000000_v1.0.0.cdf"
    fs.pipe(new, fs.cat(old))
    settings = current_settings()
    fresh = settings.model_copy(
        update={"catalog": settings.catalog.model_copy(update={"max_age": 0})}
    )
    deadline = time.monotonic() + 60  # the service subscribes indexed buckets every 10 s
    while True:
        found = search(
            "hermes", "eea", "l1", "2025-06-09", "2025-06-10",
            settings=fresh, storage_options=options,
        )  # fmt: skip
        if len(found):
            break
        assert time.monotonic() < deadline, "the upload was not indexed within 60 s"
        time.sleep(0.5)
    assert found["url"].tolist() == [f"s3://{new}"]


def test_quickstart_template_runs_in_the_users_server(scientist, kernel):
    started = time.monotonic()
    out = run(
        scientist,
        kernel,
        f"""
        import papermill
        from pathlib import Path
        out = Path.home() / "quickstart-run.ipynb"
        papermill.execute_notebook(
            str(Path.home() / "templates" / "quickstart.ipynb"), str(out),
            parameters={{"day": "{DAY}", "workers": 2}}, kernel_name="python3", progress_bar=False,
        )
        import nbformat
        nb = nbformat.read(out, as_version=4)
        text = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code"
                       for o in c.get("outputs", []))
        print(text.splitlines()[0]); print(text.splitlines()[-1])
        """,
        timeout=400,
    )
    print(f"quick-start notebook ran in {time.monotonic() - started:.1f} s")
    first, last = out.splitlines()
    assert first.startswith("24 files of hermes eea l1")
    assert "mean" in last
    assert "nan" not in last


def test_clusters_stop_when_the_server_stops(workspace, admin):
    person = new_user(workspace, admin, "leaver", PASSWORD)
    person.start_server()
    kernel = person.start_kernel()
    run(
        person,
        kernel,
        """
        from dask_gateway import Gateway
        gateway = Gateway()
        cluster = gateway.new_cluster()  # left running on purpose
        """,
    )
    assert len(gateway_clusters(workspace, "leaver")) == 1
    person.stop_server()
    assert gateway_clusters(workspace, "leaver") == {}


@pytest.mark.browser
def test_a_real_browser_logs_in_and_sees_jupyterlab(workspace, scientist, tmp_path):
    from playwright.sync_api import sync_playwright

    if not os.path.exists("/usr/bin/chromium"):
        pytest.fail(
            "Debian's chromium is missing: tests/run.sh installs it (apt-get install chromium)"
        )
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path="/usr/bin/chromium",
            args=[
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            requested: list[str] = []
            page.on("request", lambda request: requested.append(request.url))
            page.goto(f"{workspace.hub_url}/hub/login", timeout=60_000)
            page.fill("#username_input", "sci")
            page.fill("#password_input", PASSWORD)
            page.click("#login_submit")
            # The server already runs, so the hub sends the browser on to JupyterLab.
            page.wait_for_url("**/user/sci/lab**", timeout=60_000)
            page.wait_for_selector("#jp-main-dock-panel", timeout=90_000)
            page.wait_for_selector(".jp-DirListing-item", timeout=60_000)
            names = page.locator(".jp-DirListing-itemName").all_inner_texts()
            shot = os.environ.get("SOC_WORKSPACE_SCREENSHOT") or str(tmp_path / "lab.png")
            page.screenshot(path=shot)

            # A scientist plots a day of demo data: the plot must draw with no internet
            # (BokehJS and Panel served inline, see soc_workspace/startup.py).
            xsrf = next(c["value"] for c in page.context.cookies() if c["name"] == "_xsrf")
            put = page.request.put(
                f"{workspace.hub_url}/user/sci/api/contents/plot.ipynb",
                data=json.dumps({"type": "notebook", "content": _notebook(PLOT_CELL)}),
                headers={"X-XSRFToken": xsrf, "Content-Type": "application/json"},
            )
            assert put.ok, put.text()
            page.goto(f"{workspace.hub_url}/user/sci/lab/tree/plot.ipynb?reset", timeout=60_000)
            page.wait_for_selector(".jp-NotebookPanel .jp-Cell", timeout=60_000)
            page.get_by_text("| Idle").wait_for(timeout=60_000)  # the kernel is ready for input
            page.get_by_role("menuitem", name="Run", exact=True).click()
            page.get_by_text("Run All Cells", exact=True).click()
            page.wait_for_selector(".jp-OutputArea-output canvas", timeout=120_000)
            page.screenshot(path=str(tmp_path / "plot.png"))
            errors = page.locator("[data-mime-type='application/vnd.jupyter.stderr']")
            stderr = errors.all_inner_texts()
        finally:
            browser.close()
    assert {"templates", "shared", "teams"} <= {n.strip() for n in names}
    assert not [t for t in stderr if "Traceback" in t or "Warning" in t], stderr
    # In notebooks Panel always names its CDN for its theme stylesheets and an import-map
    # polyfill; neither is needed to draw (BokehJS, which draws, must come from here: the
    # canvas above proves it did). Everything else must stay on this machine.
    outside = sorted(
        url
        for url in requested
        if (urlsplit(url).hostname or "") not in ("", "127.0.0.1", "localhost")
        and not url.startswith("https://cdn.holoviz.org/panel/")
    )
    assert outside == [], f"the page asked hosts outside this machine: {outside}"


PLOT_CELL = """\
import soc_workspace as soc, hvplot.xarray
files = soc.search("hermes", "nemisis", "l1", start="2025-06-01T00:00", stop="2025-06-01T02:00")
ds = soc.open_catalog_files(files)
ds["hermes_nem_b_gse"].hvplot.line(x="Epoch", by="hermes_nem_b_gse_label")
"""


def _notebook(*cells: str) -> dict:
    return {
        "nbformat": 4,
        "nbformat_minor": 5,
        "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3"}},
        "cells": [
            {"cell_type": "code", "id": f"c{i}", "metadata": {}, "execution_count": None,
             "outputs": [], "source": source}
            for i, source in enumerate(cells)
        ],
    }  # fmt: skip


def test_status_names_a_dead_part_and_up_restarts_only_it(workspace):
    """kill -9 of the store: `status` exits 1 naming it; `up` restarts it on its endpoint."""
    import signal

    from soc_workspace.local.processes import read_pid

    state = workspace.state_dir
    config = state + ".toml"
    hub_before = read_pid(Path(state, "run", "hub.pid"))
    os.kill(read_pid(Path(state, "run", "store.pid")), signal.SIGKILL)
    time.sleep(0.5)
    report = cli("status", "--state-dir", state, "--json", codes=(1,))
    assert report.returncode == 1, report.stdout
    status = json.loads(report.stdout)
    assert status["down"] == ["store"], status
    assert status["components"]["dask-gateway"] == "running"  # asked on its own port
    again = cli("up", "--state-dir", state, "--config", config)
    assert "Restarted store in" in again.stderr, again.stderr
    assert read_pid(Path(state, "run", "hub.pid")) == hub_before  # the hub was left alone
    assert type(workspace).read(Path(state)).store_endpoint == workspace.store_endpoint
    assert cli("status", "--state-dir", state).returncode == 0


def test_state_survives_a_crash(workspace, scientist, kernel):
    """kill -9 of the hub and the store: the next `up` restarts both; the user's server,
    its kernel and the files in the store run through it."""
    import signal

    from soc_workspace.local.processes import read_pid, workspace_processes

    run(
        scientist,
        kernel,
        """
        from pathlib import Path
        from soc_workspace.store import filesystem
        Path("before-crash.txt").write_text("kept")
        fs = filesystem()  # the scratch bucket is the workspace's: users may not make buckets
        fs.pipe("soc-workspace-scratch/sci/before-crash.txt", b"kept too")
        """,
    )
    server_pid = run(scientist, kernel, "import os; print(os.getppid())")
    run_dir = os.path.join(workspace.state_dir, "run")
    for name in ("hub", "store"):
        os.kill(read_pid(Path(run_dir) / f"{name}.pid"), signal.SIGKILL)
    time.sleep(1)
    orphans = workspace_processes(Path(workspace.state_dir))
    assert orphans  # the proxy, gateway and the user's server outlive a crashed hub
    cli("status", "--state-dir", workspace.state_dir, codes=(1,))
    config = workspace.state_dir + ".toml"
    again = cli("up", "--state-dir", workspace.state_dir, "--config", config)
    assert "Restarted store, hub in" in again.stderr, again.stderr
    status = cli("status", "--state-dir", workspace.state_dir, codes=(0, 1, 3))
    log = Path(workspace.state_dir, "logs", "hub.log").read_text().splitlines()
    assert status.returncode == 0, status.stdout + "\n".join(log[-80:])
    # The same kernel of the same server, reached through the new hub's proxy.
    out = run(
        scientist,
        kernel,
        """
        import os
        from pathlib import Path
        from soc_workspace.store import filesystem
        print(os.getppid(), Path("before-crash.txt").read_text(), "/",
              filesystem().cat("soc-workspace-scratch/sci/before-crash.txt").decode())
        """,
    )
    assert out == f"{server_pid} kept / kept too"
