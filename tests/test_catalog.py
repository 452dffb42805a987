"""Catalogs: build and update indexes beside the data, search them, read them with CloudCatalog.

The integration tests run against their own embedded store (a real `soc-workspace store serve`
process), filled with SOC-named objects in the real key layouts, plus real sample files.
"""

from __future__ import annotations

import json
import os
import re
import warnings
from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest
import s3fs
from click.testing import CliRunner
from conftest import PROJECT_ROOT, serve_store, shared_files

from soc_workspace.catalog import (
    CatalogError,
    CatalogWarning,
    IndexFormatWarning,
    build,
    clear_cache,
    dataset_for,
    keys_from_text,
    list_datasets,
    locate,
    search,
    update,
)
from soc_workspace.catalog.cloudcatalog import read_csv_index
from soc_workspace.catalog.datasets import finish_table
from soc_workspace.catalog.location import IndexWriter, check_index_write
from soc_workspace.cli import cli
from soc_workspace.missions import key_for, make_filename, parse_filename, parse_key
from soc_workspace.store import PipelineBucketError

DAY = datetime(2025, 6, 1, tzinfo=UTC)


# -- units -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "dataset"),
    [
        ("l1/unknown/2025/06/01/hermes_eea_l1_20250601T000000_v1.0.0.cdf", "hermes_eea_l1"),
        (
            "l0/photon/2024/09/16/padre_meddea_l0_photon_20240916T122901_v1.0.0.fits",
            "padre_meddea_l0_photon",
        ),
        (
            "l0test/2025/05/04/padre_meddea_l0test_spectrum_20250504T000000_v0.1.0.fits",
            "padre_meddea_l0test_spectrum",
        ),
        (
            "ql/spectrum/2024/04/06/hermes_nem_burst_ql_spec_20240406T120621_v1.2.3.cdf",
            "hermes_nemisis_ql_spec_burst",
        ),
        ("raw/2024/09/16/padreMDA0_240916122901.dat", "padre_meddea_raw_photon"),
        ("l0/2023/02/11/hermes_EEA_l0_2023042-000000_v0.bin", "hermes_eea_l0"),
    ],
)
def test_dataset_ids(key, dataset):
    try:
        parsed = parse_key(key)
    except ValueError:
        # test products sit under their level folder; build the key the pipeline would
        info = parse_filename(key.rsplit("/", 1)[-1])
        parsed = parse_key(key_for(info))
    assert dataset_for(parsed).id == dataset


def test_newest_version_and_estimated_stops():
    t = pd.Timestamp("2025-06-01", tz="UTC")
    rows = pd.DataFrame(
        {
            "start": [t, t, t + pd.Timedelta("1h"), t + pd.Timedelta("2h"), t + pd.Timedelta("5h")],
            "url": ["s3://b/a_v1.0.9", "s3://b/a_v1.0.10", "s3://b/b", "s3://b/c", "s3://b/d"],
            "filesize": [1, 2, 3, 4, 5],
            "version": ["1.0.9", "1.0.10", "1.0.0", "1.0.0", "1.0.0"],
            "etag": ['"x"'] * 5,
            "modified": [t] * 5,
        }
    )
    table = finish_table(rows)
    latest = table[table["latest"]]
    assert list(latest["url"]) == ["s3://b/a_v1.0.10", "s3://b/b", "s3://b/c", "s3://b/d"]
    hours = ((table["stop"] - table["start"]) / pd.Timedelta("1h")).tolist()
    # next file's start, at most the typical spacing (1 h): the file before the gap gets 1 h
    assert hours == [1, 1, 1, 1, 1]
    assert table["etag"].iloc[0] == "x"


def test_malformed_csv_rows_are_skipped_with_a_warning():
    text = (
        "# start, stop, datakey, filesize, version\n"
        "'2010-05-08T12:05:30.000Z','2010-05-08T12:06:14.000Z','s3://b/one.fts','246000','1.0.0'\n"
        "'not a time','2010-05-08T12:10:29.000Z','s3://b/two.fts','246000','1.0.0'\n"
        "'2010-05-08T12:10:30.000Z','2010-05-08T12:14:29.000Z','s3://b/three.fts','big','1.0.0'\n"
        "'2010-05-08T12:14:30Z','2010-05-08T12:18:29Z','s3://b/four.fts','1','1.0.0'\n"
    )
    with pytest.warns(
        IndexFormatWarning, match=r"x_2010\.csv: skipped 2 malformed row\(s\) at line\(s\) 3, 4"
    ):
        table = read_csv_index(text.encode(), "s3://b/x_2010.csv")
    assert list(table["url"]) == ["s3://b/one.fts", "s3://b/four.fts"]
    assert table["start"].iloc[1] == pd.Timestamp("2010-05-08T12:14:30Z")


def test_keys_from_s3_events():
    event = {
        "Records": [
            {"s3": {"bucket": {"name": "hermes-eea"}, "object": {"key": "l1/unknown/a+b.cdf"}}}
        ]
    }
    assert keys_from_text(json.dumps(event)) == ["s3://hermes-eea/l1/unknown/a b.cdf"]
    assert keys_from_text("l1/x.cdf\n\ns3://hermes-eea/l1/y.cdf\n") == [
        "l1/x.cdf",
        "s3://hermes-eea/l1/y.cdf",
    ]


def test_index_writes_in_pipeline_buckets_need_the_operator(tmp_path):
    location = locate("hermes-eea")
    aws = "https://s3.us-east-1.amazonaws.com"
    with pytest.raises(PipelineBucketError, match=r"operator.*--operator.*catalog\.url"):
        check_index_write(location, "catalog/manifest.json", operator=False, endpoint=aws)
    with pytest.raises(PipelineBucketError, match="operator"):
        check_index_write(location, "catalog.json", operator=False, endpoint=None)
    assert check_index_write(location, "catalog.json", operator=True, endpoint=aws)
    assert check_index_write(
        location, "catalog/x.csv", operator=False, endpoint="http://127.0.0.1:9000"
    )
    for where in ("l1/unknown/2025/06/01/x.cdf", "catalogue.json"):
        with pytest.raises(PipelineBucketError, match=r"only catalog\.json and catalog/"):
            check_index_write(location, where, operator=True, endpoint=aws)


# -- a store with SOC files ------------------------------------------------------------------


def _name(instrument: str, level: str, when: datetime, version: str = "1.0.0", **kw) -> str:
    mission = "padre" if instrument == "meddea" else "hermes"
    return make_filename(
        mission=mission, instrument=instrument, level=level, time=when, version=version, **kw
    )


def _objects() -> dict[str, dict[str, bytes]]:
    """bucket -> key -> bytes: two days of hourly HERMES EEA l1, PADRE l0 every 2 h, edges."""
    eea: dict[str, bytes] = {}
    for hour in range(48):
        name = _name("eea", "l1", DAY + timedelta(hours=hour))
        eea[key_for(parse_filename(name))] = b"x" * (hour + 1)
    # older data in the legacy layout, and things that are not SOC files
    eea["l1/2025/05/hermes_eea_l1_20250531T220000_v1.0.0.cdf"] = b"legacy"
    eea["l1/unknown/2025/06/01/notes.txt"] = b"not data"
    eea["l1/unknown/2025/06/01/padre_meddea_l0_photon_20250601T000000_v1.0.0.fits"] = b"x"
    meddea: dict[str, bytes] = {}
    for hour in range(0, 24, 2):
        for kind in ("photon", "spectrum", "housekeeping"):
            name = _name("meddea", "l0", DAY + timedelta(hours=hour), descriptor=kind)
            meddea[key_for(parse_filename(name))] = b"fits"
    for day in ("20241230", "20241231", "20250101"):  # daily l1 across a year boundary
        name = f"padre_meddea_l1_{day}T120000_v1.0.0.fits"
        meddea[key_for(parse_filename(name))] = b"daily"
    objects = {"hermes-eea": eea, "padre-meddea": meddea}
    for path in shared_files():  # real files, where the pipeline would keep them
        info = parse_filename(path.name)
        bucket = f"{info.mission}-{info.instrument}"
        objects.setdefault(bucket, {})[key_for(info)] = path.read_bytes()
    return objects


@pytest.fixture(scope="module")
def soc_store(tmp_path_factory):
    """A real store process with SOC objects; settings and boto3 point at it."""
    proc, info = serve_store(tmp_path_factory.mktemp("catalog-store"))
    endpoint = info["endpoint_url"]
    env = {
        "AWS_ENDPOINT_URL_S3": endpoint,
        "AWS_ACCESS_KEY_ID": info["key"],  # the operator: it writes the objects and catalog
        "AWS_SECRET_ACCESS_KEY": info["secret"],
        "AWS_DEFAULT_REGION": "us-east-1",
        "SOC_WORKSPACE__STORE__ENDPOINT_URL": endpoint,
        "SOC_WORKSPACE__CATALOG__CACHE_DIR": str(tmp_path_factory.mktemp("catalog-cache")),
    }
    fs = s3fs.S3FileSystem(**info, skip_instance_cache=True)
    objects = _objects()
    for bucket in objects:
        fs.mkdir(bucket)
    fs.pipe({f"{b}/{k}": data for b, keys in objects.items() for k, data in keys.items()})
    with pytest.MonkeyPatch.context() as mp:
        for name, value in env.items():
            mp.setenv(name, value)
        clear_cache()
        reports = {r.bucket: r for b in sorted(objects) for r in build(b, progress=False)}
        yield fs, reports
        clear_cache()
    proc.terminate()
    proc.wait(timeout=20)


def _day_files(fs, bucket: str, level: str, day: datetime) -> set[str]:
    """What the store holds for a day (the test lists; the catalog must not need to)."""
    found = set()
    for path in fs.find(bucket):
        key = path.split("/", 1)[1]
        try:
            info = parse_key(key).file
        except ValueError:
            continue
        if info.level == level and day <= info.time < day + timedelta(days=1):
            found.add(f"s3://{path}")
    return found


@pytest.mark.integration
def test_build_indexes_every_object_and_reports_the_rest(soc_store):
    fs, reports = soc_store
    eea = reports["hermes-eea"]
    assert eea.generation
    skipped = {s.key: s.reason for s in eea.skipped}
    assert set(skipped) == {
        "l1/unknown/2025/06/01/notes.txt",
        "l1/unknown/2025/06/01/padre_meddea_l0_photon_20250601T000000_v1.0.0.fits",
    }
    assert "not a SWxSOC file name" in skipped["l1/unknown/2025/06/01/notes.txt"]
    assert eea.datasets["hermes_eea_l1"] == 48 + 1 + bool(shared_files("hermes_eea_l1_*"))
    listed = pd.read_csv(fs.open("hermes-eea/catalog/skipped.csv"))
    assert set(listed["key"]) == set(skipped)
    assert "padre_meddea_l0_housekeeping" in reports["padre-meddea"].datasets


@pytest.mark.integration
def test_a_day_is_exactly_the_files_of_that_day(soc_store):
    fs, _ = soc_store
    day = DAY + timedelta(days=1)
    found = search("hermes", "eea", "l1", start=day, stop=day + timedelta(days=1))
    assert set(found["url"]) == _day_files(fs, "hermes-eea", "l1", day)
    assert len(found) == 24
    assert found["start"].is_monotonic_increasing
    assert list(found.columns[:6]) == [
        "dataset",
        "mission",
        "instrument",
        "level",
        "descriptor",
        "mode",
    ]
    assert {"start", "stop", "version", "filename", "filesize", "url"} <= set(found.columns)
    row = found.iloc[0]
    assert fs.size(row["url"]) == row["filesize"]
    # overlap: a range inside one hourly file finds that file
    inside = search("hermes", "eea", "l1", start="2025-06-02T05:20", stop="2025-06-02T05:40")
    assert list(inside["filename"]) == ["hermes_eea_l1_20250602T050000_v1.0.0.cdf"]


@pytest.mark.integration
def test_searches_never_list_a_bucket(soc_store, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError(f"a search listed {args[1:2]}")

    for method in ("_lsdir", "_ls", "_find", "_glob", "_walk"):
        monkeypatch.setattr(s3fs.S3FileSystem, method, refuse)
    clear_cache(disk=True)
    assert len(search(level="l1", start="2025-06-01", stop="2025-06-03")) == 48
    assert len(search("padre", version="all")) > 36


@pytest.mark.integration
def test_descriptors_levels_and_year_boundaries(soc_store):
    photon = search("padre", "meddea", "l0", "2025-06-01", "2025-06-02", descriptor="photon")
    assert len(photon) == 12
    assert set(photon["dataset"]) == {"padre_meddea_l0_photon"}
    every = search("padre", "meddea", "l0", "2025-06-01", "2025-06-02")
    assert len(every) == 36
    # the daily file of Dec 31 (12:00 to 12:00) reaches into 2025: it is in the 2024 year file
    newyear = search("padre", "meddea", "l1", "2025-01-01T00:00", "2025-01-01T06:00")
    assert list(newyear["filename"]) == ["padre_meddea_l1_20241231T120000_v1.0.0.fits"]
    assert len(search("hermes", "eea", "l1", start="2025-05-31", stop="2025-06-01")) == 1  # legacy
    everything = search(level="l1")
    assert {"hermes_eea_l1", "padre_meddea_l1"} <= set(everything["dataset"])
    datasets = list_datasets("padre")
    assert "padre_meddea_l0_spectrum" in set(datasets["dataset"])


@pytest.mark.integration
def test_unknown_names_list_the_valid_ones(soc_store):
    with pytest.raises(ValueError, match=r"unknown mission 'hermez'.*hermes, padre"):
        search("hermez")
    with pytest.raises(ValueError, match=r"unknown instrument 'xyz'.*eea, nemisis, merit, spani"):
        search("hermes", "xyz")
    with pytest.raises(ValueError, match=r"unknown level 'l9' of hermes.*l0, l1"):
        search("hermes", "eea", "l9")
    with pytest.raises(ValueError, match=r"descriptor 'photons'.*housekeeping, photon, spectrum"):
        search("padre", "meddea", "l0", descriptor="photons")
    with pytest.raises(ValueError, match=r"stop .* is before start"):
        search("hermes", start="2025-06-02", stop="2025-06-01")


@pytest.mark.integration
def test_update_adds_versions_idempotently(soc_store):
    fs, _ = soc_store
    when = DAY + timedelta(hours=30)
    key = key_for(parse_filename(_name("eea", "l1", when, version="1.0.1")))
    fs.pipe_file(f"hermes-eea/{key}", b"reprocessed")
    first = update(
        "hermes-eea", [f"s3://hermes-eea/{key}", "l1/unknown/2025/06/02/gone.cdf"], progress=False
    )
    assert first.generation
    assert first.missing == ["l1/unknown/2025/06/02/gone.cdf"]
    again = update("hermes-eea", [key], progress=False)
    assert again.generation is None  # nothing new: nothing written
    clear_cache()
    hour = {"start": when, "stop": when + timedelta(minutes=1)}
    assert list(search("hermes", "eea", "l1", **hour)["version"]) == ["1.0.1"]
    history = search("hermes", "eea", "l1", version="all", **hour)
    assert list(history["version"]) == ["1.0.0", "1.0.1"]
    assert list(history["latest"]) == [False, True]
    assert len(search("hermes", "eea", "l1", version="1.0.0", **hour)) == 1
    # a day query still has one file per hour
    assert len(search("hermes", "eea", "l1", "2025-06-02", "2025-06-03")) == 24


@pytest.mark.integration
def test_update_removes_deleted_files_it_is_told_of(soc_store):
    fs, _ = soc_store
    when = DAY + timedelta(hours=40)
    hour = {"start": when, "stop": when + timedelta(minutes=1)}
    newer = key_for(parse_filename(_name("eea", "l1", when, version="2.0.0")))
    lone = key_for(parse_filename(_name("eea", "l2", when)))  # the only file of its dataset
    fs.pipe({f"hermes-eea/{newer}": b"v2", f"hermes-eea/{lone}": b"l2"})
    update("hermes-eea", [newer, lone], progress=False)
    clear_cache()
    assert list(search("hermes", "eea", "l1", **hour)["version"]) == ["2.0.0"]
    assert "hermes_eea_l2" in set(list_datasets("hermes", "eea")["dataset"])
    fs.invalidate_cache()
    assert fs.exists("hermes-eea/catalog/hermes_eea_l2_2025.csv")

    fs.rm([f"hermes-eea/{newer}", f"hermes-eea/{lone}"])  # the pipeline withdraws both
    report = update("hermes-eea", [f"s3://hermes-eea/{newer}", lone], progress=False)
    assert sorted(report.removed) == sorted([newer, lone])
    assert "2 indexed file(s) gone from the bucket, removed" in report.summary()
    assert "hermes_eea_l2" not in report.datasets
    clear_cache()
    found = search("hermes", "eea", "l1", version="all", **hour)
    assert list(found["version"]) == ["1.0.0"]  # the previous version is the newest again
    assert list(found["latest"]) == [True]
    assert "hermes_eea_l2" not in set(list_datasets("hermes", "eea")["dataset"])
    fs.invalidate_cache()
    assert not fs.exists("hermes-eea/catalog/hermes_eea_l2_2025.csv")  # CloudCatalog sees it too
    assert "hermes_eea_l2" not in fs.cat("hermes-eea/catalog.json").decode()
    assert update("hermes-eea", [newer, lone], progress=False).generation is None  # idempotent


@pytest.mark.integration
def test_update_lists_only_new_days(soc_store):
    fs, _ = soc_store
    new = DAY + timedelta(days=2, hours=1)
    key = key_for(parse_filename(_name("eea", "l1", new)))
    fs.pipe_file(f"hermes-eea/{key}", b"new day")
    old_key = "l1/unknown/2025/06/01/hermes_eea_l1_20250601T003000_v1.0.0.cdf"
    fs.pipe_file(f"hermes-eea/{old_key}", b"late arrival in an old folder")
    report = update("hermes-eea", progress=False)
    assert report.generation
    assert report.added < 30  # the folders of the last indexed day and newer, not the bucket
    clear_cache()
    found = search("hermes", "eea", "l1", start=new, stop=new + timedelta(hours=1))
    assert list(found["url"]) == [f"s3://hermes-eea/{key}"]
    late = old_key.rsplit("/", 1)[-1]
    assert late not in set(search("hermes", "eea", "l1", "2025-06-01", "2025-06-02")["filename"])
    update("hermes-eea", since="2025-06-01", progress=False)  # an explicit re-listing finds it
    clear_cache()
    assert late in set(search("hermes", "eea", "l1", "2025-06-01", "2025-06-02")["filename"])


@pytest.mark.integration
@pytest.mark.filterwarnings("ignore:The inplace keyword")  # inside cloudcatalog, with pandas 3
def test_cloudcatalog_reads_our_index(soc_store):
    import cloudcatalog

    endpoint = os.environ["AWS_ENDPOINT_URL_S3"]
    client = cloudcatalog.CloudCatalog("s3://padre-meddea", endpoint_url=endpoint)
    ids = dict(client.get_entries_id_title())
    assert "padre_meddea_l0_photon" in ids
    spec_time = re.compile(
        r"\d{4}-\d{2}-\d{2}T\d{2}(:\d{2}(:\d{2}(\.\d+)?)?)?Z"
    )  # spec 1.1, sec. 5
    for entry in client.get_entries_dict():
        assert re.fullmatch(r"[a-zA-Z0-9_-]+", entry["id"])
        assert entry["index"] == "s3://padre-meddea/catalog/"
        for field in ("start", "stop", "modification"):
            assert spec_time.fullmatch(entry[field]), entry[field]
        assert entry["indextype"] == "csv"
        assert entry["filetype"] in ("fits", "binary")
    theirs = client.request_cloud_catalog(
        "padre_meddea_l0_photon", "2025-06-01T00:30:00Z", "2025-06-01T12:30:00Z"
    )
    ours = search(
        dataset="padre_meddea_l0_photon", start="2025-06-01T00:30", stop="2025-06-01T12:30"
    )
    assert list(theirs["datakey"]) == list(ours["url"])
    assert list(theirs["filesize"]) == list(ours["filesize"])
    assert list(theirs.columns[:9]) == [
        "start",
        "stop",
        "datakey",
        "filesize",
        "version",
        "level",
        "descriptor",
        "mode",
        "etag",
    ]
    # across a year boundary, with the years split into two index files
    daily = client.request_cloud_catalog(
        "padre_meddea_l1", "2024-12-30T00:00Z", "2025-01-02T00:00Z"
    )
    assert len(daily) == 3


@pytest.mark.integration
def test_search_reads_any_cloudcatalog_bucket(soc_store):
    fs, _ = soc_store
    fs.mkdir("helio-public")
    catalog = {
        "version": "1.0",
        "catalog": [
            {
                "id": "euvml",
                "index": "s3://helio-public/euvml/",
                "title": "EUV-ML dataset",
                "start": "2009-01-01T00:00Z",
                "stop": "2011-12-31T00:00Z",
            }
        ],
        "status": {"code": 1200, "message": "OK"},
    }
    fs.pipe_file("helio-public/catalog.json", json.dumps(catalog).encode())
    fs.pipe_file(  # the spec's own example: '#' header, quoted values; one bad row
        "helio-public/euvml/euvml_2010.csv",
        b"# start, stop, datakey, filesize\n"
        b"'2010-05-08T12:05:30.000Z','2010-05-08T12:06:14.000Z','s3://helio-public/euvml/a.fts','246000'\n"
        b"'2010-05-08T12:06:15.000Z','2010-05-08T12:10:29.000Z','s3://helio-public/euvml/b.fts','246000'\n"
        b"'2010-05-08T12:10:30.000Z','garbage','s3://helio-public/euvml/c.fts','246000'\n",
    )
    fs.pipe_file(
        "helio-public/euvml/euvml_2011.csv",
        b"start,stop,datakey,filesize\n2011-01-01T00:00:00Z,2011-01-01T01:00:00Z,s3://helio-public/euvml/d.fts,1\n",
    )
    with pytest.warns(
        IndexFormatWarning, match=r"euvml_2010\.csv: skipped 1 malformed row\(s\) at line\(s\) 4"
    ):
        found = search(bucket="helio-public", start="2010-05-08T12:06", stop="2010-05-08T12:20")
    assert list(found["filename"]) == ["a.fts", "b.fts"]
    assert set(found["dataset"]) == {"euvml"}
    # 2009 has no index file: said, not silently empty
    with pytest.warns(
        CatalogWarning, match=r"euvml_2009\.csv: no CloudCatalog index file for 2009"
    ):
        search(bucket="helio-public", dataset="euvml", start="2009-06-01", stop="2011-06-01")


@pytest.mark.integration
def test_search_falls_back_to_our_cloudcatalog_csv(soc_store, tmp_path, monkeypatch):
    fs, _ = soc_store
    span = {"start": "2025-06-01T03:00", "stop": "2025-06-01T09:00", "descriptor": "photon"}
    fast = search("padre", "meddea", "l0", **span)
    monkeypatch.setenv("SOC_WORKSPACE__CATALOG__URL", f"s3://soc-workspace-scratch/{tmp_path.name}")
    fs.makedirs("soc-workspace-scratch", exist_ok=True)
    clear_cache()
    build("padre-meddea", progress=False)
    fs.rm(f"soc-workspace-scratch/{tmp_path.name}/padre-meddea/catalog/manifest.json")
    clear_cache()
    slow = search("padre", "meddea", "l0", **span)  # through catalog.json and the CSV files
    assert list(slow["url"]) == list(fast["url"])
    assert list(slow["stop"]) == list(fast["stop"])
    clear_cache()


@pytest.mark.integration
def test_damaged_index_is_a_clear_error(soc_store, tmp_path, monkeypatch):
    fs, _ = soc_store
    monkeypatch.setenv("SOC_WORKSPACE__CATALOG__URL", f"s3://soc-workspace-scratch/{tmp_path.name}")
    fs.makedirs("soc-workspace-scratch", exist_ok=True)
    clear_cache()
    build("padre-meddea", progress=False)  # an index of the SOC bucket, kept in scratch
    root = f"soc-workspace-scratch/{tmp_path.name}/padre-meddea"
    assert fs.exists(f"{root}/catalog.json")
    assert not fs.exists(f"{root}/l0")
    manifest = json.loads(fs.cat(f"{root}/catalog/manifest.json"))
    year = manifest["datasets"]["padre_meddea_l1"]["years"]["2024"]["parquet"]
    fs.pipe_file(f"{root}/{year}", b"not parquet")
    clear_cache(disk=True)
    with pytest.raises(
        CatalogError, match=r"padre_meddea_l1_2024-.*\.parquet is not a readable parquet"
    ):
        search("padre", "meddea", "l1", "2024-12-31", "2025-01-01")
    fs.rm(f"{root}/{year}")
    clear_cache(disk=True)
    with pytest.raises(CatalogError, match=r"names .*padre_meddea_l1_2024-.*cannot be read"):
        search("padre", "meddea", "l1", "2024-12-31", "2025-01-01")
    clear_cache(disk=True)


@pytest.mark.integration
def test_publishing_is_atomic_for_readers(soc_store, tmp_path, monkeypatch):
    """New year files first, then the manifest (conditionally), then the CloudCatalog files
    made from it, catalog.json last; the previous generation's files stay readable."""
    fs, _ = soc_store
    monkeypatch.setenv(
        "SOC_WORKSPACE__CATALOG__URL", f"s3://soc-workspace-scratch/atomic-{tmp_path.name}"
    )
    fs.makedirs("soc-workspace-scratch", exist_ok=True)
    build("hermes-eea", progress=False)
    location = locate("hermes-eea")
    before = json.loads(location.fs.cat(location.path("catalog/manifest.json")))
    old_files = {y["parquet"] for e in before["datasets"].values() for y in e["years"].values()}
    written: list[str] = []
    put, replace = IndexWriter.put, IndexWriter.replace

    def recording_put(self, relative, data):
        written.append(relative)
        return put(self, relative, data)

    def recording_replace(self, relative, data, token):
        written.append(relative)
        return replace(self, relative, data, token)

    monkeypatch.setattr(IndexWriter, "put", recording_put)
    monkeypatch.setattr(IndexWriter, "replace", recording_replace)
    key = key_for(parse_filename(_name("eea", "l1", DAY + timedelta(hours=3), version="2.0.0")))
    fs.pipe_file(f"hermes-eea/{key}", b"v2")
    update("hermes-eea", [key], progress=False)
    manifest_at = written.index("catalog/manifest.json")
    assert all(i < manifest_at for i, w in enumerate(written) if w.endswith(".parquet"))
    assert all(i > manifest_at for i, w in enumerate(written) if w.endswith(".csv"))
    assert any(w.endswith(".csv") for w in written)
    assert written[-1] == "catalog.json"
    for path in old_files:  # a reader holding the previous manifest can still read it
        assert location.fs.exists(location.path(path))


@pytest.mark.integration
def test_warm_searches_trust_the_index_for_max_age(soc_store, monkeypatch):
    fs, _ = soc_store
    monkeypatch.setenv("SOC_WORKSPACE__CATALOG__MAX_AGE", "3600")
    clear_cache()
    span = ("2025-06-01T13:00", "2025-06-01T13:01")
    before = search("hermes", "eea", "l1", *span, version="all")
    key = key_for(parse_filename(_name("eea", "l1", DAY + timedelta(hours=13), version="1.5.0")))
    fs.pipe_file(f"hermes-eea/{key}", b"newer")
    update("hermes-eea", [key], progress=False)
    assert len(search("hermes", "eea", "l1", *span, version="all")) == len(before)  # cached
    monkeypatch.setenv("SOC_WORKSPACE__CATALOG__MAX_AGE", "0")
    assert len(search("hermes", "eea", "l1", *span, version="all")) == len(before) + 1


@pytest.mark.integration
def test_cli_search_build_and_datasets(soc_store):
    runner = CliRunner()
    result = runner.invoke(
        cli,
        [
            "catalog",
            "search",
            "-m",
            "padre",
            "-i",
            "meddea",
            "-l",
            "l0",
            "-d",
            "spectrum",
            "--start",
            "2025-06-01T00:00",
            "--stop",
            "2025-06-01T06:00",
        ],
        env={"COLUMNS": "200"},
    )
    assert result.exit_code == 0, result.output
    assert "padre_meddea_l0_spectrum_20250601T040000_v1.0.0.fits" in result.output
    assert "3 file(s) of padre_meddea_l0_spectrum" in result.output
    urls = runner.invoke(
        cli, ["catalog", "search", "--dataset", "padre_meddea_l1", "--format", "urls"]
    )
    assert urls.output.split() == [
        f"s3://padre-meddea/l1/unknown/{d[:4]}/{d[4:6]}/{d[6:]}/padre_meddea_l1_{d}T120000_v1.0.0.fits"
        for d in ("20241230", "20241231", "20250101")
    ]
    listing = runner.invoke(cli, ["catalog", "datasets", "-m", "hermes"])
    assert "hermes_eea_l1" in listing.output
    again = runner.invoke(cli, ["catalog", "build", "-b", "padre-meddea", "-q"])
    assert again.exit_code == 0
    assert "already up to date" in again.output
    help_text = runner.invoke(cli, ["catalog", "build", "--help"]).output
    assert "--operator" in help_text


def test_search_of_unindexed_buckets_says_so(embedded_store, monkeypatch):
    for name, value in embedded_store.environment().items():
        monkeypatch.setenv(name, value)
    clear_cache()
    fs = s3fs.S3FileSystem(**embedded_store.storage_options(), skip_instance_cache=True)
    fs.mkdir("dev-hermes-merit")
    fs.pipe_file(
        "dev-hermes-merit/l1/unknown/2025/06/01/hermes_mrt_l1_20250601T000000_v1.0.0.cdf", b"x"
    )
    with pytest.raises(
        CatalogError,
        match=r"dev-hermes-merit has no index.*catalog build --bucket dev-hermes-merit",
    ):
        search("hermes", "merit", stage="dev")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert search("hermes", stage="dev").empty
    assert any("dev-hermes-merit" in str(w.message) for w in caught)
    clear_cache()


# -- demo data: the acceptance test -------------------------------------------------------------

DEMO_DAY = datetime(2025, 6, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def demo_dev(soc_store):
    """One day of real demo data in the dev buckets of the module's store, indexed."""
    from soc_workspace.demo import write_demo_data

    fs, _ = soc_store
    report = write_demo_data(days=1, start=DEMO_DAY.date(), stage="dev", progress=False)
    runner = CliRunner()
    result = runner.invoke(
        cli, ["catalog", "build", "-m", "hermes", "-m", "padre", "--stage", "dev", "-q"]
    )
    assert result.exit_code == 0, result.output
    clear_cache()
    return fs, report


def _newest_of_the_day(objects, day: datetime) -> set[str]:
    """The store's objects of one day, newest version of each file (from the demo report)."""
    newest: dict[tuple, tuple] = {}
    for bucket, key, _size in objects:
        info = parse_key(key).file
        if not day <= info.time < day + timedelta(days=1):
            continue
        identity = (bucket, dataset_for(parse_key(key)).id, info.time)
        version = tuple(int(p) for p in re.findall(r"\d+", info.version or "0"))
        if identity not in newest or version > newest[identity][0]:
            newest[identity] = (version, f"s3://{bucket}/{key}")
    return {url for _, url in newest.values()}


@pytest.mark.integration
def test_demo_day_is_exactly_its_newest_files(demo_dev):
    fs, report = demo_dev
    listed = set()  # what the store really holds (the test lists; searches do not)
    for bucket in {b for b, _, _ in report.objects}:
        for path, info in fs.find(bucket, detail=True).items():
            key = path.split("/", 1)[1]
            if not key.startswith("catalog"):
                listed.add((bucket, key, info["size"]))
    assert listed == set(report.objects)
    expected = _newest_of_the_day(listed, DEMO_DAY)
    found = search(start=DEMO_DAY, stop=DEMO_DAY + timedelta(days=1), stage="dev")
    assert set(found["url"]) == expected
    with pytest.warns(FutureWarning, match=r"search\(env=\.\.\.\) is now search\(stage="):
        old_spelling = search(start=DEMO_DAY, stop=DEMO_DAY + timedelta(days=1), env="dev")
    pd.testing.assert_frame_equal(old_spelling, found)
    assert len(found) == len(expected)  # each file once
    assert found["latest"].all()
    reprocessed = found[found["version"] == "1.0.1"]
    assert len(reprocessed) >= 2  # the demo's reprocessed hours, found in their newest version
    history = search(
        "hermes",
        "merit",
        "l1",
        DEMO_DAY + timedelta(hours=2),
        DEMO_DAY + timedelta(hours=3),
        version="all",
        stage="dev",
    )
    assert list(history["version"]) == ["1.0.0", "1.0.1"]
    # the day before and the day after hold nothing
    assert search(start=DEMO_DAY - timedelta(days=1), stop=DEMO_DAY, stage="dev").empty
    assert set(
        search(
            "padre",
            "meddea",
            "l0",
            DEMO_DAY + timedelta(hours=5),
            DEMO_DAY + timedelta(hours=7),
            stage="dev",
        )["start"].dt.hour
    ) == {4, 6}


@pytest.mark.integration
@pytest.mark.parametrize(
    ("mission", "instrument", "level", "start", "stop"),
    [
        ("hermes", "merit", "l1", "2025-06-01T02:00", "2025-06-01T04:00"),  # reprocessed hours
        ("hermes", "eea", "l1", "2025-06-01T00:30", "2025-06-01T01:30"),  # inside a file
        ("hermes", "nemisis", "l1", "2025-05-31T23:00", "2025-06-01T00:00:01"),  # its edge
        ("padre", "meddea", "l0", "2025-06-01T05:00", "2025-06-01T07:00"),  # three datasets
        ("padre", "meddea", "l1", "2025-06-01T00:00", "2025-06-01T01:00"),  # daily, one each
        ("hermes", "eea", "l0", "2025-06-01T00:00", "2025-06-02T00:00"),  # the first level
    ],
)
def test_a_listing_finds_what_the_index_finds(demo_dev, mission, instrument, level, start, stop):
    """The explicit listing (reruns of a bucket not indexed yet) chooses files by the same
    rule as the index: overlapping [start, stop), newest versions, in the same order."""
    from soc_workspace.catalog.listing import search_by_listing

    indexed = search(mission, instrument, level, start, stop, stage="dev")
    listed = search_by_listing(mission, instrument, level, start, stop, stage="dev")
    assert len(indexed) > 0
    assert listed["url"].tolist() == indexed["url"].tolist()
    pd.testing.assert_frame_equal(
        listed.drop(columns=["etag"]), indexed.drop(columns=["etag"]), check_dtype=False
    )


@pytest.mark.integration
def test_committed_catalogs_cover_the_demo_datasets(demo_dev):
    import intake

    folder = PROJECT_ROOT / "catalogs"
    files = {p.name: p for p in folder.glob("*.yaml")}
    top = intake.from_yaml_file(str(files["soc.yaml"]))
    assert {f"{m}.yaml" for m in top} | {"soc.yaml"} == set(files)  # nothing unreachable
    entries = {name for m in top for name in top[m].read()}
    products = list_datasets(stage="dev")
    products = products[products["filetype"].isin(["cdf", "fits"])]
    assert entries == set(products["dataset"])
    reader = top["hermes"].read()["hermes_merit_l1"]
    assert reader.kwargs["dataset"] == "hermes_merit_l1"


@pytest.mark.integration
def test_intake_catalogs_read_real_files(soc_store, tmp_path):
    import intake

    from soc_workspace.catalog.intake import write_catalogs

    written = {p.name for p in write_catalogs(tmp_path)}
    assert {"soc.yaml", "hermes.yaml", "padre.yaml"} <= written
    top = intake.from_yaml_file(str(tmp_path / "soc.yaml"))
    padre = top["padre"].read()
    assert "padre_meddea_l0_photon" in list(padre)
    assert "padre_meddea_raw_photon" not in list(padre)  # telemetry: no reader of ours
    entry = padre.entries["padre_meddea_l0_photon"]
    assert set(entry.user_parameters) == {"start", "stop", "stage", "version"}
    # one spelling of each argument, as search() spells them
    assert set(entry.kwargs) == {"dataset", "start", "stop", "stage", "version"}
    # the real photon file of shared/data, read through the catalog and our reader
    data = padre["padre_meddea_l0_photon"].read(start="2024-09-16", stop="2024-09-17")
    assert data.sizes
    assert any(data.data_vars)


@pytest.mark.integration
def test_committed_catalogs_load_and_read_demo_data(demo_dev):
    import intake

    folder = PROJECT_ROOT / "catalogs"
    files = {p.name: p for p in folder.glob("*.yaml")}
    assert {"soc.yaml", "hermes.yaml", "padre.yaml"} <= set(files)
    top = intake.from_yaml_file(str(files["soc.yaml"]))
    assert {f"{m}.yaml" for m in top} | {"soc.yaml"} == set(files)  # nothing unreachable
    begin, end = DEMO_DAY, DEMO_DAY + timedelta(hours=2)
    read = 0
    for mission in top:
        cat = top[mission].read()
        assert list(cat) == list(intake.from_yaml_file(str(files[f"{mission}.yaml"])))
        for name in cat:
            data = cat[name].read(start=str(begin), stop=str(end), stage="dev")
            time_dim = next(d for d in data.dims if str(data[d].dtype).startswith("datetime64"))
            times = data[time_dim].values
            assert len(times), name
            assert begin.replace(tzinfo=None) <= pd.Timestamp(times[0]) < end.replace(tzinfo=None)
            read += 1
    assert read >= 10
    # the old name of stage still works, and warns
    with pytest.warns(FutureWarning, match=r"read\(env=\.\.\.\) is now read\(stage="):
        old = (
            top["hermes"].read()["hermes_merit_l1"].read(start=str(begin), stop=str(end), env="dev")
        )
    assert old.sizes


@pytest.mark.integration
def test_open_catalog_files_reads_what_a_search_found(demo_dev):
    import numpy as np

    from soc_workspace import open_catalog_files, open_dataset

    begin, end = DEMO_DAY + timedelta(hours=2), DEMO_DAY + timedelta(hours=3, minutes=30)
    found = search("hermes", "merit", "l1", begin, end, stage="dev")
    assert list(found["version"]) == ["1.0.1", "1.0.1"]  # the reprocessed hours, newest only
    whole = open_catalog_files(found)
    singles = [open_dataset(url) for url in found["url"]]
    time_dim = next(d for d in whole.dims if np.issubdtype(whole[d].dtype, np.datetime64))
    assert whole.sizes[time_dim] == sum(s.sizes[time_dim] for s in singles)
    trimmed = open_catalog_files(
        mission="hermes", instrument="merit", level="l1", start=begin, stop=end, stage="dev"
    )
    times = pd.DatetimeIndex(trimmed[time_dim].values)
    assert times.min() >= begin.replace(tzinfo=None)
    assert times.max() < end.replace(tzinfo=None)
    every = pd.DatetimeIndex(whole[time_dim].values)
    inside = (every >= begin.replace(tzinfo=None)) & (every < end.replace(tzinfo=None))
    assert trimmed.sizes[time_dim] == inside.sum() > 0  # [start, stop): stop excluded
    with pytest.raises(ValueError, match=r"3 datasets \(padre_meddea_l0_housekeeping"):
        open_catalog_files(search("padre", "meddea", "l0", begin, end, stage="dev"))
    with pytest.raises(ValueError, match="no files found"):
        open_catalog_files(mission="hermes", instrument="merit", start="2030-01-01", stage="dev")
