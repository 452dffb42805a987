"""Many files into one Dataset: order, laziness, chunks, inputs (list, glob, table), FITS."""

from __future__ import annotations

import dask.array as da
import numpy as np
import pandas as pd
import pytest
import xarray as xr
from conftest import SHARED_DATA
from io_samples import hourly_cuts

import soc_workspace
from soc_workspace.io import SOCDataError

EEA = SHARED_DATA / "hermes/eea/l1/hermes_eea_l1_20000101T170901_v1.0.0.cdf"


@pytest.fixture(scope="module")
def hours(tmp_path_factory, shared_data):
    """The real EEA file cut into three files of 6 records, an hour apart."""
    folder = tmp_path_factory.mktemp("hours")
    return hourly_cuts(EEA, folder, lambda i: f"hermes_eea_l1_20000101T{17 + i}0901_v1.0.0.cdf")


@pytest.fixture(scope="module")
def whole(shared_data):
    return soc_workspace.open_dataset(EEA)


def test_files_are_concatenated_in_time_order_lazily(hours, whole):
    ds = soc_workspace.open_mfdataset([hours[2], hours[0], hours[1]])
    assert ds.attrs["source_files"] == [str(p) for p in hours]
    accum = ds["hermes_eea_accum"]
    assert isinstance(accum.data, da.Array)
    assert accum.chunks[0] == (6, 6, 6)  # a chunk per file
    assert ds.indexes["Epoch"].is_monotonic_increasing
    shift = np.repeat(np.arange(3), 6).astype("timedelta64[h]")
    np.testing.assert_array_equal(ds["Epoch"].values, whole["Epoch"].values + shift)
    for name in whole.data_vars:
        np.testing.assert_array_equal(ds[name].values, whole[name].values)
        np.testing.assert_equal(ds[name].attrs, whole[name].attrs)  # NaN-aware
    assert ds.attrs["Mission_group"] == "HERMES"


def test_glob_sizes_and_sequential_give_the_same(hours):
    by_list = soc_workspace.open_mfdataset(hours)
    by_glob = soc_workspace.open_mfdataset(str(hours[0].parent / "*.cdf"))
    sizes = [p.stat().st_size for p in hours]
    with_sizes = soc_workspace.open_mfdataset(hours, sizes=sizes, parallel=False)
    xr.testing.assert_identical(by_list.load(), by_glob.load())
    xr.testing.assert_identical(by_list, with_sizes.load())


def test_a_search_result_is_opened_one_way(hours):
    """open_catalog_files opens search results; open_mfdataset refuses them and says so."""
    table = pd.DataFrame({"url": [str(p) for p in hours]})
    with pytest.raises(TypeError, match=r"open_catalog_files\(result\)"):
        soc_workspace.open_mfdataset(table)
    xr.testing.assert_identical(
        soc_workspace.open_catalog_files(table).load(), soc_workspace.open_mfdataset(hours).load()
    )


def test_rechunking_and_variable_selection(hours):
    ds = soc_workspace.open_mfdataset(hours, chunks={"Epoch": 9}, variables=["hermes_eea_stats"])
    assert list(ds.data_vars) == ["hermes_eea_stats"]
    assert ds["hermes_eea_stats"].chunks == ((9, 9),)
    assert ds["hermes_eea_stats"].sum().compute() > 0


def test_computing_twice_gives_the_same(hours):
    """The bytes kept from opening are used once; a second compute reads the ranges again."""
    ds = soc_workspace.open_mfdataset(hours)
    first = ds["hermes_eea_accum"].sum().compute()
    assert ds["hermes_eea_accum"].sum().compute() == first
    assert ds["hermes_eea_counter1"].max().compute() == ds["hermes_eea_counter1"].max().compute()


def test_bad_arguments():
    with pytest.raises(ValueError, match="errors="):
        soc_workspace.open_mfdataset([EEA], errors="ignore")
    with pytest.raises(FileNotFoundError, match="no files match"):
        soc_workspace.open_mfdataset("/nonexistent/*.cdf")
    with pytest.raises(ValueError, match="1 sizes for 2 files"):
        soc_workspace.open_mfdataset([EEA, EEA], sizes=[1])


def test_fits_files_concatenate_along_time(shared_data):
    files = sorted((shared_data / "padre/meddea/l0").glob("*photon*.fits"))
    ds = soc_workspace.open_mfdataset(files)
    singles = [soc_workspace.open_dataset(f) for f in files]
    assert ds.sizes["time"] == sum(s.sizes["time"] for s in singles)
    assert ds.indexes["time"].is_monotonic_increasing or ds.sizes["time"] > 0
    expected = np.concatenate([s["atod"].values for s in sorted(singles, key=lambda s: s.time[0])])
    np.testing.assert_array_equal(ds["atod"].values, expected)
    assert ds["atod"].attrs["units"] == "adu"


def test_a_cdf_among_fits_files_is_left_out(shared_data):
    files = [*sorted((shared_data / "padre/meddea/l0").glob("*photon*.fits")), EEA]
    with pytest.warns(UserWarning, match="1 of 3 files left out"):
        ds = soc_workspace.open_mfdataset(files, errors="skip")
    assert "it is CDF" in ds.attrs["skipped_reasons"][0]
    with pytest.raises(SOCDataError):
        soc_workspace.open_mfdataset(files)


def test_only_the_newest_version_of_a_reprocessed_file(hours, tmp_path):
    import shutil

    folder = tmp_path / "versions"
    folder.mkdir()
    for path in hours:
        shutil.copy(path, folder / path.name)
    newer = folder / hours[1].name.replace("v1.0.0", "v1.0.1")
    shutil.copy(hours[1], newer)
    ds = soc_workspace.open_mfdataset(str(folder / "*.cdf"), progress=True)
    assert ds.sizes["Epoch"] == 18
    assert ds.attrs["superseded_files"] == [str(folder / hours[1].name)]
    assert str(newer) in ds.attrs["source_files"]
    every = soc_workspace.open_mfdataset(str(folder / "*.cdf"), versions="all")
    assert every.sizes["Epoch"] == 24
    assert "superseded_files" not in every.attrs
