"""The xarray backend entry point, and lazy datasets that travel to other processes."""

from __future__ import annotations

import pickle
from importlib.metadata import entry_points

import numpy as np
import pytest
import xarray as xr
from conftest import SHARED_DATA

import soc_workspace
from soc_workspace.io import SOCDataError
from soc_workspace.io.backend import SOCBackendEntrypoint

EEA = SHARED_DATA / "hermes/eea/l1/hermes_eea_l1_20000101T170901_v1.0.0.cdf"
HK = SHARED_DATA / "padre/meddea/l0/padre_meddea_l0test_housekeeping_20250504T055138_v0.1.0.fits"


def test_entry_point_is_registered():
    (ep,) = [e for e in entry_points(group="xarray.backends") if e.name == "soc"]
    assert ep.value == "soc_workspace.io.backend:SOCBackendEntrypoint"
    assert isinstance(xr.backends.list_engines()["soc"], SOCBackendEntrypoint)


def test_xarray_picks_the_engine_for_cdf_and_fits(shared_data):
    engine = SOCBackendEntrypoint()
    assert engine.guess_can_open(EEA)
    assert engine.guess_can_open(str(HK))
    assert not engine.guess_can_open("data.nc")
    ds = xr.open_dataset(EEA)  # no engine named
    assert "hermes_eea_accum" in ds


def test_data_stay_lazy_until_used(shared_data):
    ds = xr.open_dataset(EEA, engine="soc")
    assert not ds["hermes_eea_accum"].variable._in_memory
    assert ds["Epoch"].variable._in_memory  # coordinates are read at open
    np.testing.assert_array_equal(
        ds["hermes_eea_accum"][3:5].values, soc_workspace.open_dataset(EEA)["hermes_eea_accum"][3:5]
    )


def test_backend_arguments(shared_data):
    ds = xr.open_dataset(EEA, engine="soc", drop_variables=["hermes_eea_counter2"])
    assert "hermes_eea_counter2" not in ds
    assert "hermes_eea_counter1" in ds
    ds = xr.open_dataset(EEA, engine="soc", variables=["hermes_eea_stats"])
    assert list(ds.data_vars) == ["hermes_eea_stats"]
    reads = xr.open_dataset(HK, engine="soc", hdu="READ")
    assert reads.attrs["hdu"] == "READ"
    with pytest.raises(SOCDataError, match="hdu='READ' is for FITS files"):
        xr.open_dataset(EEA, engine="soc", hdu="READ")
    with pytest.raises(SOCDataError, match="no such HDU"):
        xr.open_dataset(HK, engine="soc", hdu="SPEC")


def test_lazy_datasets_pickle_for_dask_workers(shared_data, tmp_path):
    from io_samples import hourly_cuts

    files = hourly_cuts(EEA, tmp_path, lambda i: f"part{i}.cdf", parts=2, records=9)
    for ds in (
        soc_workspace.open_dataset(EEA, chunks={"Epoch": 5}),
        soc_workspace.open_mfdataset(files),
    ):
        copy = pickle.loads(pickle.dumps(ds))
        xr.testing.assert_identical(copy.compute(), ds.compute())
