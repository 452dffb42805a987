"""The defects of issue 12, each on a file made for it (with cdflib's or pycdfpp's writer) or a
real one: every test here failed on the reader before the fix (f459a50)."""

from __future__ import annotations

import gzip
import warnings
import zlib
from pathlib import Path

import cdflib
import numpy as np
import pycdfpp
import pytest
from conftest import SHARED_DATA
from io_samples import copy_cdf, read_variables, write_cdf

import soc_workspace
from soc_workspace.io import SOCDataWarning

CORPUS = Path(__file__).parent / "data" / "cdf_corpus"
EEA = SHARED_DATA / "hermes/eea/l1/hermes_eea_l1_20000101T170901_v1.0.0.cdf"
SECOND = 1_000_000_000
T0 = int(cdflib.cdfepoch.compute_tt2000([2025, 9, 4, 0, 0, 0, 0, 0, 0]))


def reach_like(path: Path, encoding: int = 17, n: int = 5) -> Path:
    """Like REACH's L1c product: written on ARM (little-endian, encoding 17), 32 sensors
    labelled by INT4 ids and CHAR names, two dose channels labelled by CHAR names."""
    rng = np.random.default_rng(3)
    sensors = np.arange(101, 133, dtype=np.int32)
    variables = [
        {"name": "Epoch", "type": "CDF_TIME_TT2000", "data": T0 + np.arange(n) * 60 * SECOND,
         "attrs": {"VAR_TYPE": "support_data"}},
        {"name": "sensor_ids", "type": "CDF_INT4", "data": sensors, "rec_vary": False,
         "attrs": {"VAR_TYPE": "support_data", "FILLVAL": np.int32(-2147483648)}},
        {"name": "sensor_names", "type": "CDF_CHAR", "rec_vary": False,
         "data": np.array([f"REACH-{i}" for i in sensors]), "attrs": {"VAR_TYPE": "metadata"}},
        {"name": "dose_names", "type": "CDF_CHAR", "rec_vary": False,
         "data": np.array(["dose1", "dose2"]), "attrs": {"VAR_TYPE": "metadata"}},
        {"name": "dose_rate", "type": "CDF_REAL4",
         "data": rng.random((n, 32, 2)).astype(np.float32),
         "attrs": {"VAR_TYPE": "data", "DEPEND_0": "Epoch", "DEPEND_1": "sensor_ids",
                   "LABL_PTR_1": "sensor_names", "LABL_PTR_2": "dose_names",
                   "FILLVAL": np.float32(-1e31), "UNITS": "rad/s"}},
    ]  # fmt: skip
    for name in ("lat", "lon", "alt"):
        variables.append(
            {
                "name": name,
                "type": "CDF_REAL4",
                "data": rng.random((n, 32)).astype(np.float32),
                "attrs": {
                    "VAR_TYPE": "support_data",
                    "DEPEND_0": "Epoch",
                    "DEPEND_1": "sensor_ids",
                    "FILLVAL": np.float32(-1e31),
                },
            }
        )
    return write_cdf(path, variables, encoding=encoding)


@pytest.mark.parametrize("encoding", [17, 19, 18, 1])
def test_reach_like_arm_file_opens_with_labelled_sensors(tmp_path, encoding):
    path = reach_like(tmp_path / f"reach_all_l1c_prelim_20250904T000000_v1.0.{encoding}.cdf",
                      encoding)  # fmt: skip
    ds = soc_workspace.open_dataset(path)
    np.testing.assert_array_equal(ds["sensor_ids"].values, np.arange(101, 133))
    assert ds["dose_rate"].dims == ("Epoch", "sensor_ids", "dose_names")
    assert ds["lat"].dims == ("Epoch", "sensor_ids")
    assert str(ds["Epoch"].values[0]) == "2025-09-04T00:00:00.000000000"
    assert list(ds["dose_names"].values) == ["dose1", "dose2"]
    assert ds["sensor_names"].sel(sensor_ids=102).item() == "REACH-102"
    one = ds["dose_rate"].sel(sensor_ids=101, dose_names="dose2")
    if encoding != 18:  # cdflib reads ARM_BIG as little-endian; pycdfpp follows the spec
        raw = cdflib.CDF(str(path)).varget("dose_rate")
        np.testing.assert_array_equal(one.values, raw[:, 0, 1])
    np.testing.assert_array_equal(one.values, pycdfpp.load(str(path))["dose_rate"].values[:, 0, 1])


def test_integer_fill_values_are_missing_not_spikes(tmp_path):
    counts = np.array([10, 65535, 12, 65535, 14], np.uint16)
    path = write_cdf(tmp_path / "counts.cdf", [
        {"name": "Epoch", "type": "CDF_TIME_TT2000", "data": T0 + np.arange(5) * SECOND},
        {"name": "counts", "type": "CDF_UINT2", "data": counts,
         "attrs": {"DEPEND_0": "Epoch", "FILLVAL": np.uint16(65535), "VALIDMIN": np.uint16(0),
                   "VALIDMAX": np.uint16(13), "VAR_TYPE": "data"}},
    ])  # fmt: skip
    ds = soc_workspace.open_dataset(path)
    assert ds["counts"].dtype == np.float32
    assert float(ds["counts"].mean()) == 12.0  # not 26 221.2
    assert int(ds["counts"].isnull().sum()) == 2
    assert ds["counts"].attrs["VALIDMAX"] == 13  # a valid range stays an attribute ...
    assert float(ds["counts"].max()) == 14
    strict = soc_workspace.open_dataset(path, mask_invalid=True)  # ... unless asked
    assert float(strict["counts"].max()) == 12
    raw = soc_workspace.open_dataset(path, mask_fill=False)
    np.testing.assert_array_equal(raw["counts"].values, counts)
    assert raw["counts"].dtype == np.uint16


def _corrupt_gzip_block(path: Path, inflated_size: int) -> None:
    """Garble the middle of the GZIP stream (a compressed block of records) that inflates to
    ``inflated_size`` bytes: the file still opens, its records cannot be read."""
    data = bytearray(path.read_bytes())
    for start in (i for i in range(len(data) - 3) if data[i : i + 3] == b"\x1f\x8b\x08"):
        stream = zlib.decompressobj(31)
        if len(stream.decompress(bytes(data[start:]))) == inflated_size:
            end = len(data) - len(stream.unused_data)
            middle = (start + end) // 2
            data[middle : middle + 16] = bytes(16)
            path.write_bytes(bytes(data))
            return
    raise AssertionError(f"no GZIP stream of {inflated_size} bytes in {path}")


def test_a_file_corrupt_at_load_becomes_missing_records_with_skip(tmp_path, shared_data):
    files = [
        copy_cdf(EEA, tmp_path / f"hermes_eea_l1_20000101T{17 + i}0901_v1.0.0.cdf",
                 records=slice(6 * i, 6 * i + 6), shift_ns=i * 3600 * SECOND, compress=6)
        for i in range(3)
    ]  # fmt: skip
    _corrupt_gzip_block(files[1], 6 * 41 * 4 * 32 * 2)  # six records of hermes_eea_accum
    ds = soc_workspace.open_mfdataset(files, errors="skip")  # opens: the index is intact
    with pytest.warns(SOCDataWarning, match=rf"{files[1].name}.*cannot be read"):
        total = ds["hermes_eea_accum"].sum(dim=["Epoch"]).compute()  # finishes
    assert total.shape == (41, 4, 32)
    accum = ds["hermes_eea_accum"].values
    assert np.isnan(accum[6:12]).all()
    assert not np.isnan(accum[:6]).any()
    assert not np.isnan(accum[12:]).any()
    assert ds.attrs["unreadable_files"] == [str(files[1])]
    with pytest.raises(soc_workspace.SOCDataError, match=files[1].name):
        soc_workspace.open_mfdataset(files)["hermes_eea_accum"].values  # noqa: B018


def test_overlapping_files_keep_the_newest_records_once(tmp_path, shared_data):
    global_attrs, variables = read_variables(EEA)

    def cut(name, records, bump):
        out = []
        for var in variables:
            var = dict(var)
            if var["rec_vary"]:
                var["data"] = var["data"][records]
                if var["name"] == "hermes_eea_stats":
                    var["data"] = var["data"] + np.uint16(bump)
            out.append(var)
        return write_cdf(tmp_path / name, out, global_attrs=global_attrs)

    old = cut("hermes_eea_l1_20000101T170901_v1.0.0.cdf", slice(0, 9), 0)
    new = cut("hermes_eea_l1_20000101T171400_v1.0.1.cdf", slice(6, 12), 1000)
    with pytest.warns(SOCDataWarning, match="overlap") as caught:
        ds = soc_workspace.open_mfdataset([new, old])
    message = str(next(w.message for w in caught if "overlap" in str(w.message)))
    assert old.name in message
    assert new.name in message
    assert ds.sizes["Epoch"] == 12
    assert ds.indexes["Epoch"].is_unique
    assert ds.indexes["Epoch"].is_monotonic_increasing
    whole = soc_workspace.open_dataset(EEA, mask_fill=False)
    stats = ds["hermes_eea_stats"].values
    np.testing.assert_array_equal(stats[:6], whole["hermes_eea_stats"].values[:6])
    np.testing.assert_array_equal(stats[6:], whole["hermes_eea_stats"].values[6:12] + 1000)
    assert ds.attrs["overlapping_files"] == sorted([str(old), str(new)])


def test_leap_second_records_keep_a_monotonic_index(tmp_path):
    def tt(*fields):
        return cdflib.cdfepoch.compute_tt2000(list(fields))

    times = [tt(2016, 12, 31, 23, 59, 59, 500, 0, 0), tt(2016, 12, 31, 23, 59, 60, 700, 0, 0),
             tt(2017, 1, 1, 0, 0, 0, 500, 0, 0)]  # fmt: skip
    path = write_cdf(tmp_path / "leap.cdf", [
        {"name": "Epoch", "type": "CDF_TIME_TT2000", "data": np.array(times, np.int64)},
        {"name": "x", "type": "CDF_REAL8", "data": np.arange(3.0), "attrs": {"DEPEND_0": "Epoch"}},
    ])  # fmt: skip
    with pytest.warns(SOCDataWarning, match="leap second"):
        ds = soc_workspace.open_dataset(path)
    assert ds.indexes["Epoch"].is_monotonic_increasing
    assert str(ds["Epoch"].values[1]) == "2016-12-31T23:59:59.999999999"
    part = ds.sel(Epoch=slice("2016-12-31T23:59:59.9", "2017-01-01T00:00:01"))
    assert list(part["x"].values) == [1.0, 2.0]


def test_epoch16_truncates_picoseconds_like_the_references(tmp_path, monkeypatch):
    import datetime as dt

    monkeypatch.setenv("SPACEPY", str(tmp_path))
    from spacepy import pycdf  # the NASA CDF library: cdflib and pycdfpp cannot write EPOCH16

    path = tmp_path / "epoch16.cdf"
    with pycdf.CDF(str(path), "") as cdf:
        cdf.new("t", data=[dt.datetime(2015, 6, 30, 23, 59, 59)], type=pycdf.const.CDF_EPOCH16)
        raw = cdf.raw_var("t")
        raw[0] = [raw[0][0], 999_999_999_500.0]  # 23:59:59.999999999500
    ds = soc_workspace.open_dataset(path)
    assert str(ds["t"].values[0]) == "2015-06-30T23:59:59.999999999"
    np.testing.assert_array_equal(
        ds["t"].values, pycdfpp.to_datetime64(pycdfpp.load(str(path))["t"])
    )
    np.testing.assert_array_equal(
        ds["t"].values, cdflib.cdfepoch.to_datetime(cdflib.CDF(str(path)).varget("t"))
    )


def test_variables_never_written_have_no_records(tmp_path):
    from cdflib.cdfwrite import CDF as CDFWriter

    path = tmp_path / "never.cdf"
    writer = CDFWriter(str(path), cdf_spec={"Encoding": 6}, delete=True)
    writer.write_var({"Variable": "Epoch", "Data_Type": 33, "Num_Elements": 1, "Rec_Vary": True,
                      "Dim_Sizes": []}, var_data=T0 + np.arange(3) * SECOND)  # fmt: skip
    writer.write_var({"Variable": "labels", "Data_Type": 51, "Num_Elements": 4,
                      "Rec_Vary": False, "Dim_Sizes": []})  # fmt: skip
    writer.write_var({"Variable": "counts", "Data_Type": 4, "Num_Elements": 1,
                      "Rec_Vary": True, "Dim_Sizes": []},
                     var_attrs={"DEPEND_0": "Epoch"})  # fmt: skip
    writer.close()
    labels = cdflib.CDF(str(path)).varget("labels")
    assert labels is None or np.size(labels) == 0  # the references: no records
    assert pycdfpp.load(str(path))["labels"].values.size == 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SOCDataWarning)  # counts: 0 records, Epoch 3
        ds = soc_workspace.open_dataset(path)
    assert ds["labels"].size == 0  # not a '0' string
    assert ds["counts"].size == 0  # not zeros


def test_sparse_pad_records_are_the_pad_value_throughout(tmp_path):
    from cdflib.cdfwrite import CDF as CDFWriter

    path = tmp_path / "sparse.cdf"
    writer = CDFWriter(str(path), cdf_spec={"Encoding": 6}, delete=True)
    writer.write_var({"Variable": "Epoch", "Data_Type": 33, "Num_Elements": 1, "Rec_Vary": True,
                      "Dim_Sizes": []}, var_data=T0 + np.arange(3) * SECOND)  # fmt: skip
    writer.write_var(
        {"Variable": "b", "Data_Type": 45, "Num_Elements": 1, "Rec_Vary": True,
         "Dim_Sizes": [3], "Sparse": "pad_sparse"},
        var_attrs={"DEPEND_0": "Epoch"},
        var_data=[[0, 2], np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])],
    )  # fmt: skip
    writer.close()
    ds = soc_workspace.open_dataset(path)
    # The CDF pad rule, and pycdfpp: the whole missing record is the pad value (-1e30).
    np.testing.assert_array_equal(ds["b"].values[1], [-1e30, -1e30, -1e30])
    np.testing.assert_array_equal(ds["b"].values, pycdfpp.load(str(path))["b"].values)


@pytest.mark.parametrize("name", ["ge_k0_cpi_19921231_v02.cdf", "ia_k0_epi_19970102_v01.cdf"])
def test_cdf_2_4_files_open(name):
    path = CORPUS / name
    assert path.read_bytes()[:4] == b"\x00\x00\xff\xff"
    ds = soc_workspace.open_dataset(path, mask_fill=False)
    ref = pycdfpp.load(str(path))
    assert sorted(ds.variables) == sorted(ref.keys())
    for var in ref:
        if ref[var].type not in (pycdfpp.DataType.CDF_EPOCH, pycdfpp.DataType.CDF_CHAR):
            np.testing.assert_array_equal(
                ds[var].values.reshape(-1), np.asarray(ref[var].values).reshape(-1)
            )


def test_whole_file_rle_compression_is_read(tmp_path):
    path = CORPUS / "a_rle_compressed_cdf.cdf"
    assert path.read_bytes()[4:8] == b"\xcc\xcc\x00\x01"
    ds = soc_workspace.open_dataset(path, mask_fill=False)
    ref = pycdfpp.load(str(path))
    np.testing.assert_array_equal(ds["var"].values, ref["var"].values)


def test_chunked_reads_inflate_a_compressed_file_once(tmp_path, monkeypatch):
    n = 40
    path = write_cdf(tmp_path / "zipped.cdf", [
        {"name": "Epoch", "type": "CDF_TIME_TT2000", "data": T0 + np.arange(n) * SECOND},
        {"name": "x", "type": "CDF_REAL8", "data": np.arange(n * 8.0).reshape(n, 8),
         "attrs": {"DEPEND_0": "Epoch"}},
        {"name": "y", "type": "CDF_INT4", "data": np.arange(n, dtype=np.int32),
         "attrs": {"DEPEND_0": "Epoch"}},
    ], compressed=6)  # fmt: skip
    calls = []
    real = gzip.decompress

    def counting(data, *args, **kwargs):
        calls.append(len(data))
        return real(data, *args, **kwargs)

    monkeypatch.setattr(gzip, "decompress", counting)
    ds = soc_workspace.open_dataset(path, chunks={"Epoch": 4})
    assert ds["x"].chunks[0] == (4,) * 10
    np.testing.assert_array_equal(ds["x"].values, np.arange(n * 8.0).reshape(n, 8))
    np.testing.assert_array_equal(ds["y"].values, np.arange(n))
    assert len(calls) == 1


def test_padre_spacecraft_csv_opens_as_a_housekeeping_table(tmp_path):
    """Columns and time as in padre_craft's own test table (EPS_9), values made here."""
    name = "padre_get_EPS_9_Data_1761872211190_1762025056586.csv"
    stamps = [1762024016402, 1762023976398, 1762023996415]  # out of order, as exported
    lines = ["In_SysBUS_Voltage,Out_BatRAW_Output_Sense_U,Out_3V3_Output1_Sense_I,timestamp_ms"]
    lines += [f"{15902 - i},{15930 - i},{-1 - i},{t}" for i, t in enumerate(stamps)]
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n")
    ds = soc_workspace.open_dataset(path)
    assert ds.indexes["time"].is_monotonic_increasing
    import datetime as dt

    first = dt.datetime.fromtimestamp(1762023976.398, dt.UTC).replace(tzinfo=None)
    assert ds["time"].values[0] == np.datetime64(first, "ns")
    np.testing.assert_array_equal(ds["In_SysBUS_Voltage"].values, [15901, 15900, 15902])
    assert ds.attrs["telemetry_point"] == "EPS_9"
    assert ds.attrs["instrument"] == "craft"
    both = soc_workspace.open_mfdataset([path])
    assert both.sizes["time"] == 3
    (tmp_path / "other.csv").write_text("a,b\n1,2\n")
    with pytest.raises(soc_workspace.SOCDataError, match="not a CDF file"):
        soc_workspace.open_dataset(tmp_path / "other.csv")


def test_the_quickstart_series_of_a_demo_day_has_no_fill_spikes(tmp_path):
    """The quickstart template plots the first 1-D data variable of a demo day (EEA
    hermes_eea_stats, uint16 with FILLVAL 65535 in about 0.5 % of the records)."""
    from datetime import UTC, datetime

    from soc_workspace.demo import hermes

    paths = []
    for hour in range(6):
        start = datetime(2025, 6, 1, hour, tzinfo=UTC)
        name = f"hermes_eea_l1_{start:%Y%m%dT%H%M%S}_v1.0.0.cdf"
        (tmp_path / name).write_bytes(
            hermes.l1_bytes(hermes.make_hour("eea", start, 0), name, "1.0.0")
        )
        paths.append(tmp_path / name)
    ds = soc_workspace.open_mfdataset(paths)
    name = next(v for v in ds.data_vars if ds[v].ndim == 1 and ds[v].dtype.kind in "fiu")
    raw = soc_workspace.open_mfdataset(paths, mask_fill=False)[name].values
    fill = ds[name].attrs["FILLVAL"]
    assert (raw == fill).any()  # the demo day has fill records ...
    series = ds[name].values
    assert np.isnan(series[raw == fill]).all()  # ... and they are gaps, not spikes
    assert np.nanmax(series) == raw[raw != fill].max()
    assert float(ds[name].mean()) == pytest.approx(raw[raw != fill].mean(), rel=1e-6)
