"""A damaged index is repaired by one command: `soc-workspace catalog build --bucket B`.

Each case damages one index file of a real store process (the manifest in three ways, a
parquet file, catalog.json, a yearly CSV, an info file), checks that the damage is real (our
tools name it and the repair command, HelioCloud's `cloudcatalog` client or our search fails),
runs the one command, and checks the index is whole again through our search and through
`cloudcatalog`, and that a second build finds nothing left to do.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest
import s3fs
from catalog_checks import index_problems
from click.testing import CliRunner
from conftest import serve_store

from soc_workspace.catalog import CatalogError, Dataset, build, clear_cache, search, update
from soc_workspace.catalog.cloudcatalog import csv_bytes
from soc_workspace.catalog.datasets import finish_table
from soc_workspace.catalog.index import encode_parquet
from soc_workspace.cli import cli
from soc_workspace.missions import key_for, make_filename, parse_filename
from soc_workspace.store.credentials import store_environment

BUCKET = "hermes-eea"
DATASET = "hermes_eea_l1"
SPAN = ("2024-12-01T00:00:00Z", "2025-02-01T00:00:00Z")
NEW_YEAR = datetime(2024, 12, 31, 12, tzinfo=UTC)  # a day of files on each side of a year


def eea_key(when: datetime) -> str:
    name = make_filename(mission="hermes", instrument="eea", level="l1", time=when, version="1.0.0")
    return key_for(parse_filename(name))


def _manifest(fs: s3fs.S3FileSystem) -> dict:
    return json.loads(fs.cat_file(f"{BUCKET}/catalog/manifest.json"))


def _drop_years(fs: s3fs.S3FileSystem) -> None:
    manifest = _manifest(fs)
    del manifest["datasets"][DATASET]["years"]
    fs.pipe_file(f"{BUCKET}/catalog/manifest.json", json.dumps(manifest).encode())


def _datasets_as_list(fs: s3fs.S3FileSystem) -> None:
    manifest = _manifest(fs)
    manifest["datasets"] = list(manifest["datasets"].values())
    fs.pipe_file(f"{BUCKET}/catalog/manifest.json", json.dumps(manifest).encode())


def _garbage_parquet(fs: s3fs.S3FileSystem) -> None:
    year = _manifest(fs)["datasets"][DATASET]["years"]["2025"]["parquet"]
    fs.pipe_file(f"{BUCKET}/{year}", b"PAR1 not really")


def _no_parquet(fs: s3fs.S3FileSystem) -> None:
    fs.rm(f"{BUCKET}/{_manifest(fs)['datasets'][DATASET]['years']['2024']['parquet']}")


DAMAGE = {
    "manifest not JSON": lambda fs: fs.pipe_file(f"{BUCKET}/catalog/manifest.json", b"\x00garbage"),
    "manifest without years": _drop_years,
    "manifest datasets a list": _datasets_as_list,
    "parquet file garbage": _garbage_parquet,
    "parquet file gone": _no_parquet,
    "catalog.json garbage": lambda fs: fs.pipe_file(f"{BUCKET}/catalog.json", b"{not json"),
    "catalog.json gone": lambda fs: fs.rm(f"{BUCKET}/catalog.json"),
    "yearly CSV garbage": lambda fs: fs.pipe_file(
        f"{BUCKET}/catalog/{DATASET}_2025.csv", b"start,stop\n\x00\x01,garbage,,\n"
    ),
    "yearly CSV emptied": lambda fs: fs.pipe_file(f"{BUCKET}/catalog/{DATASET}_2024.csv", b""),
    "yearly CSV gone": lambda fs: fs.rm(f"{BUCKET}/catalog/{DATASET}_2024.csv"),
    "info file garbage": lambda fs: fs.pipe_file(f"{BUCKET}/catalog/{DATASET}.json", b"]"),
}


def test_csv_from_a_parquet_file_is_the_csv_of_its_table():
    """CloudCatalog files are written from tables in memory or from parquet files read back
    (another writer's generation); `build` compares them: both must give the same bytes."""
    from soc_workspace.catalog.cloudcatalog_files import year_table

    t = pd.Timestamp("2025-06-01", tz="UTC")
    rows = pd.DataFrame(
        {
            "start": [t, t, t + pd.Timedelta("1h"), t + pd.Timedelta("2h")],
            "url": ["s3://b/a_v1.0.9", "s3://b/a_v1.0.10", "s3://b/b", "s3://b/c"],
            "filesize": [1, 2, 3, 4],
            "version": ["1.0.9", "1.0.10", None, "1.0.0"],
            "etag": ['"x"', None, "y", "z"],
            "modified": [t, None, t, t],
        }
    )
    table = finish_table(rows)
    dataset = Dataset("hermes_eea_l1", "hermes", "eea", "l1", filetype="cdf")
    read_back = year_table(encode_parquet(table))
    assert csv_bytes(read_back, dataset) == csv_bytes(table, dataset)
    assert b"s3://b/a_v1.0.10,2,1.0.10,l1,,," in csv_bytes(table, dataset)


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """A real store process with 24 hourly EEA files across a new year."""
    tmp = tmp_path_factory.mktemp("catalog-repair")
    proc, info = serve_store(tmp / "store")
    endpoint = info["endpoint_url"]
    fs = s3fs.S3FileSystem(**info, skip_instance_cache=True)  # as the store's operator
    try:
        with pytest.MonkeyPatch.context() as mp:
            for name, value in {
                **store_environment(endpoint),
                "AWS_ACCESS_KEY_ID": info["key"],
                "AWS_SECRET_ACCESS_KEY": info["secret"],
                "SOC_WORKSPACE__CATALOG__CACHE_DIR": str(tmp / "cache"),
                "SOC_WORKSPACE__CATALOG__MAX_AGE": "0",
            }.items():
                mp.setenv(name, value)
            fs.mkdir(BUCKET)
            keys = [eea_key(NEW_YEAR + timedelta(hours=h)) for h in range(24)]
            fs.pipe({f"{BUCKET}/{k}": k.encode() for k in keys})
            yield fs, {f"s3://{BUCKET}/{k}" for k in keys}
            clear_cache()
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def _whole_index(fs: s3fs.S3FileSystem, expected: set[str]) -> None:
    clear_cache(disk=True)
    problems = index_problems(BUCKET, DATASET, expected, *SPAN)
    assert not problems, "\n".join(problems)


def _info_columns(fs: s3fs.S3FileSystem) -> list[str] | None:
    """The extra CSV columns the dataset's info file declares; None when it is not JSON."""
    try:
        info = json.loads(fs.cat_file(f"{BUCKET}/catalog/{DATASET}.json"))
    except ValueError:
        return None
    return [p["name"] for p in info["parameters"]]


@pytest.mark.integration
@pytest.mark.filterwarnings("ignore:The inplace keyword")  # inside cloudcatalog, with pandas 3
@pytest.mark.parametrize("damage", list(DAMAGE))
def test_one_build_repairs_a_damaged_index(store, damage):
    fs, expected = store
    index = [p for p in (f"{BUCKET}/catalog", f"{BUCKET}/catalog.json") if fs.exists(p)]
    if index:  # each case starts from a fresh index
        fs.rm(index, recursive=True)
    build(BUCKET, progress=False)
    _whole_index(fs, expected)

    DAMAGE[damage](fs)
    clear_cache(disk=True)
    if damage.startswith("info file"):  # HelioCloud's client does not read it: check it here
        assert _info_columns(fs) is None
    else:
        assert index_problems(BUCKET, DATASET, expected, *SPAN), "the damage changed nothing"
    if damage.startswith("manifest"):  # our tools name the fault and the one repair command
        with pytest.raises(CatalogError, match=rf"build --bucket {BUCKET}` rebuilds it"):
            update(BUCKET, [eea_key(NEW_YEAR)], progress=False)
        with pytest.raises(CatalogError, match=rf"build --bucket {BUCKET}` rebuilds it"):
            search(dataset=DATASET)

    result = CliRunner().invoke(cli, ["catalog", "build", "--bucket", BUCKET, "-q"])
    assert result.exit_code == 0, result.output + repr(result.exception)
    assert "repaired" in result.output, result.output
    _whole_index(fs, expected)
    assert _info_columns(fs) == ["version", "level", "descriptor", "mode", "etag"]

    again = build(BUCKET, progress=False)[0]
    assert (again.generation, again.repaired) == (None, []), again.summary()


@pytest.mark.integration
def test_a_damaged_manifest_cannot_make_writers_delete_data(store):
    """Writers delete the files old manifests name: names outside catalog/parquet/ are damage."""
    fs, expected = store
    build(BUCKET, progress=False)
    data_key = sorted(expected)[0].removeprefix(f"s3://{BUCKET}/")
    manifest = _manifest(fs)
    manifest["previous"] = [data_key, "catalog/parquet/../../" + data_key]
    fs.pipe_file(f"{BUCKET}/catalog/manifest.json", json.dumps(manifest).encode())
    with pytest.raises(CatalogError, match=r"'previous' is not a list of the index's parquet"):
        update(BUCKET, [data_key], progress=False)
    report = build(BUCKET, progress=False)[0]
    assert report.repaired == ["catalog/manifest.json"]
    assert fs.exists(f"{BUCKET}/{data_key}")
    assert _manifest(fs)["previous"] == []
