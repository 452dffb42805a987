"""The mission registry: file names, buckets and keys."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from conftest import shared_files
from hypothesis import given
from hypothesis import strategies as st

from soc_workspace.missions import (
    MISSIONS,
    FileInfo,
    bucket_for,
    bucket_of,
    get_mission,
    is_pipeline_bucket,
    key_for,
    make_filename,
    parse_bucket,
    parse_filename,
    parse_key,
)

# -- every real file parses to what its folder says ------------------------------------------


@pytest.mark.parametrize("path", shared_files(), ids=lambda p: p.name)
def test_real_files_parse_to_their_folder(path):
    mission, instrument, level = path.parts[-4:-1]
    info = parse_filename(path.name)
    assert (info.mission, info.instrument, info.level) == (mission, instrument, level)
    assert info.time.tzinfo is UTC


def test_real_files_are_present(shared_data):
    # Guards the parametrised test above against silently running on nothing.
    assert len(shared_files()) >= 12


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (
            "hermes_EEA_l0_2023042-000000_v0.bin",
            dict(
                mission="hermes",
                instrument="eea",
                level="l0",
                version="0",
                time=datetime(2023, 2, 11, tzinfo=UTC),
                extension="bin",
            ),
        ),
        (
            "hermes_MERIT_VC_l0_2025215-124603_v21.bin",
            dict(
                instrument="merit",
                level="l0",
                mode="VC",
                time=datetime(2025, 8, 3, 12, 46, 3, tzinfo=UTC),
            ),
        ),
        (
            "hermes_NEM_l0_2024094-124603_v01.bin",
            dict(instrument="nemisis", level="l0", version="01"),
        ),
        (
            "PADREMDA0_240916122901.DAT",
            dict(
                mission="padre",
                instrument="meddea",
                level="raw",
                descriptor="photon",
                time=datetime(2024, 9, 16, 12, 29, 1, tzinfo=UTC),
                extension="dat",
            ),
        ),
        (
            "padreMDA2_240916122851.dat",
            dict(instrument="meddea", level="raw", descriptor="spectrum"),
        ),
        (
            "PADREMDU8_240916122904.DAT",
            dict(instrument="meddea", level="raw", descriptor="housekeeping"),
        ),
        (
            "PADRESP13_250331134058.DAT",
            dict(
                mission="padre",
                instrument="sharp",
                level="raw",
                time=datetime(2025, 3, 31, 13, 40, 58, tzinfo=UTC),
            ),
        ),
        (
            "padre_get_EPS_9_Data_1762008094193_1762187403300.csv",
            dict(
                mission="padre",
                instrument="craft",
                level="raw",
                descriptor="EPS_9",
                time=datetime(2025, 11, 1, 14, 41, 34, 193000, tzinfo=UTC),
            ),
        ),
        (
            "REACH-ALL_20251205T060517_20251205T060517.csv",
            dict(
                mission="swxsoc_pipeline",
                instrument="reach",
                level="raw",
                mode="all",
                time=datetime(2025, 12, 5, 6, 5, 17, tzinfo=UTC),
                extension="csv",
            ),
        ),
        (
            "REACH-ALL_20251201T013010_20251205T060517.json",
            dict(instrument="reach", level="raw", extension="json"),
        ),
        (
            "swxsoc_pipeline_reach_all_l1c_20251201T000000_v2.0.0.cdf",
            dict(
                mission="swxsoc_pipeline",
                instrument="reach",
                level="l1c",
                mode="all",
                version="2.0.0",
                descriptor=None,
            ),
        ),
        (
            "hermes_nem_burst_qltest_spec_20240406T120621_v1.2.3.cdf",
            dict(
                instrument="nemisis",
                level="ql",
                mode="burst",
                test=True,
                descriptor="spec",
                version="1.2.3",
            ),
        ),
        (
            "padre_meddea_l0_photon_20240916T122901_v1.0.0.fits",
            dict(mission="padre", level="l0", descriptor="photon", mode=None, test=False),
        ),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_parse_known_names(name, expected):
    info = parse_filename(name)
    for field, value in expected.items():
        assert getattr(info, field) == value, field


@pytest.mark.parametrize(
    ("name", "complaint"),
    [
        ("hermes_eea_l1_20240406T120621_v1.0.cdf", "X.Y.Z"),
        ("hermes_www_l1_20240406T120621_v1.0.0.cdf", "unknown instrument short name 'www'"),
        ("hermes_eea_l9_20240406T120621_v1.0.0.cdf", "no data level"),
        ("hermes_eea_l1_20240406_120621_v1.0.0.cdf", "hermes"),
        ("hermes_eea_l1_20241306T120621_v1.0.0.cdf", "YYYYMMDDThhmmss"),
        ("hermes_eea_l1_20240406T120621_v1.0.0.fits", "end in .cdf"),
        ("padre_meddea_l0_photon_20240916T122901_v1.0.0.cdf", "end in .fits"),
        ("veeger_spn_l1_20240406T120621_v1.0.0.cdf", "not a SWxSOC file name"),
        ("PADREMDA0_2409161229.DAT", "not a SWxSOC file name"),
        ("notes.txt", "not a SWxSOC file name"),
        ("hermes_eea_a_b_c_d_20240406T120621_v1.0.0.cdf", "expected"),
        # raw names whose time strptime refuses ("unconverted data remains: 9" before)
        ("hermes_EEA_l0_2024999-000000_v0.bin", "its time '2024999-000000' is not a valid"),
        ("PADREMDA0_241399122901.DAT", "its time '241399122901' is not a valid"),
    ],
)
def test_bad_names_say_which_file_and_why(name, complaint):
    with pytest.raises(ValueError, match=r"valid|SWxSOC") as err:
        parse_filename(name)
    assert name in str(err.value)
    assert complaint in str(err.value)


# -- making names ----------------------------------------------------------------------------


def test_make_filename_from_fields():
    name = make_filename(
        mission="hermes",
        instrument="nemisis",
        level="ql",
        time=datetime(2024, 4, 6, 12, 6, 21),
        version="1.2.3",
        mode="burst",
        descriptor="spec",
        test=True,
    )
    assert name == "hermes_nem_burst_qltest_spec_20240406T120621_v1.2.3.cdf"


@pytest.mark.parametrize(
    ("fields", "complaint"),
    [
        (dict(instrument="xyz"), "unknown instrument"),
        (dict(level="l7"), "not a level of hermes"),
        (dict(version="1.0"), "X.Y.Z"),
        (dict(version="1.a.0"), "X.Y.Z"),
        (dict(mode="a_b"), "no '_'"),
        (dict(descriptor="x_y"), "no '_'"),
        (dict(mission="voyager"), "unknown mission"),
    ],
)
def test_make_filename_rejects_bad_fields(fields, complaint):
    base = dict(
        mission="hermes",
        instrument="eea",
        level="l1",
        time=datetime(2024, 1, 1, tzinfo=UTC),
        version="1.0.0",
    )
    with pytest.raises(ValueError, match=complaint):
        make_filename(**{**base, **fields})


def test_make_filename_converts_aware_times_to_utc():
    from datetime import timedelta, timezone

    t = datetime(2024, 1, 1, 2, 0, 0, tzinfo=timezone(timedelta(hours=2)))
    assert "20240101T000000" in make_filename(
        mission="padre", instrument="meddea", level="l1", time=t, version="1.0.0"
    )


@pytest.mark.parametrize("path", shared_files("*_v*.*.*.*"), ids=lambda p: p.name)
def test_real_product_names_round_trip(path):
    assert make_filename(parse_filename(path.name)) == path.name


_missions = st.sampled_from(sorted(MISSIONS))
_part = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=8)


@st.composite
def product_infos(
    draw, mission: str | None = None, levels_left_out: tuple[str, ...] = ()
) -> FileInfo:
    """Standard product names' fields, of any mission or of ``mission``."""
    m = get_mission(mission or draw(_missions))
    # a mode that looks like a level would be read as the level, by swxsoc and by us
    mode = draw(st.none() | _part.filter(lambda s: not any(s.startswith(lv) for lv in m.levels)))
    return FileInfo(
        mission=m.name,
        instrument=draw(st.sampled_from(m.instruments)).name,
        level=draw(st.sampled_from([lv for lv in m.levels if lv not in levels_left_out])),
        time=draw(
            st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2099, 12, 31))
        ).replace(microsecond=0, tzinfo=UTC),
        version=".".join(str(draw(st.integers(0, 999))) for _ in range(3)),
        descriptor=draw(st.none() | _part),
        mode=mode,
        test=draw(st.booleans()),
        extension=m.extension,
    )


@given(product_infos())
def test_round_trip_fields_name_fields(info):
    name = make_filename(info)
    parsed = parse_filename(name)
    assert parsed == FileInfo(**{**info.__dict__, "name": name})
    assert make_filename(parsed) == name


# -- buckets and keys ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mission", "instrument", "stage", "bucket"),
    [
        ("hermes", "eea", "prod", "hermes-eea"),
        ("hermes", "nem", "dev", "dev-hermes-nemisis"),
        ("padre", "meddea", "prod", "padre-meddea"),
        ("swxsoc_pipeline", "reach", "prod", "swxsoc-pipeline-reach"),
        ("swxsoc_pipeline", "reach", "dev", "dev-swxsoc-pipeline-reach"),
    ],
)
def test_buckets(mission, instrument, stage, bucket):
    assert bucket_for(mission, instrument, stage) == bucket
    parsed = parse_bucket(bucket)
    assert (parsed.mission, parsed.stage) == (mission, stage)
    assert is_pipeline_bucket(bucket)
    assert bucket_of(f"s3://{bucket}/l1/x.cdf") == bucket_of(f"{bucket}/l1") == bucket


def test_other_buckets_are_not_pipeline_buckets():
    assert not is_pipeline_bucket("soc-workspace-scratch")
    assert not is_pipeline_bucket("hermes-eea-copy")


def test_unknown_bucket_lists_the_valid_ones():
    with pytest.raises(ValueError, match=r"hermes-eea.*padre-meddea"):
        parse_bucket("hermes-xyz")
    with pytest.raises(ValueError, match="'prod', 'dev'"):
        bucket_for("hermes", "eea", "staging")


@pytest.mark.parametrize(
    ("name", "key"),
    [
        (
            "hermes_EEA_l0_2023042-000000_v0.bin",
            "l0/2023/02/11/hermes_EEA_l0_2023042-000000_v0.bin",
        ),
        (
            "hermes_eea_l1_20240406T120621_v1.0.0.cdf",
            "l1/unknown/2024/04/06/hermes_eea_l1_20240406T120621_v1.0.0.cdf",
        ),
        (
            "hermes_nem_default_l1_20160322T123031_v0.0.1.cdf",
            "l1/unknown/2016/03/22/hermes_nem_default_l1_20160322T123031_v0.0.1.cdf",
        ),
        (
            "hermes_nem_burst_qltest_spec_20240406T120621_v1.2.3.cdf",
            "ql/spectrum/2024/04/06/hermes_nem_burst_qltest_spec_20240406T120621_v1.2.3.cdf",
        ),
        (
            "padre_meddea_l1_hk_20240406T120621_v1.2.3.fits",
            "l1/housekeeping/2024/04/06/padre_meddea_l1_hk_20240406T120621_v1.2.3.fits",
        ),
        ("padreMDA0_240916122901.dat", "raw/2024/09/16/padreMDA0_240916122901.dat"),
        (
            "padre_meddea_l0_photon_20240916T122901_v1.0.0.fits",
            "l0/photon/2024/09/16/padre_meddea_l0_photon_20240916T122901_v1.0.0.fits",
        ),
        (
            "REACH-ALL_20251205T060517_20251205T060517.csv",
            "raw/2025/12/05/REACH-ALL_20251205T060517_20251205T060517.csv",
        ),
    ],
)
def test_keys_current_layout(name, key):
    info = parse_filename(name)
    assert key_for(info) == key
    parsed = parse_key(key)
    assert parsed.layout == "current"
    assert parsed.file == info


@pytest.mark.parametrize(
    "key",
    [
        "l1/2024/04/hermes_eea_l1_20240406T120621_v1.0.0.cdf",
        "l0/2024/04/hermes_EEA_l0_2024094-124603_v01.bin",
        "l1/housekeeping/2024/04/hermes_eea_l1_20240406T120621_v1.2.3.cdf",
        "raw/2024/09/padreMDA0_240916122901.dat",
    ],
)
def test_keys_legacy_layout(key):
    parsed = parse_key(key)
    assert parsed.layout == "legacy"
    assert parsed.file.name == key.rsplit("/", 1)[-1]


@pytest.mark.parametrize(
    ("key", "complaint"),
    [
        ("hermes_eea_l1_20240406T120621_v1.0.0.cdf", "does not follow the SOC layout"),
        ("l1/unknown/24/04/06/hermes_eea_l1_20240406T120621_v1.0.0.cdf", "does not follow"),
        ("l2/unknown/2024/04/06/hermes_eea_l1_20240406T120621_v1.0.0.cdf", "under level 'l2'"),
        ("l1/unknown/2024/05/06/hermes_eea_l1_20240406T120621_v1.0.0.cdf", "dated 2024/05/06"),
        ("l1/unknown/2024/04/06/not-a-soc-file.txt", "not a SWxSOC file name"),
    ],
)
def test_bad_keys(key, complaint):
    with pytest.raises(ValueError, match=complaint):
        parse_key(key)


@given(product_infos())
def test_key_round_trip(info):
    key = key_for(info)
    assert parse_key(key).file == FileInfo(**{**info.__dict__, "name": make_filename(info)})


def test_calibration_packages():
    assert get_mission("hermes").package_for("eea") == "hermes_eea"
    assert get_mission("padre").package_for("mda") == "padre_meddea"
    assert get_mission("swxsoc_pipeline").package_for("reach") == "swxsoc_reach"
