"""`soc-workspace rerun` (a time range, on its own local cluster) and `soc-workspace compare`."""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from .rerun_helpers import SOC, packet_start, put_raw_and_products, raw_name, simulate

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def soc(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(SOC), *args], capture_output=True, text=True, env={**os.environ, "COLUMNS": "200"}
    )


def test_every_command_has_help():
    for command in (
        ["rerun"], ["compare"], ["env"], ["env", "create"], ["env", "list"], ["env", "remove"],
        ["review"], ["repro"], ["repro", "record"], ["repro", "check"], ["repro", "show"],
        ["repro", "share"],
    ):  # fmt: skip
        done = soc(*command, "--help")
        assert done.returncode == 0, done.stderr
        assert "Usage: soc-workspace" in done.stdout


def test_rerun_a_time_range_from_the_command_line(s3, instrument_env, tmp_path):
    day = put_raw_and_products(
        s3, tmp_path / "good", instrument_env, hours=(0, 1), packets=60, day=186
    )
    bad = simulate(tmp_path / raw_name(3, day=186), packets=10, start=packet_start(3, 186))
    bad.write_bytes(bad.read_bytes()[:100])
    s3.put_file(str(bad), f"hermes-eea/l0/2025/07/05/{bad.name}")
    # the bucket has no catalog index here: the command says so, and how to go on
    unindexed = soc(
        "rerun", "-m", "hermes", "-i", "eea", "--start", "2025-07-05", "--stop", "2025-07-06"
    )
    assert unindexed.returncode == 1
    assert "has no index" in unindexed.stderr
    assert "--list-bucket" in unindexed.stderr
    done = soc(
        "rerun",
        "-m",
        "hermes",
        "-i",
        "eea",
        "--start",
        "2025-07-05",
        "--stop",
        "2025-07-06",
        "--list-bucket",
        "--workers",
        "1",
        "--json",
    )
    assert done.returncode == 1, done.stderr  # one file failed
    rows = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    by_input = {row["input"]: row for row in rows}
    assert set(by_input) == {*day["raw"], f"s3://hermes-eea/l0/2025/07/05/{bad.name}"}
    for url in day["raw"]:
        assert by_input[url]["status"] == "ok"
        assert by_input[url]["verdict"] == "identical"
    assert "not a whole number" in by_input[f"s3://hermes-eea/l0/2025/07/05/{bad.name}"]["error"]
    # compare one product with its archive, by name only (the archived one is found by key)
    product = by_input[day["raw"][0]]["products"][0]
    compared = soc("compare", product)
    assert compared.returncode == 0, compared.stdout + compared.stderr
    assert "IDENTICAL" in compared.stdout


def test_rerun_of_an_empty_range_says_what_was_searched(s3):
    done = soc(
        "rerun", "--mission", "hermes", "--instrument", "eea",
        "--start", "2031-01-01", "--stop", "2031-01-02", "--list-bucket",
    )  # fmt: skip
    assert done.returncode == 2
    assert "no hermes eea files overlapping 2031-01-01 00:00:00+00:00 to 2031-01-02" in (
        done.stderr
    )
    assert "give FILES" not in done.stderr


def test_compare_exits_1_when_different(shared_file):
    a = shared_file("padre/meddea/l0/padre_meddea_l0_photon_20240916T122901_v1.0.0.fits")
    b = shared_file("padre/meddea/l0/padre_meddea_l0test_photon_20250504T055311_v0.1.0.fits")
    done = soc("compare", str(a), str(b), "--json")
    assert done.returncode == 1
    rows = json.loads(done.stdout)
    assert {row["status"] for row in rows} >= {"different"}
    assert soc("compare", str(a), str(a)).returncode == 0


def test_rerun_one_file_runs_without_a_cluster(s3, instrument_env, tmp_path):
    day = put_raw_and_products(s3, tmp_path, instrument_env, hours=(9,), packets=30, day=186)
    done = soc("rerun", day["raw"][0])
    assert done.returncode == 0, done.stdout + done.stderr
    assert "identical" in done.stdout
    assert "1 ok" in done.stdout
    assert "distributed" not in done.stderr  # no Dask cluster was started
