"""REACH (mission ``swxsoc_pipeline``) and PADRE spacecraft names: parsed, keyed and catalogued
as the SOC's pipeline makes them.

The expectations come from the SOC's own code, not from us: swxsoc's main branch
(``swxsoc/util/tests/test_util.py`` at 77391f8: ``test_parse_swxsoc_pipeline_science_files``
and ``test_parse_padre_science_files``) and the processing function's tests
(``sdc_aws_processing_lambda``'s ``test_file_calibrate``: ``REACH-ALL_..._....json`` ->
``reach_all_l1c_prelim_...cdf``). The PyPI swxsoc (0.2.3) that the test group installs has no
``swxsoc_pipeline`` mission, so its parser is run live only when the installed swxsoc knows
the mission; otherwise that one test skips and says why, and the table below stands for it.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from soc_workspace.catalog.datasets import StoredObject, group_objects
from soc_workspace.missions import (
    archive_key_for,
    bucket_for,
    key_for,
    make_filename,
    parse_filename,
    parse_key,
)

# swxsoc main: name -> (instrument, time, level, version, mode, descriptor)
SWXSOC_MAIN_REACH = {
    "swxsoc_pipeline_reach_all_l1c_20251201T000000_v2.0.0.cdf":
        ("reach", "2025-12-01T00:00:00", "l1c", "2.0.0", "all", None),
    "REACH-ALL_20251205T060517_20251205T060517.csv":
        ("reach", "2025-12-05T06:05:17", "raw", None, None, None),
    "REACH-ALL_20251201T013010_20251205T060517.json":
        ("reach", "2025-12-01T01:30:10", "raw", None, None, None),
}  # fmt: skip
# the processing function's tests: raw input -> the L1c product it makes (day of the start)
PIPELINE_PRODUCTS = {
    raw: f"reach_all_l1c_prelim_{day}T000000_v1.0.0.cdf"
    for raw, day in [
        ("REACH-ALL_20251201T013010_20251205T060517.json", "20251201"),
        ("REACH-ALL_20250901T000000_20250902T000000.csv", "20250901"),
        ("REACH-TEST_20250904T000000_20250904T010000.csv", "20250904"),
    ]
}
REAL_PRODUCT = "reach_all_l1c_prelim_20250904T000000_v1.0.0.cdf"


def test_reach_product_name_fields():
    info = parse_filename(REAL_PRODUCT)
    assert (info.mission, info.instrument, info.level) == ("swxsoc_pipeline", "reach", "l1c")
    assert (info.mode, info.descriptor, info.version) == ("all", "prelim", "1.0.0")
    assert info.time == datetime(2025, 9, 4, tzinfo=UTC)
    assert make_filename(info) == REAL_PRODUCT
    one = parse_filename("reach_136_l1c_prelim_20190501T000000_v1.0.0.cdf")
    assert one.mode == "136"


@pytest.mark.parametrize("name", sorted(SWXSOC_MAIN_REACH))
def test_reach_names_as_swxsoc_main_parses_them(name):
    instrument, time, level, version, mode, descriptor = SWXSOC_MAIN_REACH[name]
    info = parse_filename(name)
    assert info.mission == "swxsoc_pipeline"
    assert info.instrument == instrument
    assert info.time == datetime.fromisoformat(time).replace(tzinfo=UTC)
    assert info.level == level
    assert info.version == version
    assert info.descriptor == descriptor
    if level != "raw":
        assert info.mode == mode
    # raw REACH names: swxsoc says no mode; we keep the "ALL"/"TEST" part as the mode
    # (lower case), which names the dataset the catalog files them under.


@pytest.mark.parametrize("raw", sorted(PIPELINE_PRODUCTS))
def test_raw_reach_download_names_the_product_the_pipeline_makes(raw):
    info = parse_filename(raw)
    day = info.time.replace(hour=0, minute=0, second=0)
    product = make_filename(mission=info.mission, instrument="reach", level="l1c", time=day,
                            version="1.0.0", mode="all", descriptor="prelim")  # fmt: skip
    assert product == PIPELINE_PRODUCTS[raw]


def test_reach_keys_buckets_and_archive_paths():
    info = parse_filename(REAL_PRODUCT)
    assert bucket_for(info.mission, info.instrument) == "swxsoc-pipeline-reach"
    key = key_for(info)
    assert key == f"l1c/prelim/2025/09/04/{REAL_PRODUCT}"
    assert parse_key(key).file == info
    archive = archive_key_for(info)
    assert archive == f"reach/dosimeter/l1c/all_satellites/prelim/2025/{REAL_PRODUCT}"
    parsed = parse_key(archive)
    assert (parsed.layout, parsed.file, parsed.descriptor_path) == ("archive", info, "prelim")
    single = parse_filename("reach_136_l1c_prelim_20190501T000000_v1.0.0.cdf")
    assert archive_key_for(single) == (
        "reach/dosimeter/l1c/vid-136_nc/2019/reach_136_l1c_prelim_20190501T000000_v1.0.0.cdf"
    )
    assert parse_key(archive_key_for(single)).file == single


def test_reach_products_are_catalogued():
    objects = [
        StoredObject(key_for(parse_filename(n)), 1000, "etag", None)
        for n in [REAL_PRODUCT, "reach_all_l1c_prelim_20250905T000000_v1.0.0.cdf",
                  "reach_all_l1c_prelim_20250905T000000_v1.0.1.cdf"]
    ]  # fmt: skip
    objects.append(StoredObject("raw/2025/12/01/REACH-ALL_20251201T013010_20251205T060517.json",
                                10, "e", None))  # fmt: skip
    datasets, rows, skipped = group_objects("swxsoc-pipeline-reach", objects)
    assert skipped == []
    assert sorted(datasets) == [
        "swxsoc_pipeline_reach_l1c_prelim_all",
        "swxsoc_pipeline_reach_raw_all",
    ]
    assert len(rows["swxsoc_pipeline_reach_l1c_prelim_all"]) == 3


def test_padre_craft_tables_parse_as_swxsoc_main_does():
    # swxsoc main's test_parse_padre_science_files
    for name, time in [
        ("padre_get_EPS_9_Data_1762008094193_1762187403300.csv", "2025-11-01T14:41:34.193"),
        ("padre_get_EPS2_BP_INST0_CHARGER_XP_Data_1762019652327_1762198944391.csv",
         "2025-11-01T17:54:12.327"),
    ]:  # fmt: skip
        info = parse_filename(name)
        assert (info.mission, info.instrument, info.level) == ("padre", "craft", "raw")
        assert info.time == datetime.fromisoformat(time).replace(tzinfo=UTC)


def test_swxsoc_itself_when_it_knows_the_mission(monkeypatch):
    swxsoc = pytest.importorskip("swxsoc")
    import importlib.resources

    from swxsoc.util import util

    config = importlib.resources.files("swxsoc").joinpath("data/config.yml").read_text()
    if "swxsoc_pipeline" not in config:
        pytest.skip(
            f"the installed swxsoc {swxsoc.__version__} has no swxsoc_pipeline mission (it is "
            "on swxsoc's main branch only); the table SWXSOC_MAIN_REACH holds main's results"
        )
    monkeypatch.setenv("SWXSOC_MISSION", "swxsoc_pipeline")
    swxsoc._reconfigure()
    for name in [*SWXSOC_MAIN_REACH, REAL_PRODUCT]:
        theirs = util.parse_science_filename(name)
        ours = parse_filename(name)
        assert theirs["instrument"] == ours.instrument
        assert theirs["level"] == ours.level
        assert theirs["version"] == ours.version
