"""Every real HERMES and PADRE file in ../shared/data opens, and its values are the raw ones."""

from __future__ import annotations

import warnings

import astropy.units as u
import cdflib
import cdflib.xarray
import numpy as np
import pytest
import xarray as xr
from astropy.io import fits
from astropy.time import Time, TimeDelta
from conftest import shared_files

import soc_workspace
from soc_workspace.io import SOCDataError, SOCDataWarning
from soc_workspace.io.fits import COLUMN_UNITS, RAW_HOUSEKEEPING_UNITS

CDFS = shared_files("*.cdf")
FITS = shared_files("*.fits")
RAW = [p for p in shared_files("*") if p.suffix.lower() in (".bin", ".dat")]
PADRE_EPOCH = Time("2000-01-01 00:00", scale="utc")  # padre_meddea's EPOCH


def _open(path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SOCDataWarning)  # the NEMISIS sample's odd variable
        return soc_workspace.open_dataset(path)


def test_every_kind_of_sample_is_here(shared_data):
    assert len(CDFS) >= 2
    assert len(FITS) >= 6
    assert len(RAW) >= 4


def _masked(values, attrs):
    """The documented masking applied to a reference's raw values: FILLVAL -> NaN, integer
    variables with a FILLVAL as float (float32 up to 16 bits)."""
    fill = attrs.get("FILLVAL")
    if fill is None or values.dtype.kind not in "iuf":
        return values
    fill = np.asarray(fill).reshape(-1)[0]
    if values.dtype.kind in "iu":
        out = values.astype("f4" if values.dtype.itemsize <= 2 else "f8")
    else:
        out = values.copy()
    out[values == np.asarray(fill).astype(values.dtype)] = np.nan
    return out


@pytest.mark.parametrize("path", CDFS, ids=lambda p: p.name)
def test_cdf_values_equal_cdflib_and_pycdfpp_after_masking(path):
    import pycdfpp

    ds = _open(path)
    raw = cdflib.CDF(str(path))
    other = pycdfpp.load(str(path))
    names = raw.cdf_info().zVariables
    assert sorted(ds.variables) == sorted(names) == sorted(other.keys())
    time_axes = [v for v in ds.coords if ds[v].dtype.kind == "M"]
    assert time_axes, "a time coordinate"
    for name in names:
        expected = np.asarray(raw.varget(name))
        attrs = raw.varattsget(name)
        got = ds[name].values
        assert got.shape == expected.shape, name
        if raw.varinq(name).Data_Type in (31, 32, 33):
            assert got.dtype == np.dtype("datetime64[ns]")
            np.testing.assert_array_equal(got, cdflib.cdfepoch.to_datetime(expected))
            np.testing.assert_array_equal(got, pycdfpp.to_datetime64(other[name]))
            continue
        from_pycdfpp = np.asarray(other[name].values).reshape(expected.shape)
        if expected.dtype.kind in "SU":
            np.testing.assert_array_equal(got, expected)
            continue
        np.testing.assert_array_equal(got, _masked(expected, attrs))
        np.testing.assert_array_equal(got, _masked(from_pycdfpp, attrs))
        assert got.dtype == _masked(expected, attrs).dtype.newbyteorder("=")
        # and unmasked, the stored values themselves
        unmasked = soc_workspace.open_dataset(path, variables=[name], mask_fill=False)[name]
        np.testing.assert_array_equal(unmasked.values, expected)
        np.testing.assert_array_equal(unmasked.values, from_pycdfpp)
        # ISTP attributes are kept, UNITS also as CF "units" where there is one
        for key in ("FILLVAL", "VALIDMIN", "VALIDMAX", "UNITS", "CATDESC", "LABLAXIS", "FIELDNAM"):
            if key in attrs:
                assert key in ds[name].attrs, (name, key)
        if str(attrs.get("UNITS", "")).strip() and ds[name].dtype.kind != "M":
            assert ds[name].attrs["units"] == attrs["UNITS"].strip()
    assert ds.attrs["Logical_file_id"] == raw.globalattsget()["Logical_file_id"][0]


def test_eea_structure(shared_data):
    ds = _open(shared_data / "hermes/eea/l1/hermes_eea_l1_20000101T170901_v1.0.0.cdf")
    assert ds["Epoch"].dims == ("Epoch",)
    assert "Epoch" in ds.indexes
    assert ds["hermes_eea_accum"].dims[0] == "Epoch"
    assert ds["hermes_eea_accum"].shape == (18, 41, 4, 32)
    assert ds["hermes_eea_energy_profile"].attrs["units"] == "eV"
    assert ds.attrs["Mission_group"] == "HERMES"
    # the time axis agrees with the file's own start time
    assert str(ds["Epoch"].values[0]).startswith(ds.attrs["Start_time"][:19])


def test_nemisis_odd_variables_are_kept_with_a_warning(shared_data):
    path = shared_data / "hermes/nemisis/l1/hermes_nem_default_l1_20160322T123031_v0.0.1.cdf"
    with pytest.warns(SOCDataWarning, match="example_spectra.*4 records.*1000"):
        ds = soc_workspace.open_dataset(path)
    assert ds["example_spectra"].dims == ("example_spectra_record", "example_spectra_dim1")
    # a non-record-varying variable with a DEPEND_0 is a constant, not a time series
    assert ds["data_mask"].dims == ("data_mask_dim1", "data_mask_dim2")
    assert ds["Bx GSE"].dims == ("Epoch",)
    assert ds["Bx GSE"].attrs["units"] == "nT"
    # VAR_TYPE metadata describes the data: a coordinate
    assert "calibration_const" in ds.coords


def test_cdf_round_trip_through_cdflib_xarray(shared_data, tmp_path):
    """Ours -> cdflib.xarray.xarray_to_cdf -> ours gives the same Dataset."""
    ds = _open(shared_data / "hermes/eea/l1/hermes_eea_l1_20000101T170901_v1.0.0.cdf")
    out = tmp_path / "roundtrip.cdf"
    cdflib.xarray.xarray_to_cdf(ds, str(out))
    back = soc_workspace.open_dataset(out)
    for name in ds.variables:
        assert back[name].dims == ds[name].dims
        np.testing.assert_array_equal(back[name].values, ds[name].values)
        assert back[name].attrs.get("UNITS") == ds[name].attrs.get("UNITS")
    assert back.attrs["Logical_source"] == ds.attrs["Logical_source"]


def test_cdf_agrees_with_cdflib_xarray_on_values(shared_data):
    path = shared_data / "hermes/eea/l1/hermes_eea_l1_20000101T170901_v1.0.0.cdf"
    ref = cdflib.xarray.cdf_to_xarray(str(path), to_datetime=True, fillval_to_nan=True)
    ds = _open(path)
    for name in ref.data_vars:
        np.testing.assert_array_equal(ds[name].values, ref[name].values)
    np.testing.assert_array_equal(ds["Epoch"].values, ref["Epoch"].values)


def _padre_time(table, photons=False):
    """padre_meddea's calc_time, with astropy (what the pipeline does)."""
    cols = table.columns.names
    dt = table["pkttimes"] * u.s if "pkttimes" in cols else table["timestamp"] * u.s
    if "pktclock" in cols:
        dt = dt + table["pktclock"] * 0.05 * u.microsecond
    if photons:
        dt = dt + table["clocks"] * 12.8 * u.microsecond
    return (PADRE_EPOCH + TimeDelta(dt)).datetime64


@pytest.mark.parametrize("path", FITS, ids=lambda p: p.name)
def test_fits_values_time_and_units_equal_astropy_reads(path):
    ds = _open(path)
    with fits.open(path) as hdul:
        btype = hdul[0].header["BTYPE"].strip()
        hdu = {"photon": "SCI", "spectrum": "SPEC", "housekeeping": "HK"}[btype]
        assert ds.attrs["hdu"] == hdu
        assert ds.attrs["BTYPE"] == btype
        assert ds.attrs["FILENAME"] == path.name
        table = hdul["PKT"].data if hdu == "SPEC" else hdul[hdu].data
        expected_time = _padre_time(table, photons=hdu == "SCI")
        # astropy adds float day fractions: within a microsecond of the exact integer sum
        diff = np.abs((ds["time"].values - expected_time).astype(np.int64))
        assert diff.max() < 1000
        assert ds["time"].dtype == np.dtype("datetime64[ns]")
        if hdu == "SPEC":
            np.testing.assert_array_equal(ds["spectrum"].values, hdul["SPEC"].data)
            assert ds["spectrum"].dims == ("time", "pixel", "energy_bin")
            assert ds["spectrum"].attrs["units"] == "count"
            np.testing.assert_array_equal(ds["asic"].values, table["asic"])
        for name in table.columns.names:
            np.testing.assert_array_equal(ds[name].values, table[name])
            unit = COLUMN_UNITS.get(name)
            if name in RAW_HOUSEKEEPING_UNITS:
                assert ds[name].attrs["units"] == "adu"
                assert ds[name].attrs["calibrated_units"] == RAW_HOUSEKEEPING_UNITS[name]
            elif unit:
                assert ds[name].attrs["units"] == unit


@pytest.mark.parametrize("path", FITS, ids=lambda p: p.name)
def test_every_fits_hdu_opens_with_a_time_coordinate(path):
    ds = _open(path)
    for hdu in ds.attrs["hdus"]:
        other = soc_workspace.open_dataset(path, hdu=hdu)
        assert "time" in other.indexes
        assert other.attrs["hdu"] == hdu
        with fits.open(path) as hdul:
            assert other.sizes.get("time", 0) == (
                hdul[hdu].data.shape[0] if hdul[hdu].data is not None else 0
            )


def test_housekeeping_read_table_keeps_its_own_time_column(shared_data):
    path = (
        shared_data / "padre/meddea/l0/padre_meddea_l0test_housekeeping_20250504T055138_v0.1.0.fits"
    )
    ds = soc_workspace.open_dataset(path, hdu="READ")
    assert soc_workspace.open_dataset(path, hdu=2).attrs["hdu"] == "READ"  # by index too
    assert ds["time_jd"].attrs["units"] == "d"
    assert ds["name"].values[0] == "asic0_threshold1"
    # the JD column the pipeline wrote and our packet time are the same instant (to 1 ms)
    jd = ds["time_jd"].values[0].sum()
    assert abs(
        Time(jd, format="jd", scale="utc").datetime64 - ds["time"].values[0]
    ) < np.timedelta64(1, "ms")


@pytest.mark.parametrize("path", RAW, ids=lambda p: p.name)
def test_raw_telemetry_is_refused_with_a_clear_error(path):
    with pytest.raises(SOCDataError, match="raw telemetry") as info:
        soc_workspace.open_dataset(path)
    assert info.value.path == str(path)
    assert path.name in str(info.value)
    assert "calibration" in str(info.value)


def test_engine_soc_reads_every_sample_lazily(shared_data):
    for path in [*CDFS, *FITS]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SOCDataWarning)
            lazy = xr.open_dataset(path, engine="soc")
        eager = _open(path)
        xr.testing.assert_identical(lazy.load(), eager)
