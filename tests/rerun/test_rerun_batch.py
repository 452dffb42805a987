"""Many files on a real Dask cluster: per-file status, bad files, a worker killed mid-run."""

from __future__ import annotations

import os
import signal
import threading
import time

import pandas as pd
import psutil
import pytest

from soc_workspace.calibration import rerun

from .rerun_helpers import (
    PIPELINE_BUCKET,
    bucket_checksums,
    catalog_built,
    packet_start,
    put_raw_and_products,
    raw_name,
    simulate,
)

pytestmark = [pytest.mark.integration, pytest.mark.slow]
DAY = "l0/2025/07/02"  # these tests' own day (day of year 183), apart from the other modules'


@pytest.fixture(scope="module")
def client(rerun_env):
    """Two single-threaded worker processes; they inherit the routing settings of rerun_env."""
    from distributed import Client, LocalCluster

    with (
        LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=":0") as cluster,
        Client(cluster) as client,
    ):
        yield client


@pytest.fixture(scope="module")
def day(s3, instrument_env, tmp_path_factory):
    """Three good files with archived products, and four bad inputs, on 2025-07-02."""
    folder = tmp_path_factory.mktemp("batch")
    urls = put_raw_and_products(
        s3, folder / "good", instrument_env, hours=(0, 1, 2), packets=150, day=183
    )
    bad = folder / "bad"
    bad.mkdir()
    truncated = simulate(bad / raw_name(4, day=183), packets=40, start=packet_start(4, 183))
    truncated.write_bytes(truncated.read_bytes()[:-1])
    raising = simulate(bad / raw_name(5, day=183), packets=40, start=packet_start(5, 183), sensor=9)
    for path in (truncated, raising):
        s3.put_file(str(path), f"{PIPELINE_BUCKET}/{DAY}/{path.name}")
    urls["bad"] = {
        "truncated": f"s3://{PIPELINE_BUCKET}/{DAY}/{truncated.name}",
        "raising": f"s3://{PIPELINE_BUCKET}/{DAY}/{raising.name}",
        "unknown instrument": f"s3://{PIPELINE_BUCKET}/{DAY}/hermes_XYZ_l0_2025183-060000_v0.bin",
        "missing": f"s3://{PIPELINE_BUCKET}/{DAY}/{raw_name(7, day=183)}",
    }
    return urls


def test_a_batch_reports_every_file_and_finishes_past_bad_ones(client, day, s3):
    before = bucket_checksums(s3)
    inputs = [*day["raw"], *day["bad"].values()]
    table = rerun(inputs, cluster=client, compare=True, progress=False)
    assert list(table["input"]) == inputs
    rows = table.set_index("input")
    for url, archived in zip(day["raw"], day["products"], strict=True):
        assert rows.loc[url, "status"] == "ok", rows.loc[url, "error"]
        assert rows.loc[url, "verdict"] == "identical", rows.loc[url, "differences"]
        assert rows.loc[url, "archived"] == [archived]
    bad = {name: rows.loc[url] for name, url in day["bad"].items()}
    assert bad["truncated"]["status"] == "failed"
    assert "not a whole number of 72-byte packets" in bad["truncated"]["error"]
    assert bad["raising"]["error"].startswith("unexpected KeyError: 'no calibration table")
    assert bad["unknown instrument"]["error"].startswith("ValueError: 'hermes_XYZ_l0_")
    assert bad["missing"]["error"].startswith("FileNotFoundError: input s3://hermes-eea/")
    assert table.attrs["run_url"].startswith("s3://soc-workspace-scratch/")
    summary = pd.read_csv(s3.open(table.attrs["run_url"] + "/summary.csv"))
    assert list(summary["status"]) == list(table["status"])
    # nothing of ours landed in (or changed) a pipeline bucket
    assert bucket_checksums(s3) == before


def test_a_catalog_search_table_is_an_input(client, day):
    search = pd.DataFrame({"url": day["raw"][:1], "filesize": [0]})
    table = rerun(search, cluster=client, progress=False)
    assert list(table["status"]) == ["ok"]


def test_a_worker_killed_mid_run_loses_no_file(client, s3, tmp_path):
    """SIGKILL one worker (and so its calibrations) while it runs a file: all files complete."""
    inputs = []
    for hour in range(12, 18):
        path = simulate(
            tmp_path / raw_name(hour, day=183),
            packets=1200,
            start=packet_start(hour, 183),
            seed=hour,
        )
        s3.put_file(str(path), f"{PIPELINE_BUCKET}/{DAY}/{path.name}")
        inputs.append(f"s3://{PIPELINE_BUCKET}/{DAY}/{path.name}")
    pids = client.run(os.getpid)
    killed: dict[str, object] = {}

    def kill_a_busy_worker() -> None:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            for address, keys in client.processing().items():
                worker = psutil.Process(pids[address])
                calibrations = [
                    p
                    for p in worker.children(recursive=True)
                    if "_child.py" in " ".join(p.cmdline())
                ]
                if keys and len(calibrations) >= 2:  # the warm interpreter and its file's fork
                    killed.update(address=address, keys=list(keys), children=calibrations)
                    os.kill(pids[address], signal.SIGKILL)
                    return
            time.sleep(0.05)

    killer = threading.Thread(target=kill_a_busy_worker)
    killer.start()
    table = rerun(inputs, cluster=client, progress=False)
    killer.join()
    assert killed, "no worker was caught running a calibration"
    assert list(table["status"]) == ["ok"] * len(inputs), table[["input", "error"]]
    # the killed worker's calibrations died with it
    time.sleep(1)
    assert not [p for p in killed["children"] if p.is_running() and p.status() != "zombie"]
    # the nanny started a new worker in its place
    assert len(client.scheduler_info()["workers"]) == 2
    assert killed["address"] not in client.scheduler_info()["workers"]


def _no_listing(*args, **kwargs):
    raise AssertionError("inputs were found by listing the bucket although a catalog exists")


def test_rerun_inputs_are_the_catalogs_with_and_without_an_index(client, day, s3, monkeypatch):
    """One way to a time range's inputs: the catalog's search. Without an index nothing is
    listed silently; an explicit listing chooses exactly the files the index then finds,
    by the same time rule (files overlapping the range, newest versions)."""
    from soc_workspace.calibration import find_inputs
    from soc_workspace.catalog import CatalogError, search

    start, stop = "2025-07-02T00:00", "2025-07-02T03:00"
    inside = "2025-07-02T00:30", "2025-07-02T01:30"  # starts inside the hour-0 file
    with pytest.raises(CatalogError, match=r"has no index.*listing=True.*--list-bucket"):
        find_inputs("hermes", "eea", start=start, stop=stop)
    listed = find_inputs("hermes", "eea", start=start, stop=stop, listing=True)
    assert listed == day["raw"]
    listed_inside = find_inputs("hermes", "eea", start=inside[0], stop=inside[1], listing=True)
    assert listed_inside == day["raw"][:2]  # overlapping, not "starting in the range"

    with catalog_built(s3):
        with monkeypatch.context() as patch:
            patch.setattr("s3fs.S3FileSystem.glob", _no_listing)
            assert find_inputs("hermes", "eea", start=start, stop=stop) == listed
            assert find_inputs("hermes", "eea", start=inside[0], stop=inside[1]) == listed_inside
        found = search("hermes", "eea", "l0", start=start, stop=stop)
        assert list(found["url"]) == listed
        assert list(search("hermes", "eea", "l0", *inside)["url"]) == listed_inside
        table = rerun(found, cluster=client, progress=False)
    assert list(table["input"]) == listed
    assert list(table["status"]) == ["ok"] * len(listed)
