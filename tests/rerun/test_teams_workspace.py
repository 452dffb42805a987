"""A team's needs in a running workspace (`soc-workspace up`, personal mode, a day of demo data):

- the mission kernel `env create` made (the test instrument's environment, standing in for
  HERMES) is in JupyterLab's launcher, in a real browser, and opens demo data;
- a notebook recorded in it (`repro record`) checks "same", and after the operator uploads a
  new version of its input, `repro check` names that input and the output that changed;
  `repro share` puts it in the team's folder;
- `dask_cluster()` from the mission kernel gets workers in the kernel's environment; asked for
  the workspace's own environment instead, the cluster is refused naming the package.
"""

from __future__ import annotations

import json
import os
import shutil
import textwrap

import pytest
from workspace_support import (
    admin_session,
    hub_api,
    new_user,
    public_dir,
    running_workspace,
    write_config,
)

from soc_workspace.local.paths import StatePaths
from soc_workspace.local.storekeys import operator_storage_options

from .rerun_helpers import ENV_NAME, workspace_settings

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(900)]
PASSWORD = "a-long-password-for-teams-42"
DISPLAY = "HERMES: soc-test-instrument (soc_test_instrument)"
DAY = "2025-06-01"
INPUT = "s3://hermes-eea/l1/unknown/2025/06/01/hermes_eea_l1_20250601T000000_v1.0.0.cdf"
OTHER = "s3://hermes-eea/l1/unknown/2025/06/01/hermes_eea_l1_20250601T010000_v1.0.0.cdf"


@pytest.fixture(scope="module")
def workspace(instrument_env, environments_dir):
    state = public_dir("socws-teams-")
    config = write_config(
        state.parent / f"{state.name}.toml",
        workspace_settings(environments_dir, demo_days=1, kernels=True),
    )
    try:
        with running_workspace(state, config) as connection:
            yield connection, state
    finally:
        shutil.rmtree(state, ignore_errors=True)
        config.unlink(missing_ok=True)


@pytest.fixture(scope="module")
def ana(workspace):
    connection, _ = workspace
    person = new_user(connection, admin_session(connection), "ana", PASSWORD)
    hub_api(connection).create_group("eea", ["ana"])  # her team, before her server starts
    person.start_server()
    return person


def run(person, kernel, code, timeout=300):
    result = person.run_code(kernel, textwrap.dedent(code), timeout=timeout)
    assert result.ok, f"{result.error}\n{result.stderr}"
    return result.stdout.strip()


@pytest.mark.browser
def test_the_mission_kernel_is_in_the_launcher_and_opens_demo_data(workspace, ana, tmp_path):
    from playwright.sync_api import sync_playwright

    connection, _ = workspace
    if not os.path.exists("/usr/bin/chromium"):
        pytest.fail("Debian's chromium is missing: tests/run.sh installs it (apt-get install)")
    code = (
        "import sys, soc_workspace as soc; "
        f'found = soc.search("hermes", "eea", "l1", start="{DAY}", stop="{DAY}T02:00"); '
        'ds = soc.open_dataset(found["url"].iloc[0]); '
        'print("prefix", sys.prefix, "files", len(found), "records", ds.sizes["Epoch"])'
    )
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path="/usr/bin/chromium",
            args=["--headless", "--no-sandbox", "--disable-gpu",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run"],
        )  # fmt: skip
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.goto(f"{connection.hub_url}/hub/login", timeout=60_000)
            page.fill("#username_input", "ana")
            page.fill("#password_input", PASSWORD)
            page.click("#login_submit")
            page.wait_for_url("**/user/ana/lab**", timeout=60_000)
            card = page.locator(f".jp-LauncherCard[title='{DISPLAY}']").first
            card.wait_for(timeout=90_000)
            cards = page.locator(".jp-LauncherCard-label").all_inner_texts()
            page.screenshot(path=str(tmp_path / "launcher.png"))
            card.click()  # a new notebook in the mission kernel
            page.wait_for_selector(".jp-NotebookPanel .jp-Cell", timeout=60_000)
            page.get_by_text("| Idle").wait_for(timeout=90_000)
            kernel_name = page.locator(".jp-KernelName").first.inner_text()
            page.locator(".jp-NotebookPanel .jp-Cell .cm-content").first.click()
            page.keyboard.insert_text(code)
            page.keyboard.press("Shift+Enter")
            output = page.locator(".jp-OutputArea-output", has_text="records").first
            output.wait_for(timeout=120_000)
            printed = output.inner_text()
            page.screenshot(path=str(tmp_path / "mission-kernel.png"))
        finally:
            browser.close()
    assert DISPLAY in " ".join(cards), cards
    assert kernel_name.startswith("HERMES: soc-test-instrument")
    words = printed.split()
    assert words[1].endswith(f"/{ENV_NAME}")  # the code ran in the mission's Python
    assert words[3:6] == ["2", "records", words[5]]
    assert int(words[5]) > 0


def test_a_recorded_notebook_is_rechecked_and_shared(workspace, ana):
    _, state = workspace
    kernel = ana.start_kernel()
    # ana writes an analysis in the mission kernel and records it
    notebook = {
        "nbformat": 4,
        "nbformat_minor": 5,
        "metadata": {"kernelspec": {"name": ENV_NAME.lower(), "display_name": DISPLAY}},
        "cells": [
            {"cell_type": "code", "id": "open", "metadata": {}, "execution_count": None,
             "outputs": [], "source": (
                 "import soc_workspace as soc\n"
                 f'ds = soc.open_dataset("{INPUT}")\n'
                 'print("accum total", int(ds["hermes_eea_accum"].sum()))')},
            {"cell_type": "code", "id": "note", "metadata": {}, "execution_count": None,
             "outputs": [], "source": 'print("no data here")'},
        ],
    }  # fmt: skip
    out = run(
        ana,
        kernel,
        f"""
        import json, subprocess
        from pathlib import Path
        path = Path.home() / "analysis.ipynb"
        path.write_text(json.dumps({notebook!r}))
        def soc(*args):
            done = subprocess.run(["soc-workspace", "repro", *args, str(path)],
                                  capture_output=True, text=True)
            return done.returncode, done.stdout.strip(), done.stderr.strip()
        print(json.dumps([soc("record"), soc("check")]))
        """,
    )
    recorded, checked = json.loads(out.splitlines()[-1])
    assert recorded[0] == 0, recorded
    assert "1 input(s)" in recorded[1]
    assert checked[0] == 0, checked
    assert checked[1].startswith("same: ")

    # the operator uploads a new version of the input object
    import s3fs

    store = s3fs.S3FileSystem(
        **operator_storage_options(StatePaths(state)), skip_instance_cache=True
    )
    store.pipe(INPUT.removeprefix("s3://"), store.cat(OTHER.removeprefix("s3://")))
    out = run(
        ana,
        kernel,
        """
        done = subprocess.run(["soc-workspace", "repro", "check", str(path)],
                              capture_output=True, text=True)
        print(json.dumps([done.returncode, done.stdout, done.stderr]))
        shared = subprocess.run(["soc-workspace", "repro", "share", str(path), "--team", "eea"],
                                capture_output=True, text=True)
        print(json.dumps([shared.returncode, shared.stdout, shared.stderr]))
        from soc_workspace.repro import read_record
        copy = Path.home() / "teams" / "eea" / "analysis.ipynb"
        print(read_record(copy) == read_record(path))
        """,
    )
    check_line, share_line, same_record = out.splitlines()[-3:]
    code, text, errors = json.loads(check_line)
    assert code == 1, text + errors
    assert text.startswith("different: ")
    assert f"input changed: {INPUT} (etag " in text
    assert "output differs: cell 0 (import soc_workspace as soc)" in text
    assert "cell 1" not in text  # the cell that reads no data is the same
    code, text, errors = json.loads(share_line)
    assert code == 0, errors
    assert same_record == "True"
    teams = StatePaths(state).root / "teams" / "eea" / "analysis.ipynb"
    assert teams.is_file()  # in the team's folder on disk, for every member


def test_a_mission_kernels_cluster_runs_its_environment_and_a_mismatch_is_refused(workspace, ana):
    kernel = ana.start_kernel(ENV_NAME.lower())
    out = run(
        ana,
        kernel,
        """
        import sys
        from soc_workspace.compute import dask_cluster, VersionMismatchError
        with dask_cluster(1) as client:
            workers = client.run(lambda: __import__("sys").prefix)
        print("kernel", sys.prefix)
        print("workers", *set(workers.values()))
        try:
            with dask_cluster(1, environment=""):  # the workspace's own environment
                print("not refused")
        except VersionMismatchError as err:
            print("refused:", " ".join(str(err).split()))
        """,
    )
    lines = dict(line.split(" ", 1) for line in out.splitlines() if " " in line)
    assert lines["kernel"].endswith(f"/{ENV_NAME}")
    assert lines["workers"] == lines["kernel"]  # the workers run in the kernel's environment
    refused = lines["refused:"]
    assert "soc-test-instrument: 1.0.0 in this kernel, missing on scheduler and worker" in refused
    assert "not refused" not in out
