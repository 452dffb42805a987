"""Our file-name parser against swxsoc's own, on the same names, field by field.

swxsoc (the SOC's package, from PyPI) handles one mission per process, chosen by
SWXSOC_MISSION; we switch it between the missions it supports.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_missions import product_infos

from soc_workspace.missions import make_filename, parse_filename

swxsoc = pytest.importorskip("swxsoc")
from swxsoc.util import util as swxsoc_util  # noqa: E402

# Missions of swxsoc 0.2.3 (REACH, "swxsoc_pipeline", only exists on its main branch).
SWXSOC_MISSIONS = ("hermes", "padre")

STANDARD_NAMES = {
    "hermes": [
        "hermes_eea_l1_20240406T120621_v1.0.0.cdf",
        "hermes_eea_l1_20000101T170901_v1.0.0.cdf",
        "hermes_eea_ql_20240406T120621_v0.0.1.cdf",
        "hermes_eea_l2_20251231T235959_v2.10.3.cdf",
        "hermes_eea_l3_20260101T000000_v10.0.0.cdf",
        "hermes_eea_l1test_20240406T120621_v1.0.0.cdf",
        "hermes_eea_burst_l1_20240406T120621_v1.0.0.cdf",
        "hermes_eea_l1_moments_20240406T120621_v1.0.0.cdf",
        "hermes_eea_burst_l2test_moments_20240406T120621_v1.0.0.cdf",
        "hermes_nem_default_l1_20160322T123031_v0.0.1.cdf",
        "hermes_nem_l1_20240406T120621_v1.0.0.cdf",
        "hermes_nem_burst_qltest_spec_20240406T120621_v1.2.3.cdf",
        "hermes_nem_2s_l3test_burst_20240406T120621_v2.4.5.cdf",
        "hermes_nem_l2_hk_20240101T000000_v1.0.0.cdf",
        "hermes_mrt_l1_20240406T120621_v1.0.0.cdf",
        "hermes_mrt_fast_ql_20240406T120621_v1.0.0.cdf",
        "hermes_mrt_l1test_spec_20240406T120621_v1.0.1.cdf",
        "hermes_mrt_survey_l2_flux_20241130T081500_v3.2.1.cdf",
        "hermes_spn_l1_20240406T120621_v1.0.0.cdf",
        "hermes_spn_2s_l3test_burst_20240406T120621_v2.4.5.cdf",
        "hermes_spn_l0test_20240406T120621_v0.0.0.cdf",
        "hermes_spn_hires_l2_dist_20250615T120000_v1.1.1.cdf",
    ],
    "padre": [
        "padre_meddea_l0_photon_20240916T122901_v1.0.0.fits",
        "padre_meddea_l0_spectrum_20240916T122851_v1.0.0.fits",
        "padre_meddea_l0_housekeeping_20240916T122904_v1.0.0.fits",
        "padre_meddea_l0test_photon_20250504T055311_v0.1.0.fits",
        "padre_meddea_l0test_spectrum_20250504T070411_v0.1.0.fits",
        "padre_meddea_l0test_housekeeping_20250504T055138_v0.1.0.fits",
        "padre_meddea_l1_photon_20240916T000000_v1.0.0.fits",
        "padre_meddea_l1_spec_20240916T000000_v1.0.0.fits",
        "padre_meddea_ql_hk_20240916T000000_v1.0.0.fits",
        "padre_meddea_l2_20240916T000000_v1.0.0.fits",
        "padre_sharp_ql_20230430T000000_v0.0.1.fits",
        "padre_sharp_l1_20250101T010203_v1.0.0.fits",
        "padre_sharp_burst_l1_pol_20250101T010203_v1.0.0.fits",
        "padre_sharp_l0test_20250101T010203_v0.0.1.fits",
        "padre_craft_l1_20251101T000000_v1.0.0.fits",
        "padre_meddea_fast_l3_flux_20260501T120000_v4.5.6.fits",
    ],
}


@pytest.fixture
def swxsoc_mission(monkeypatch):
    """Select a swxsoc mission; restores swxsoc's configuration afterwards."""

    def select(mission: str) -> None:
        monkeypatch.setenv("SWXSOC_MISSION", mission)
        swxsoc._reconfigure()

    yield select
    os.environ.pop("SWXSOC_MISSION", None)
    swxsoc._reconfigure()


def theirs(name: str) -> dict:
    parsed = swxsoc_util.parse_science_filename(name)
    time = parsed["time"].to_datetime(timezone=UTC)
    return {
        "instrument": parsed["instrument"],
        "level": parsed["level"],
        "mode": parsed["mode"],
        "descriptor": parsed["descriptor"],
        "test": parsed["test"],
        "version": parsed["version"],
        "time": time,
    }


def ours(name: str) -> dict:
    info = parse_filename(name)
    fields = ("instrument", "level", "mode", "descriptor", "test", "version", "time")
    return {f: getattr(info, f) for f in fields}


def test_enough_names_are_cross_checked():
    assert sum(len(v) for v in STANDARD_NAMES.values()) >= 30


@pytest.mark.parametrize(
    ("mission", "name"), [(m, n) for m, names in STANDARD_NAMES.items() for n in names]
)
def test_standard_names_agree_with_swxsoc(swxsoc_mission, mission, name):
    swxsoc_mission(mission)
    assert ours(name) == theirs(name)
    assert make_filename(parse_filename(name)) == name


@pytest.mark.parametrize(
    ("mission", "name"),
    [
        ("hermes", "hermes_NEM_l0_2024094-124603_v01.bin"),
        ("hermes", "hermes_EEA_l0_2025337-124603_v11.bin"),
        ("hermes", "hermes_MERIT_VC_l0_2025215-124603_v21.bin"),
        ("hermes", "hermes_SPANI_VA_l0_2025215-124603_v21.bin"),
        ("hermes", "hermes_EEA_l0_2023042-000000_v0.bin"),
        ("padre", "padreMDA0_240107034739.dat"),
        ("padre", "padreMDU8_240107034739.dat"),
        ("padre", "padreSP11_250331134058.dat"),
        ("padre", "padreMDA2_240916122851.dat"),
    ],
)
def test_raw_names_agree_with_swxsoc_on_instrument_level_and_time(swxsoc_mission, mission, name):
    # swxsoc leaves version, mode and descriptor of raw files empty; we keep what the name says.
    swxsoc_mission(mission)
    theirs_ = theirs(name)
    ours_ = ours(name)
    for field in ("instrument", "level", "time"):
        assert ours_[field] == theirs_[field], field


@pytest.mark.parametrize("mission", SWXSOC_MISSIONS)
@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_generated_names_agree_with_swxsoc(swxsoc_mission, mission, data):
    # swxsoc tells mode from level by the first two letters, so a standard name at level "raw"
    # reads as mode "raw" there; raw data never has standard product names anyway.
    info = data.draw(product_infos(mission, levels_left_out=("raw",)))
    swxsoc_mission(mission)
    name = make_filename(info)
    assert ours(name) == theirs(name)


def test_swxsoc_agrees_on_a_known_time(swxsoc_mission):
    swxsoc_mission("hermes")
    assert theirs("hermes_eea_l1_20240406T120621_v1.0.0.cdf")["time"] == datetime(
        2024, 4, 6, 12, 6, 21, tzinfo=UTC
    )
