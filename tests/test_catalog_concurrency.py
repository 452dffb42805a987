"""Two writers at once: concurrent `catalog update`s of one bucket lose nothing.

Each round uploads two new files of the same dataset and year (so both writers rewrite the
same year file) and runs two updates at once, each told of one of them, against a real store
process over HTTP. After every round the index must hold every file uploaded so far, through
our search and through HelioCloud's `cloudcatalog` client, and every file the manifest names
must exist. The full 25 rounds with real `soc-workspace catalog update` processes are in
benchmarks/catalog_concurrent_updates.py.
"""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime, timedelta

import pytest
import s3fs
from catalog_checks import index_problems
from conftest import serve_store

from soc_workspace.catalog import build, clear_cache, update
from soc_workspace.missions import key_for, make_filename, parse_filename
from soc_workspace.store.credentials import store_environment

BUCKET = "hermes-eea"
DATASET = "hermes_eea_l1"
DAY = datetime(2025, 6, 1, tzinfo=UTC)
ROUNDS = 6
SPAN = ("2025-01-01T00:00:00Z", "2026-01-01T00:00:00Z")


def eea_key(when: datetime) -> str:
    name = make_filename(mission="hermes", instrument="eea", level="l1", time=when, version="1.0.0")
    return key_for(parse_filename(name))


def updates_at_once(keys: list[str]) -> list[str]:
    """Run one `update` per key, all at once (threads released together); their errors."""
    start = threading.Barrier(len(keys))
    errors: list[str] = []

    def run(key: str) -> None:
        start.wait()
        try:
            update(BUCKET, [key], progress=False)
        except Exception as err:  # a failed update is what the test counts
            errors.append(f"update of {key} failed: {type(err).__name__}: {err}")

    writers = [threading.Thread(target=run, args=(k,)) for k in keys]
    for w in writers:
        w.start()
    for w in writers:
        w.join()
    return errors


@pytest.fixture(params=["in the bucket", "in a local folder"])
def store(request, tmp_path, monkeypatch):
    """A real store process holding one day of hourly EEA files, indexed beside them (S3
    conditional writes) or in a local folder (``catalog.url``: rename under a file lock)."""
    proc, info = serve_store(tmp_path / "store")
    endpoint = info["endpoint_url"]
    env = {
        **store_environment(endpoint),
        "AWS_ACCESS_KEY_ID": info["key"],  # the catalog is written by the store's operator
        "AWS_SECRET_ACCESS_KEY": info["secret"],
        "SOC_WORKSPACE__CATALOG__CACHE_DIR": str(tmp_path / "cache"),
        "SOC_WORKSPACE__CATALOG__MAX_AGE": "0",
    }
    if request.param == "in a local folder":
        env["SOC_WORKSPACE__CATALOG__URL"] = str(tmp_path / "indexes")
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    try:
        fs = s3fs.S3FileSystem(**info, skip_instance_cache=True)
        fs.mkdir(BUCKET)
        hours = range(24)
        fs.pipe({f"{BUCKET}/{eea_key(DAY + timedelta(hours=h))}": b"x" * (h + 1) for h in hours})
        clear_cache()
        build(BUCKET, progress=False)
        yield fs
    finally:
        clear_cache()
        proc.terminate()
        proc.wait(timeout=20)


@pytest.mark.integration
@pytest.mark.filterwarnings("ignore:The inplace keyword")  # inside cloudcatalog, with pandas 3
def test_two_updates_at_once_lose_nothing(store, caplog):
    fs = store
    caplog.set_level(logging.INFO, logger="soc_workspace.catalog.build")
    expected = {f"s3://{BUCKET}/{eea_key(DAY + timedelta(hours=h))}" for h in range(24)}
    failures: dict[int, list[str]] = {}
    for round_ in range(ROUNDS):
        keys = [eea_key(DAY + timedelta(days=1, hours=2 * round_ + i)) for i in range(2)]
        fs.pipe({f"{BUCKET}/{k}": b"new" for k in keys})
        expected |= {f"s3://{BUCKET}/{k}" for k in keys}
        errors = updates_at_once(keys)
        problems = errors + index_problems(BUCKET, DATASET, expected, *SPAN)
        if problems:
            failures[round_] = problems
    retries = sum("applying this update to it again" in r.getMessage() for r in caplog.records)
    print(
        f"{ROUNDS - len(failures)} of {ROUNDS} rounds of two concurrent updates lost nothing; "
        f"{retries} publish(es) lost the race and were applied again"
    )
    assert not failures, "\n".join(f"round {r}: {'; '.join(p)}" for r, p in failures.items())
    assert retries, "the updates never raced: this test proved nothing"
    # Every index file holds what the last manifest says (the CloudCatalog files converged).
    report = build(BUCKET, progress=False)[0]
    assert (report.generation, report.repaired) == (None, []), report.summary()
