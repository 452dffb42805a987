"""Demo data: names and layout, ISTP and FITS structure checked against the real SOC files,
raw packets read with ccsdspy, determinism, the store path and the command line."""

from __future__ import annotations

import time
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import ccsdspy
import ccsdspy.utils
import cdflib
import numpy as np
import pytest
import s3fs
from astropy.io import fits
from cdflib.xarray import cdf_to_xarray
from click.testing import CliRunner
from conftest import serve_store

from soc_workspace.demo import RemoteStoreError, generate_files, write_demo_data
from soc_workspace.demo.cli import demo_data
from soc_workspace.demo.hermes import CADENCE_SECONDS, EEA_APID
from soc_workspace.missions import bucket_for, key_for, parse_filename, parse_key
from soc_workspace.store import is_loopback

START = date(2025, 6, 1)
DAY = datetime(2025, 6, 1, tzinfo=UTC)
PACKET_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
SHORT = {"eea": "eea", "nemisis": "nem", "merit": "mrt", "spani": "spn"}
REAL_CDF = {
    "eea": "hermes/eea/l1/hermes_eea_l1_20000101T170901_v1.0.0.cdf",
    "nemisis": "hermes/nemisis/l1/hermes_nem_default_l1_20160322T123031_v0.0.1.cdf",
}
PRODUCTS = ("photon", "spectrum", "housekeeping")


@pytest.fixture(scope="module")
def tree(tmp_path_factory) -> Path:
    """One day of everything, as a local tree <bucket>/<key>."""
    out = tmp_path_factory.mktemp("demo")
    generate_files(out, days=1, start=START, seed=0, progress=False)
    return out


def files(tree: Path, pattern: str) -> list[Path]:
    return sorted(tree.glob(f"*/**/{pattern}"))


def cdf_path(tree: Path, instrument: str, hour: int, version: str = "1.0.0") -> Path:
    name = f"hermes_{SHORT[instrument]}_l1_20250601T{hour:02d}0000_v{version}.cdf"
    return tree / f"hermes-{instrument}" / "l1/unknown/2025/06/01" / name


# -- names and layout --------------------------------------------------------------------------


def test_every_file_sits_where_its_name_says(tree):
    paths = [p for p in tree.rglob("*") if p.is_file()]
    assert len(paths) == 24 * 5 + 2 * 5 + 75  # HERMES hours, reprocessed, PADRE
    for path in paths:
        bucket, key = path.relative_to(tree).parts[0], "/".join(path.relative_to(tree).parts[1:])
        info = parse_filename(path.name)
        assert bucket_for(info.mission, info.instrument, "prod") == bucket
        assert key_for(info) == key
        parsed = parse_key(key)
        assert parsed.layout == "current"
        assert parsed.file.time.date() == date(2025, 6, 1)


def test_files_of_a_day(tree):
    names = Counter()
    for path in tree.rglob("*.*"):
        info = parse_filename(path.name)
        names[(info.instrument, info.level, info.descriptor, info.version)] += 1
    for instrument in ("nemisis", "merit", "spani"):
        assert names[(instrument, "l1", None, "1.0.0")] == 24
        assert names[(instrument, "l1", None, "1.0.1")] == 2  # hours 02 and 03 reprocessed
    assert names[("eea", "l1", None, "1.0.0")] == 24
    assert names[("eea", "l0", None, "0")] == 24
    assert names[("eea", "l0", None, "1")] == 2
    for product in PRODUCTS:
        assert names[("meddea", "raw", product, None)] == 12
        assert names[("meddea", "l0", product, "1.0.0")] == 12
        assert names[("meddea", "l1", product, "1.0.0")] == 1
    assert cdf_path(tree, "eea", 0).is_file()  # named by the first record: the top of the hour
    assert (tree / "hermes-eea/l0/2025/06/01/hermes_EEA_l0_2025152-000000_v0.bin").is_file()


# -- HERMES CDF against the real files ---------------------------------------------------------


def _attribute_names(path: Path) -> tuple[set[str], dict[str, set[str]]]:
    cdf = cdflib.CDF(path)
    variables = {v: set(cdf.varattsget(v)) for v in cdf.cdf_info().zVariables}
    return set(cdf.globalattsget()), variables


@pytest.mark.parametrize("instrument", ["eea", "nemisis", "merit", "spani"])
def test_hermes_cdf_opens_like_the_real_one(tree, shared_data, instrument):
    ours = cdf_path(tree, instrument, 5)
    real_files = [shared_data / REAL_CDF[instrument]] if instrument in REAL_CDF else [
        shared_data / p for p in REAL_CDF.values()
    ]  # fmt: skip
    our_global, our_vars = _attribute_names(ours)
    our_var_attrs = set().union(*our_vars.values())
    cdf = cdflib.CDF(ours)
    kinds = {cdf.varattsget(v)["VAR_TYPE"] for v in our_vars}
    assert kinds == {"data", "support_data", "metadata"}
    epoch = cdf.varinq("Epoch")
    assert epoch.Data_Type_Description == "CDF_TIME_TT2000"
    assert epoch.Rec_Vary
    for name in our_vars:
        attrs = cdf.varattsget(name)
        if attrs["VAR_TYPE"] == "data":
            assert cdf.varinq(name).Rec_Vary, name
            assert attrs["DEPEND_0"] == "Epoch", name
    assert "Synthetic_data" in our_global
    # Instruments without a real sample are held to what both real files have in common.
    real_global = set.intersection(*(_attribute_names(p)[0] for p in real_files))
    real_var_attrs = set.intersection(
        *(set().union(*_attribute_names(p)[1].values()) for p in real_files)
    )
    assert real_global <= our_global, real_global - our_global
    missing = real_var_attrs - our_var_attrs
    assert not missing, f"the real files have variable attributes ours lacks: {missing}"
    for real in real_files:
        real_cdf = cdflib.CDF(real)
        assert set(real_cdf.varattsget("Epoch")) <= set(cdf.varattsget("Epoch"))
        assert real_cdf.varinq("Epoch").Data_Type_Description == epoch.Data_Type_Description
    # cdflib's ISTP reader turns the support data into coordinates
    ds = cdf_to_xarray(str(ours), to_datetime=True, fillval_to_nan=True)
    assert ds.sizes["Epoch"] == cdf.varinq("Epoch").Last_Rec + 1
    if instrument == "eea":
        assert ds["hermes_eea_accum"].dims == (
            "Epoch", "hermes_eea_energy", "hermes_eea_elevation", "hermes_eea_azimuth",
        )  # fmt: skip
        assert ds["hermes_eea_accum"].attrs["UNITS"] == "counts"
        assert 1.0e6 < ours.stat().st_size < 1.7e6


def _istp_files(tree: Path) -> list[Path]:
    return files(tree, "hermes_*_l1_*.cdf")


def test_istp_pointers_name_variables_of_the_right_size(tree):
    checked = Counter()
    for path in _istp_files(tree)[::5]:
        cdf = cdflib.CDF(path)
        names = set(cdf.cdf_info().zVariables)
        for name in names:
            attrs = cdf.varattsget(name)
            dims = cdf.varinq(name).Dim_Sizes
            for key, target in attrs.items():
                if key.startswith(("DEPEND_", "LABL_PTR_")):
                    assert target in names, f"{path.name}: {name}.{key} -> {target}"
                    n = int(key.rsplit("_", 1)[1])
                    if n >= 1:
                        size = cdf.varinq(target)
                        length = size.Dim_Sizes[0] if size.Dim_Sizes else size.Num_Elements
                        assert length == dims[n - 1], f"{path.name}: {name}.{key}"
                        checked[key[:5]] += 1
                        if key.startswith("LABL"):
                            assert cdf.varattsget(target)["VAR_TYPE"] == "metadata"
                        else:
                            assert cdf.varattsget(target)["VAR_TYPE"] == "support_data"
            for required in ("CATDESC", "FIELDNAM", "VAR_TYPE"):
                assert required in attrs, f"{path.name}: {name} lacks {required}"
    assert checked["DEPEN"] > 0
    assert checked["LABL_"] > 0
    labels = cdflib.CDF(cdf_path(tree, "nemisis", 0)).varget("hermes_nem_b_gse_label")
    assert [str(s).strip() for s in labels] == ["Bx GSE", "By GSE", "Bz GSE"]


@pytest.mark.parametrize("instrument", ["eea", "nemisis", "merit", "spani"])
def test_fill_values_gaps_and_times(tree, instrument):
    cadence = CADENCE_SECONDS[instrument] * 1_000_000_000
    fills = gaps = 0
    for hour in range(24):
        path = cdf_path(tree, instrument, hour)
        cdf = cdflib.CDF(path)
        epoch = cdf.varget("Epoch")
        start = cdflib.cdfepoch.compute_tt2000([2025, 6, 1, hour, 0, 0, 0, 0, 0])
        assert epoch[0] == start  # the record the file is named by
        assert np.all(np.diff(epoch) > 0)
        assert epoch[-1] < start + 3600 * 10**9
        assert np.all(np.diff(epoch) % cadence == 0)
        gaps += int(np.any(np.diff(epoch) > cadence))
        for name in cdf.cdf_info().zVariables:
            attrs = cdf.varattsget(name)
            if attrs["VAR_TYPE"] != "data" or name == "Epoch":
                continue
            values = cdf.varget(name)
            is_fill = values == attrs["FILLVAL"]
            fills += int(is_fill.any())
            valid = values[~is_fill]
            assert valid.min() >= attrs["VALIDMIN"], name
            assert valid.max() <= attrs["VALIDMAX"], name
    assert fills > 0, f"no fill values in any {instrument} file"
    assert gaps > 0, f"no data gap in any {instrument} file"


def test_reprocessed_version_recovers_the_fill_records(tree):
    found = 0
    for instrument in ("eea", "nemisis", "merit", "spani"):
        for hour in (2, 3):
            old = cdflib.CDF(cdf_path(tree, instrument, hour, "1.0.0"))
            new = cdflib.CDF(cdf_path(tree, instrument, hour, "1.0.1"))
            assert np.array_equal(old.varget("Epoch"), new.varget("Epoch"))
            assert new.globalattsget()["Data_version"] == ["1.0.1"]
            for name in new.cdf_info().zVariables:
                attrs = new.varattsget(name)
                if attrs["VAR_TYPE"] == "data" and name != "Epoch":
                    assert not np.any(new.varget(name) == attrs["FILLVAL"])
                    found += int(np.any(old.varget(name) == attrs["FILLVAL"]))
    assert found > 0  # some v1.0.0 had fill to recover


# -- HERMES EEA level 0 ------------------------------------------------------------------------


def test_eea_l0_packets_hold_the_l1_counts(tree):
    l0 = tree / "hermes-eea/l0/2025/06/01/hermes_EEA_l0_2025152-050000_v0.bin"
    l1 = cdflib.CDF(cdf_path(tree, "eea", 5))
    headers = ccsdspy.utils.read_primary_headers(str(l0))
    n = len(l1.varget("Epoch"))
    assert len(headers["CCSDS_APID"]) == n
    assert set(headers["CCSDS_APID"]) == {EEA_APID}
    assert set(headers["CCSDS_SECONDARY_FLAG"]) == {1}
    assert set(headers["CCSDS_SEQUENCE_FLAG"]) == {3}
    assert set(headers["CCSDS_VERSION_NUMBER"]) == {0}
    # the payload layout the docstrings state, decoded by ccsdspy
    packet = ccsdspy.FixedLength(
        [
            ccsdspy.PacketField(name="seconds", data_type="uint", bit_length=32),
            ccsdspy.PacketField(name="ticks", data_type="uint", bit_length=32),
            ccsdspy.PacketArray(
                name="accum", data_type="uint", bit_length=16, array_shape=(41, 4, 32)
            ),
            ccsdspy.PacketField(name="checksum", data_type="uint", bit_length=16),
        ]
    )
    decoded = packet.load(str(l0))
    accum = l1.varget("hermes_eea_accum")
    ok = ~np.all(accum == 65535, axis=(1, 2, 3))  # fill records hold the raw counts in l0
    assert np.array_equal(decoded["accum"][ok], accum[ok])
    times = [PACKET_EPOCH + timedelta(seconds=int(s)) for s in decoded["seconds"][:2]]
    # packet seconds count the 5 leap seconds since 2000 that a naive datetime does not
    assert times[0] == datetime(2025, 6, 1, 5, tzinfo=UTC) + timedelta(seconds=5)


# -- PADRE MeDDEA FITS against the real files ---------------------------------------------------


def _structure(path: Path) -> list[tuple]:
    with fits.open(path) as hdul:
        out = []
        for hdu in hdul:
            columns = None
            if isinstance(hdu, fits.BinTableHDU):
                columns = [(c.name, c.format, c.bzero) for c in hdu.columns]
            out.append((hdu.name, type(hdu).__name__, columns))
        return out


@pytest.mark.parametrize("product", PRODUCTS)
@pytest.mark.parametrize("level", ["l0", "l1"])
def test_meddea_fits_has_the_real_structure(tree, shared_data, product, level):
    (real,) = (shared_data / "padre/meddea/l0").glob(f"padre_meddea_l0_{product}_*_v1.0.0.fits")
    ours = files(tree, f"padre_meddea_{level}_{product}_*.fits")[0]
    assert _structure(ours) == _structure(real)
    with fits.open(real) as r, fits.open(ours) as o:
        ignore = {"CHECKSUM", "DATASUM"}
        assert set(r[0].header) - ignore <= set(o[0].header)
        assert o[0].header["LEVEL"] == level
        assert "CHECKSUM" not in o[0].header  # its comment would carry the wall clock
        assert o[0].header["DATE"] == "2025-06-01"
        assert o[0].header["FILENAME"] == ours.name
        assert o[0].header["DATATAGS"] == "synthetic"
        if product == "spectrum":
            assert o[1].data.shape[1:] == r[1].data.shape[1:] == (24, 512)
            assert o[1].data.dtype == r[1].data.dtype
    if product == "spectrum":
        with (
            fits.open(real, disable_image_compression=True) as r,
            fits.open(ours, disable_image_compression=True) as o,
        ):
            for key in ("ZCMPTYPE", "ZNAME1", "ZVAL1", "ZTILE1", "ZTILE2"):
                assert o["SPEC"].header[key] == r["SPEC"].header[key], key
            # astropy >= 7 leaves out ZQUANTIZ for NO_DITHER, the standard's default
            assert o["SPEC"].header.get("ZQUANTIZ", "NO_DITHER") == r["SPEC"].header["ZQUANTIZ"]


def _time(seconds, ticks=0, clocks=0):
    return (
        np.datetime64("2000-01-01T00:00:00")
        + np.asarray(seconds, dtype="int64").astype("timedelta64[s]")
        + (np.asarray(ticks, dtype="int64") * 50).astype("timedelta64[ns]")
        + (np.asarray(clocks, dtype="int64") * 12800).astype("timedelta64[ns]")
    ) - np.timedelta64(5, "s")  # leap seconds 2005-2016: pkttimes count SI seconds


@pytest.mark.parametrize("product", PRODUCTS)
def test_meddea_raw_and_l0_agree(tree, product):
    code = {"photon": "MDA0", "spectrum": "MDA2", "housekeeping": "MDU8"}[product]
    apid = {"photon": 0xA0, "spectrum": 0xA2, "housekeeping": 0xA3}[product]
    raws = files(tree, f"PADRE{code}_*.DAT")
    l0s = files(tree, f"padre_meddea_l0_{product}_*.fits")
    assert len(raws) == len(l0s) == 12
    for raw, l0 in zip(raws[::4], l0s[::4], strict=True):
        assert parse_filename(raw.name).time == parse_filename(l0.name).time
        headers = ccsdspy.utils.read_primary_headers(str(raw))
        assert set(headers["CCSDS_APID"]) == {apid}
        with fits.open(l0) as hdul:
            table = hdul["HK" if product == "housekeeping" else "PKT"].data
            assert len(table) == len(headers["CCSDS_APID"])
            assert np.array_equal(table["seqcount"], headers["CCSDS_SEQUENCE_COUNT"])
            ticks = table["pktclock"] if "pktclock" in table.names else 0
            times = _time(table["pkttimes"], ticks)
            start = np.datetime64(parse_filename(l0.name).time.replace(tzinfo=None))
            assert times[0] - start < np.timedelta64(1, "s")
            assert np.all(np.diff(times) > np.timedelta64(0))
            assert np.all(times < start + np.timedelta64(2, "h"))
            if product == "photon":
                sci = hdul["SCI"].data
                assert len(sci) == table["num_hits"].sum()
                assert np.array_equal(table["pktlength"], headers["CCSDS_PACKET_LENGTH"])
                hits = _time(sci["pkttimes"], sci["pktclock"], sci["clocks"])
                assert np.all(np.diff(hits) >= np.timedelta64(0))
                assert sci["atod"].max() <= 4095
            if product == "housekeeping":
                assert table["checksum"].any()


def test_meddea_day_has_a_flare_with_a_power_law(tree):
    with fits.open(files(tree, "padre_meddea_l1_photon_*.fits")[0]) as hdul:
        pkt = hdul["PKT"].data
        hours = (pkt["pkttimes"] - pkt["pkttimes"][0]) // 3600
        per_hour = np.bincount(hours, weights=pkt["num_hits"])
        assert per_hour.max() > 10 * np.median(per_hour)
    with fits.open(files(tree, "padre_meddea_l1_spectrum_*.fits")[0]) as hdul:
        spec = hdul["SPEC"].data
        assert spec.shape[0] == 144  # every 10 min
        flare = spec[np.argmax(spec.sum(axis=(1, 2)))].sum(axis=0)
        # ~40 ADC/keV, 8 ADC a bin: 10 keV ~ bin 65, 20 keV ~ bin 115
        assert flare[60:70].sum() > 5 * flare[110:120].sum() > 0
    with fits.open(files(tree, "padre_meddea_l1_housekeeping_*.fits")[0]) as hdul:
        hk = hdul["HK"].data
        assert len(hk) == 24 * 720
        assert hk["hit_rate"].max() > 20 * np.median(hk["hit_rate"])
        assert 0 < np.ptp(hk["fp_temp"]) < 1000  # drifts with the orbit


def test_l1_concatenates_the_days_l0(tree):
    for product in PRODUCTS:
        l0s = files(tree, f"padre_meddea_l0_{product}_*.fits")
        (l1,) = files(tree, f"padre_meddea_l1_{product}_*.fits")
        assert parse_filename(l1.name).time == parse_filename(l0s[0].name).time
        name = "HK" if product == "housekeeping" else "PKT"
        with fits.open(l1) as hdul:
            rows = len(hdul[name].data)
            assert hdul[0].header["ORIGFILE"] == ", ".join(p.name for p in l0s)
        assert rows == sum(len(fits.getdata(p, name)) for p in l0s)


# -- determinism -------------------------------------------------------------------------------


def test_same_seed_same_bytes_other_seed_other_bytes(tree, tmp_path):
    time.sleep(1)  # gzip headers carry whole seconds: a wall-clock leak would show
    same = generate_files(
        tmp_path / "same", days=1, instruments=["nemisis", "meddea"], progress=False
    )
    other = generate_files(tmp_path / "other", seed=1, days=1, instruments=["nem"], progress=False)
    assert len(same) == 26 + 75
    for path in same:
        assert path.read_bytes() == (tree / path.relative_to(tmp_path / "same")).read_bytes()
    differ = sum(
        p.read_bytes() != (tmp_path / "same" / p.relative_to(tmp_path / "other")).read_bytes()
        for p in other
        if (tmp_path / "same" / p.relative_to(tmp_path / "other")).exists()
    )
    assert differ > 0.9 * len(other)


# -- the store ---------------------------------------------------------------------------------


def test_write_into_a_store_lists_what_it_wrote_and_catalogues_it(embedded_store):
    from soc_workspace.catalog import search

    options = embedded_store.storage_options()
    report = write_demo_data(options, days=1, instruments=["merit"], stage="dev", progress=False)
    assert report.files == 26
    assert report.bytes > 1e6
    assert report.seconds > 0
    fs = s3fs.S3FileSystem(**options, skip_instance_cache=True)
    listed = sorted(
        (path.split("/", 1)[0], path.split("/", 1)[1], info["size"])
        for path, info in fs.find("dev-hermes-merit", detail=True).items()
        if not path.split("/", 1)[1].startswith("catalog")
    )
    assert listed == report.objects
    assert report.buckets() == {"dev-hermes-merit": (26, report.bytes)}
    # One way to seed demo data, and it comes with its catalog
    assert report.catalogued == ["dev-hermes-merit"]
    found = search("hermes", "merit", "l1", stage="dev", storage_options=options, version="all")
    assert sorted(found["url"]) == sorted(f"s3://{b}/{k}" for b, k, _ in report.objects)


def test_write_without_the_catalog(embedded_store):
    options = embedded_store.storage_options()
    report = write_demo_data(
        options, days=1, instruments=["spani"], stage="dev", catalog=False, progress=False
    )
    fs = s3fs.S3FileSystem(**options, skip_instance_cache=True)
    assert report.catalogued == []
    assert not fs.exists("dev-hermes-spani/catalog.json")


def test_write_into_the_configured_store(store_env):
    report = write_demo_data(days=1, instruments=["spani"], stage="dev", progress=False)
    assert {b for b, _, _ in report.objects} == {"dev-hermes-spani"}
    assert report.target == store_env.endpoint_url


def test_the_old_name_of_stage_still_works_and_warns(store_env):
    with pytest.warns(FutureWarning, match=r"write_demo_data\(env=\.\.\.\) is now"):
        report = write_demo_data(
            days=1, instruments=["spani"], env="dev", catalog=False, progress=False
        )
    assert {b for b, _, _ in report.objects} == {"dev-hermes-spani"}


@pytest.mark.parametrize(
    "options",
    [{"endpoint_url": "http://192.0.2.10:9000"}, {}, {"endpoint_url": "https://s3.amazonaws.com"}],
)
def test_remote_stores_are_refused(options):
    with pytest.raises(RemoteStoreError, match=r"refusing.*127\.0\.0\.1.*allow_remote"):
        write_demo_data(options, days=1, instruments=["merit"], progress=False)


@pytest.mark.parametrize(
    ("url", "local"),
    [
        ("http://127.0.0.1:9000", True),
        ("http://127.5.0.1", True),
        ("http://localhost:9000", True),
        ("http://[::1]:9000", True),
        ("http://10.0.0.5:9000", False),
        ("http://192.0.2.10", False),
        ("", False),
    ],
)
def test_loopback(url, local):
    assert is_loopback(url) is local


def test_bad_selection_names_what_exists():
    with pytest.raises(ValueError, match=r"no demo data for instrument 'sharp'.*hermes eea"):
        generate_files("unused", instruments=["sharp"], progress=False)
    with pytest.raises(ValueError, match=r"no demo data for mission 'swxsoc_pipeline'"):
        generate_files("unused", missions=["swxsoc_pipeline"], progress=False)


# -- command line ------------------------------------------------------------------------------


def test_cli_writes_a_local_tree(tmp_path):
    result = CliRunner().invoke(
        demo_data,
        ["--days", "1", "--out", str(tmp_path), "--instrument", "nem", "--no-progress"],
    )
    assert result.exit_code == 0, result.output
    assert "26 files" in result.output
    assert "hermes-nemisis" in result.output
    assert len(list((tmp_path / "hermes-nemisis").rglob("*.cdf"))) == 26


def test_cli_writes_into_a_store(embedded_store, monkeypatch):
    for name, value in embedded_store.operator.environment().items():
        monkeypatch.setenv(name, value)  # demo data goes into pipeline buckets: the operator
    args = ["--days", "1", "--store", embedded_store.endpoint_url, "--no-progress"]
    args += ["-i", "merit", "--stage", "dev", "--start", "2025-07-01"]
    result = CliRunner().invoke(demo_data, args)
    assert result.exit_code == 0, result.output
    assert "dev-hermes-merit: 26 files" in result.output  # 24 hours + 2 reprocessed
    assert "catalog built for 1 bucket(s)" in result.output
    fs = s3fs.S3FileSystem(**embedded_store.storage_options(), skip_instance_cache=True)
    key = "l1/unknown/2025/07/01/hermes_mrt_l1_20250701T000000_v1.0.0.cdf"
    assert fs.exists(f"dev-hermes-merit/{key}")
    assert fs.exists("dev-hermes-merit/catalog.json")


def test_cli_takes_the_old_env_flag_with_a_warning(embedded_store, monkeypatch):
    for name, value in embedded_store.operator.environment().items():
        monkeypatch.setenv(name, value)
    args = ["--days", "1", "--store", embedded_store.endpoint_url, "--no-progress"]
    args += ["-i", "nemisis", "--env", "dev", "--no-catalog", "--start", "2025-07-01"]
    with pytest.warns(FutureWarning, match="--env is now --stage"):
        result = CliRunner().invoke(demo_data, args)
    assert result.exit_code == 0, result.output
    assert "dev-hermes-nemisis: 26 files" in result.output


def test_cli_refuses_a_remote_store(capsys):
    from soc_workspace.cli import main

    with pytest.raises(SystemExit) as exit_:
        main(["demo-data", "--store", "http://192.0.2.10:9", "--no-progress"])
    assert exit_.value.code == 1
    err = capsys.readouterr().err
    assert "refusing to write demo data" in err
    assert "--allow-remote-store" in err


@pytest.mark.integration
@pytest.mark.slow
def test_demo_data_fills_the_embedded_stores_folder_with_its_catalog(tmp_path):
    """Without a running store, `demo-data` fills the embedded store's folder (data and
    catalog), which `store serve` then serves: the one way to seed demo data."""
    import os
    import subprocess
    import sys

    from soc_workspace.catalog import search

    state = tmp_path / "state"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "SOC_WORKSPACE"))}
    env["SOC_WORKSPACE__EMBEDDED_STORE__STATE_DIR"] = str(state)
    command = [sys.executable, "-m", "soc_workspace", "demo-data", "--days", "1"]
    command += ["-i", "merit", "--no-progress"]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "hermes-merit: 26 files" in done.stdout
    assert "catalog built for 1 bucket(s)" in done.stdout
    assert (state / "objects" / "hermes-merit" / "catalog.json").is_file()

    proc, info = serve_store(state)
    try:
        found = search("hermes", "merit", "l1", storage_options=info)
        assert len(found) == 24  # the newest version of each hour
    finally:
        proc.terminate()
        proc.communicate(timeout=30)
