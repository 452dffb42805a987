"""Reading straight from S3: real files uploaded to the embedded store (a real S3 endpoint)."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from conftest import SHARED_DATA
from io_samples import hourly_cuts

import soc_workspace
from soc_workspace.io import SOCDataError
from soc_workspace.store import check_writable, filesystem

pytestmark = pytest.mark.integration

BUCKET = "soc-io-tests"  # not a pipeline bucket: tests only write there
EEA = SHARED_DATA / "hermes/eea/l1/hermes_eea_l1_20000101T170901_v1.0.0.cdf"
SPECTRUM = SHARED_DATA / "padre/meddea/l0/padre_meddea_l0test_spectrum_20250504T070411_v0.1.0.fits"


@pytest.fixture(scope="module")
def uploaded(embedded_store, shared_data, tmp_path_factory):
    """The real EEA and spectrum files, three hourly cuts of EEA and a truncated copy."""
    fs = filesystem(None, **embedded_store.storage_options(), skip_instance_cache=True)
    if not fs.exists(BUCKET):
        fs.mkdir(BUCKET)
    folder = tmp_path_factory.mktemp("s3hours")
    hours = hourly_cuts(EEA, folder, lambda i: f"hermes_eea_l1_20000101T{17 + i}0901_v1.0.0.cdf")
    uploads = {f"{BUCKET}/one/{EEA.name}": EEA.read_bytes(),
               f"{BUCKET}/one/{SPECTRUM.name}": SPECTRUM.read_bytes(),
               f"{BUCKET}/bad/cut.cdf": EEA.read_bytes()[:50_000]}  # fmt: skip
    for path in hours:
        uploads[f"{BUCKET}/hours/{path.name}"] = path.read_bytes()
    for key, data in uploads.items():
        check_writable(f"s3://{key}")
        fs.pipe_file(key, data)
    return {"hours": hours}


@pytest.fixture
def no_temp_files(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("a temporary file was written")

    for name in ("NamedTemporaryFile", "mkstemp", "TemporaryFile", "mkdtemp"):
        monkeypatch.setattr(tempfile, name, refuse)


def test_open_dataset_from_s3_url_equals_local(store_env, uploaded, no_temp_files):
    for local in (EEA, SPECTRUM):
        remote = soc_workspace.open_dataset(f"s3://{BUCKET}/one/{local.name}")
        xr.testing.assert_identical(remote, soc_workspace.open_dataset(local))


def test_open_dataset_from_an_fsspec_file_object(store_env, uploaded):
    fs = filesystem()
    with fs.open(f"{BUCKET}/one/{EEA.name}", "rb") as f:
        ds = soc_workspace.open_dataset(f)
    assert ds.encoding["source"] == f"s3://{BUCKET}/one/{EEA.name}"
    xr.testing.assert_identical(ds, soc_workspace.open_dataset(EEA))


def test_lazy_reads_fetch_byte_ranges(store_env, uploaded, monkeypatch):
    """With whole-object fetches off, chunks read just their records' byte ranges."""
    monkeypatch.setenv("SOC_WORKSPACE__IO__WHOLE_OBJECT_MB", "0")
    monkeypatch.setenv("SOC_WORKSPACE__IO__CACHE_MB", "0")
    from soc_workspace.io.source import Source

    requested = []
    original = Source.read_ranges

    def spy(self, ranges):
        if not self.is_local:
            requested.extend(stop - start for start, stop in ranges)
        return original(self, ranges)

    monkeypatch.setattr(Source, "read_ranges", spy)
    ds = soc_workspace.open_dataset(f"s3://{BUCKET}/one/{EEA.name}", chunks={"Epoch": 6})
    part = ds["hermes_eea_accum"][6:12].values
    np.testing.assert_array_equal(part, soc_workspace.open_dataset(EEA)["hermes_eea_accum"][6:12])
    record = 41 * 4 * 32 * 2
    assert requested == [6 * record]  # one chunk: exactly its six records


def test_open_mfdataset_from_an_s3_glob_and_a_catalog_table(store_env, uploaded):
    local = soc_workspace.open_mfdataset(uploaded["hours"]).load()
    by_glob = soc_workspace.open_mfdataset(f"s3://{BUCKET}/hours/*.cdf")
    assert by_glob.attrs["source_files"][0].startswith(f"s3://{BUCKET}/hours/")
    xr.testing.assert_equal(by_glob.load(), local)
    table = pd.DataFrame(
        {"url": sorted(f"s3://{BUCKET}/hours/{p.name}" for p in uploaded["hours"])}
    )
    xr.testing.assert_equal(soc_workspace.open_catalog_files(table).load(), local)


def test_open_mfdataset_without_the_byte_cache(store_env, uploaded, monkeypatch):
    monkeypatch.setenv("SOC_WORKSPACE__IO__CACHE_MB", "0")
    local = soc_workspace.open_mfdataset(uploaded["hours"]).load()
    remote = soc_workspace.open_mfdataset(f"s3://{BUCKET}/hours/*.cdf").load()
    xr.testing.assert_equal(remote, local)


def test_bad_object_in_s3_is_named_and_skipped(store_env, uploaded):
    url = f"s3://{BUCKET}/bad/cut.cdf"
    with pytest.raises(SOCDataError, match=f"{url}: the file is truncated"):
        soc_workspace.open_dataset(url)
    urls = [url, *(f"s3://{BUCKET}/hours/{p.name}" for p in uploaded["hours"])]
    with pytest.warns(UserWarning, match="1 of 4 files left out"):
        ds = soc_workspace.open_mfdataset(urls, errors="skip")
    assert ds.attrs["skipped_files"] == [url]
    assert ds.sizes["Epoch"] == 18


def test_engine_soc_opens_s3_urls(store_env, uploaded):
    ds = xr.open_dataset(f"s3://{BUCKET}/one/{EEA.name}", engine="soc", chunks={})
    assert ds["hermes_eea_accum"].chunks is not None
    xr.testing.assert_identical(ds.load(), soc_workspace.open_dataset(EEA))


def test_loading_many_objects_hands_over_the_staged_arrays(store_env, uploaded):
    """Data decoded into place while opening: chunks are views of it, and loading a whole
    variable returns it without another copy (read-only, so no view can change it)."""
    ds = soc_workspace.open_mfdataset(f"s3://{BUCKET}/hours/*.cdf")
    local = soc_workspace.open_mfdataset(uploaded["hours"]).load()
    part = ds["hermes_eea_accum"][4:9].values  # across two files' chunks
    np.testing.assert_array_equal(part, local["hermes_eea_accum"][4:9].values)
    ds.load()
    accum = ds["hermes_eea_accum"].values
    assert not accum.flags.writeable
    assert accum.base is not None
    assert accum.base.shape[0] >= 18
    xr.testing.assert_equal(ds, local)
    with pytest.raises(ValueError, match="read-only"):
        accum[0, 0, 0, 0] = 1


def test_staging_within_the_memory_budget(store_env, uploaded, monkeypatch):
    """With room for only part of the data, the rest is read from its byte ranges."""
    monkeypatch.setenv("SOC_WORKSPACE__IO__CACHE_MB", "0.1")  # 100 kB: one file's accum at most
    ds = soc_workspace.open_mfdataset(f"s3://{BUCKET}/hours/*.cdf")
    local = soc_workspace.open_mfdataset(uploaded["hours"]).load()
    xr.testing.assert_equal(ds.load(), local)
    assert ds["hermes_eea_accum"].values.flags.writeable  # joined by Dask: not the staging


CORPUS = sorted((Path(__file__).parent / "data" / "cdf_corpus").glob("*.cdf"))


@pytest.mark.parametrize("whole_mb", ["16", "0"])
def test_real_cdfs_of_many_missions_read_from_s3_as_from_disk(
    store_env, embedded_store, monkeypatch, whole_mb
):
    """The corpus (CDF 2.4 to 3, compressed, sparse, rVariables) from S3: fetched whole, and
    with whole-object fetches off (byte ranges through a block cache, attributes by cdflib
    through the file object), each equal to the local read (which the matrix checks against
    cdflib and pycdfpp)."""
    import warnings

    from soc_workspace.io import SOCDataWarning

    fs = filesystem(None, **embedded_store.storage_options(), skip_instance_cache=True)
    if not fs.exists(BUCKET):
        fs.mkdir(BUCKET)
    for path in CORPUS:
        check_writable(f"s3://{BUCKET}/corpus/{path.name}")
        fs.pipe_file(f"{BUCKET}/corpus/{path.name}", path.read_bytes())
    monkeypatch.setenv("SOC_WORKSPACE__IO__WHOLE_OBJECT_MB", whole_mb)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SOCDataWarning)
        for path in CORPUS:
            remote = soc_workspace.open_dataset(f"s3://{BUCKET}/corpus/{path.name}")
            lazy = soc_workspace.open_dataset(f"s3://{BUCKET}/corpus/{path.name}", chunks={})
            local = soc_workspace.open_dataset(path)
            for other in (remote, lazy.compute()):
                xr.testing.assert_equal(other, local)
                # attributes too (some are lists of arrays, which assert_identical cannot
                # compare). Global ones of a large object come through cdflib, which reads
                # some differently (empty entries, UTF-8 text): compared when fetched whole.
                if whole_mb != "0":
                    np.testing.assert_equal(other.attrs, local.attrs)
                for name in local.variables:
                    np.testing.assert_equal(other[name].attrs, local[name].attrs)
