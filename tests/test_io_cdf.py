"""ISTP semantics on CDF files written for the purpose with cdflib's writer (and spacepy's,
for a version-2 file): several epochs, EPOCH/EPOCH16/TT2000, DEPEND_i and LABL_PTR_i,
support data, fill values, column-major order, compression, lazy reads."""

from __future__ import annotations

import os

import cdflib
import numpy as np
import pytest
import xarray as xr
from io_samples import write_cdf

import soc_workspace
from soc_workspace.io import SOCDataError
from soc_workspace.io.times import cdf_epoch_to_datetime64, padre_time, tt2000_to_datetime64

T0 = int(cdflib.cdfepoch.compute_tt2000([2025, 6, 1, 0, 0, 0, 0, 0, 0]))
SECOND = 1_000_000_000


def _istp_variables(n=12, m=5):
    rng = np.random.default_rng(1)
    flux = rng.random((n, 4)) * 100
    flux[3, 1] = -1e31  # a fill value
    counts = rng.integers(0, 1000, (n, 4), dtype=np.uint16)
    counts[2, 2] = 65535
    return [
        {"name": "Epoch", "type": "CDF_TIME_TT2000", "data": T0 + np.arange(n) * SECOND,
         "attrs": {"VAR_TYPE": "support_data", "UNITS": "ns", "FILLVAL": np.iinfo(np.int64).min}},
        {"name": "Epoch_hk", "type": "CDF_TIME_TT2000", "data": T0 + np.arange(m) * 10 * SECOND,
         "attrs": {"VAR_TYPE": "support_data"}},
        {"name": "energy", "type": "CDF_REAL4", "data": np.array([10, 20, 40, 80], np.float32),
         "rec_vary": False, "attrs": {"VAR_TYPE": "support_data", "UNITS": "eV"}},
        {"name": "energy_labels", "type": "CDF_CHAR", "rec_vary": False,
         "data": np.array(["E1", "E2", "E3", "E4"]), "attrs": {"VAR_TYPE": "metadata"}},
        {"name": "flux", "type": "CDF_REAL8", "data": flux,
         "attrs": {"VAR_TYPE": "data", "DEPEND_0": "Epoch", "DEPEND_1": "energy",
                   "LABL_PTR_1": "energy_labels", "FILLVAL": -1e31, "UNITS": "1/(cm2 s sr eV)",
                   "VALIDMIN": 0.0, "VALIDMAX": 1e10, "CATDESC": "Differential flux",
                   "FIELDNAM": "flux", "LABLAXIS": "Flux"}},
        {"name": "counts", "type": "CDF_UINT2", "data": counts,
         "attrs": {"VAR_TYPE": "data", "DEPEND_0": "Epoch", "LABL_PTR_1": "energy_labels",
                   "FILLVAL": 65535}},
        {"name": "temperature", "type": "CDF_REAL4",
         "data": np.linspace(20, 21, m).astype(np.float32),
         "attrs": {"VAR_TYPE": "data", "DEPEND_0": "Epoch_hk", "UNITS": "degC",
                   "FILLVAL": np.float32(-1e31)}},
        {"name": "b_labels", "type": "CDF_CHAR", "rec_vary": False,
         "data": np.array(["Bx", "By", "Bz"]), "attrs": {"VAR_TYPE": "metadata"}},
        {"name": "b", "type": "CDF_REAL4", "data": np.ones((n, 3), np.float32),
         "attrs": {"VAR_TYPE": "data", "DEPEND_0": "Epoch", "LABL_PTR_1": "b_labels",
                   "UNITS": "nT"}},
        {"name": "quality", "type": "CDF_INT1", "data": np.zeros(n, np.int8),
         "attrs": {"VAR_TYPE": "support_data", "DEPEND_0": "Epoch"}},
    ]  # fmt: skip


@pytest.fixture(scope="module")
def istp(tmp_path_factory):
    folder = tmp_path_factory.mktemp("istp")
    files = {
        "plain": write_cdf(folder / "plain.cdf", _istp_variables(), global_attrs={
            "Logical_source": "test_istp", "HTTP_LINK": ["a", "b"]}),
        "column": write_cdf(folder / "column.cdf", _istp_variables(), majority="column_major"),
        "varzip": write_cdf(folder / "varzip.cdf", [
            {**v, "compress": 6} for v in _istp_variables()]),
        "filezip": write_cdf(folder / "filezip.cdf", _istp_variables(), compressed=6),
    }  # fmt: skip
    return files


def test_istp_semantics(istp):
    ds = soc_workspace.open_dataset(istp["plain"])
    # two epochs: two time dimensions, each a datetime64 index
    assert ds["flux"].dims == ("Epoch", "energy")
    assert ds["temperature"].dims == ("Epoch_hk",)
    assert ds.sizes["Epoch"] == 12
    assert ds.sizes["Epoch_hk"] == 5
    assert ds.indexes["Epoch"].dtype == "datetime64[ns]"
    assert ds["Epoch_hk"].values[1] - ds["Epoch_hk"].values[0] == np.timedelta64(10, "s")
    assert str(ds["Epoch"].values[0]) == "2025-06-01T00:00:00.000000000"
    # DEPEND_1 is the dimension coordinate, LABL_PTR_1 labels the same dimension
    np.testing.assert_array_equal(ds["energy"].values, [10, 20, 40, 80])
    assert ds["energy_labels"].dims == ("energy",)
    assert list(ds["energy_labels"].values) == ["E1", "E2", "E3", "E4"]
    # the same labels without a DEPEND_1: the same dimension
    assert ds["counts"].dims == ("Epoch", "energy")
    # labels alone name the dimension
    assert ds["b"].dims == ("Epoch", "b_labels")
    assert list(ds["b_labels"].values) == ["Bx", "By", "Bz"]
    # support_data and metadata are coordinates, data are data variables
    assert {"energy", "energy_labels", "quality"} <= set(ds.coords)
    assert set(ds.data_vars) == {"flux", "counts", "temperature", "b"}
    # fill -> NaN, integers with a FILLVAL become float (FILLVAL kept as an attribute)
    assert np.isnan(ds["flux"].values[3, 1])
    assert np.isfinite(ds["flux"].values).sum() == 47
    assert ds["flux"].attrs["FILLVAL"] == -1e31
    assert np.isnan(ds["counts"].values[2, 2])
    assert ds["counts"].dtype == np.float32
    assert np.isfinite(ds["counts"].values).sum() == 47
    raw = soc_workspace.open_dataset(istp["plain"], mask_fill=False)
    assert raw["counts"].values[2, 2] == 65535
    assert raw["counts"].dtype == np.uint16
    assert raw["flux"].values[3, 1] == -1e31
    assert np.isfinite(ds["temperature"].values).all()  # float32 fill compared in float32
    for key in ("VALIDMIN", "VALIDMAX", "UNITS", "CATDESC", "FIELDNAM", "LABLAXIS"):
        assert key in ds["flux"].attrs
    assert ds["flux"].attrs["units"] == "1/(cm2 s sr eV)"
    assert ds.attrs["Logical_source"] == "test_istp"
    assert ds.attrs["HTTP_LINK"] == ["a", "b"]


@pytest.mark.parametrize("kind", ["column", "varzip", "filezip"])
def test_layouts_and_compression_read_the_same_values(istp, kind):
    plain = soc_workspace.open_dataset(istp["plain"])
    other = soc_workspace.open_dataset(istp[kind])
    xr.testing.assert_equal(other, plain)
    raw = cdflib.CDF(str(istp[kind]))
    unmasked = soc_workspace.open_dataset(istp[kind], mask_fill=False)
    np.testing.assert_array_equal(unmasked["counts"].values, raw.varget("counts"))


def test_no_temporary_files_for_compressed_cdf(istp, monkeypatch):
    import tempfile

    def refuse(*args, **kwargs):
        raise AssertionError("a temporary file was written")

    monkeypatch.setattr(tempfile, "NamedTemporaryFile", refuse)
    monkeypatch.setattr(tempfile, "mkstemp", refuse)
    with open(istp["filezip"], "rb") as f:  # a file object, not a path
        ds = soc_workspace.open_dataset(f)
    assert ds.sizes["Epoch"] == 12


def test_variables_selection_brings_its_coordinates(istp):
    ds = soc_workspace.open_dataset(istp["plain"], variables=["flux"])
    assert set(ds.data_vars) == {"flux"}
    assert {"Epoch", "energy", "energy_labels"} <= set(ds.coords)
    assert "Epoch_hk" not in ds.dims
    with pytest.raises(SOCDataError, match="no variable 'nope'"):
        soc_workspace.open_dataset(istp["plain"], variables=["nope"])


def test_chunks_give_a_lazy_dataset_that_reads_only_its_records(istp):
    ds = soc_workspace.open_dataset(istp["plain"], chunks={"Epoch": 5})
    assert ds["flux"].chunks == ((5, 5, 2), (4,))
    eager = soc_workspace.open_dataset(istp["plain"])
    xr.testing.assert_equal(ds.compute(), eager)
    np.testing.assert_array_equal(ds["flux"][7:9].values, eager["flux"].values[7:9])
    np.testing.assert_array_equal(ds["flux"][::-3].values, eager["flux"].values[::-3])


@pytest.fixture
def pycdf(tmp_path, monkeypatch):
    """spacepy's CDF module: the NASA CDF library (cdflib cannot write EPOCH16 or v2 files)."""
    monkeypatch.setenv("SPACEPY", str(tmp_path))
    from spacepy import pycdf

    return pycdf


def test_epoch_and_epoch16_variables(tmp_path, pycdf):
    import datetime as dt

    path = tmp_path / "epochs.cdf"
    times = [
        dt.datetime(2024, 1, 2, 3, 4, 5, 678001),
        dt.datetime(1999, 12, 31, 23, 59, 59, 999999),
    ]
    with pycdf.CDF(str(path), "") as cdf:
        cdf.new("t_epoch", data=times, type=pycdf.const.CDF_EPOCH)
        cdf.new("t_epoch16", data=times, type=pycdf.const.CDF_EPOCH16)
        cdf["x"] = np.arange(2.0)
        cdf["x"].attrs["DEPEND_0"] = "t_epoch16"
    ds = soc_workspace.open_dataset(path)
    raw = cdflib.CDF(str(path))
    for name in ("t_epoch", "t_epoch16"):
        expected = cdflib.cdfepoch.to_datetime(raw.varget(name))
        np.testing.assert_array_equal(ds[name].values, expected)
    assert str(ds["t_epoch16"].values[1]) == "1999-12-31T23:59:59.999999000"
    assert ds["x"].dims == ("t_epoch16",)


def test_fill_epochs_are_not_a_time():
    fills = np.array([np.iinfo(np.int64).min, T0], np.int64)
    assert np.isnat(cdf_epoch_to_datetime64(fills, 33)[0])
    assert np.isnat(cdf_epoch_to_datetime64(np.array([-1e31, 0.0]), 31)).all()


def test_tt2000_conversion_equals_cdflib_including_leap_seconds():
    rng = np.random.default_rng(0)
    values = rng.integers(-8 * 10**17, 9 * 10**17, 50_000)
    leaps = [cdflib.cdfepoch.compute_tt2000([y, m, 1, 0, 0, 0, 0, 0, 0]) for y, m in
             [(2012, 7), (2015, 7), (2017, 1)]]  # fmt: skip
    near = np.concatenate([t + np.arange(-3, 3, 0.25) * SECOND for t in leaps]).astype(np.int64)
    for tt in (values, near):
        inside = np.zeros(tt.shape, bool)  # 23:59:60.x, where we differ on purpose (below)
        for t in leaps:
            inside |= (tt >= t - SECOND) & (tt < t)
        got = tt2000_to_datetime64(tt)
        np.testing.assert_array_equal(
            got[~inside], np.asarray(cdflib.cdfepoch.to_datetime(tt[~inside]), "M8[ns]")
        )
        # cdflib (and pycdfpp) put 23:59:60.x on 00:00:00.x of the next day; we keep the day
        expected = np.asarray(cdflib.cdfepoch.to_datetime(tt[inside]), "M8[ns]")
        expected = expected.astype("M8[s]").astype("M8[ns]") - np.timedelta64(1, "ns")
        np.testing.assert_array_equal(got[inside], expected)


def test_padre_time_counts_leap_seconds_like_astropy():
    import astropy.units as u
    from astropy.time import Time, TimeDelta

    pkttimes = np.array([0, 536_457_600, 779_804_946], np.uint32)  # 2000, 2017 (leap), 2024
    pktclock = np.array([0, 19_999_999, 6_151_489], np.uint32)
    clocks = np.array([0, 1, 15_883], np.uint16)
    ours = padre_time(pkttimes, pktclock, clocks)
    ref = (
        Time("2000-01-01 00:00", scale="utc")
        + TimeDelta(pkttimes * u.s + pktclock * 0.05 * u.us + clocks * 12.8 * u.us)
    ).datetime64
    assert np.abs((ours - ref).astype(np.int64)).max() < 1000


def test_version_2_cdf_written_by_the_nasa_library(tmp_path, pycdf):
    path = tmp_path / "v2.cdf"
    pycdf.lib.set_backward(True)
    try:
        with pycdf.CDF(str(path), "") as cdf:
            cdf["Epoch"] = [np.datetime64("2020-01-01T00:00:00", "us").item(),
                            np.datetime64("2020-01-01T00:00:01", "us").item()]  # fmt: skip
            cdf["B"] = np.arange(6, dtype=np.float32).reshape(2, 3)
            cdf["B"].attrs["DEPEND_0"] = "Epoch"
    finally:
        pycdf.lib.set_backward(False)
    assert path.read_bytes()[:4] == bytes.fromhex("cdf26002")
    ds = soc_workspace.open_dataset(path)
    assert ds["B"].dims == ("Epoch", "B_dim1")
    np.testing.assert_array_equal(ds["B"].values, np.arange(6).reshape(2, 3))
    assert str(ds["Epoch"].values[1]) == "2020-01-01T00:00:01.000000000"


def test_paths_as_pathlike_and_file_urls(istp):
    a = soc_workspace.open_dataset(os.fspath(istp["plain"]))
    b = soc_workspace.open_dataset("file://" + os.fspath(istp["plain"]))
    xr.testing.assert_identical(a, b)
    with pytest.raises(FileNotFoundError):
        soc_workspace.open_dataset(istp["plain"].with_name("absent.cdf"))


def test_variables_cdflib_reads_for_us_strings_and_sparse_records(tmp_path):
    """Record-varying strings and sparse records are not plain byte ranges: cdflib reads them."""
    from cdflib.cdfwrite import CDF as CDFWriter

    path = tmp_path / "odd.cdf"
    writer = CDFWriter(str(path), cdf_spec={"Majority": "row_major", "Encoding": 6}, delete=True)
    epochs = T0 + np.arange(4) * SECOND
    writer.write_var({"Variable": "Epoch", "Data_Type": 33, "Num_Elements": 1, "Rec_Vary": True,
                      "Dim_Sizes": []}, var_data=epochs)  # fmt: skip
    writer.write_var(
        {"Variable": "mode", "Data_Type": 51, "Num_Elements": 5, "Rec_Vary": True, "Dim_Sizes": []},
        var_attrs={"DEPEND_0": "Epoch"},
        var_data=["idle", "burst", "idle", "slow"],
    )
    writer.write_var(
        {"Variable": "sparse", "Data_Type": 45, "Num_Elements": 1, "Rec_Vary": True,
         "Dim_Sizes": [], "Sparse": "pad_sparse"},
        var_attrs={"DEPEND_0": "Epoch"},
        var_data=[[0, 3], np.array([1.5, 2.5])],
    )  # fmt: skip
    writer.close()
    raw = cdflib.CDF(str(path))
    for chunks in (None, {"Epoch": 2}):
        ds = soc_workspace.open_dataset(path, chunks=chunks)
        assert list(ds["mode"].values) == list(raw.varget("mode"))
        np.testing.assert_array_equal(ds["sparse"].values, raw.varget("sparse"))
        assert ds["sparse"].dims == ("Epoch",)
