"""A corpus of broken files, made here from the real ones: each raises SOCDataError naming
the file, and open_mfdataset(errors="skip") leaves them out and says so."""

from __future__ import annotations

import shutil
import warnings
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from astropy.io import fits
from conftest import SHARED_DATA
from io_samples import copy_cdf, hourly_cuts

import soc_workspace
from soc_workspace.io import SOCDataError, SOCDataWarning

EEA = SHARED_DATA / "hermes/eea/l1/hermes_eea_l1_20000101T170901_v1.0.0.cdf"
NEM = SHARED_DATA / "hermes/nemisis/l1/hermes_nem_default_l1_20160322T123031_v0.0.1.cdf"
PHOTON = SHARED_DATA / "padre/meddea/l0/padre_meddea_l0_photon_20240916T122901_v1.0.0.fits"
SPECTRUM = SHARED_DATA / "padre/meddea/l0/padre_meddea_l0test_spectrum_20250504T070411_v0.1.0.fits"
HK = SHARED_DATA / "padre/meddea/l0/padre_meddea_l0_housekeeping_20240916T122904_v1.0.0.fits"
RAW_PADRE = SHARED_DATA / "padre/meddea/raw/padreMDA0_240916122901.dat"
RAW_HERMES = SHARED_DATA / "hermes/eea/l0/hermes_EEA_l0_2023042-000000_v0.bin"

# name -> (what the error message must say, how to make the file from the real ones)
CORPUS: dict[str, str] = {
    "empty.cdf": "empty",
    "empty.fits": "empty",
    "magic_only.cdf": "truncated",
    "cut_in_header.cdf": "truncated",
    "cut_at_1000.cdf": "truncated",
    "cut_in_half.cdf": "truncated",
    "cut_last_byte.cdf": "truncated",
    "nemisis_cut_90pc.cdf": "truncated",
    "compressed_cut.cdf": "truncated",
    "netcdf3_classic.cdf": "NetCDF-3",
    "netcdf3_64bit.cdf": "NetCDF-3",
    "netcdf4_hdf5.cdf": "HDF5",
    "bad_magic.cdf": "not a CDF file",
    "bad_second_magic.cdf": "second magic word",
    "text.cdf": "not a CDF file",
    "text.fits": "not a CDF file",
    "depend0_missing.cdf": "DEPEND_0 names 'no_such_epoch'",
    "depend1_missing.cdf": "DEPEND_1 names 'no_such_axis'",
    "labl_ptr_missing.cdf": "LABL_PTR_1 names 'no_labels'",
    "depend0_not_time.cdf": "not one value per record",
    "corrupt_index.cdf": "corrupted",
    "photon_without_pkt.fits": "no 'PKT' HDU",
    "wrong_btype.fits": "BTYPE",
    "fits_cut_mid_data.fits": "truncated",
    "fits_cut_at_block.fits": "truncated",
    "fits_bad_checksum.fits": "orrupted",
    "spectrum_rows_mismatch.fits": "must match",
    "hk_without_time.fits": "no pkttimes",
    "hermes_EEA_l0_2023042-000000_v0.bin": "raw telemetry",
    "padreMDA0_240916122901.dat": "raw telemetry",
    "unnamed_packets.dat": "CCSDS",
}


def _write_fits_variant(src: Path, dst: Path, change) -> None:
    with fits.open(src) as hdul:
        hdul = fits.HDUList([h.copy() for h in hdul])
    change(hdul)
    hdul.writeto(dst, checksum=True)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory, shared_data) -> Path:
    folder = tmp_path_factory.mktemp("bad")
    eea = EEA.read_bytes()
    (folder / "empty.cdf").write_bytes(b"")
    (folder / "empty.fits").write_bytes(b"")
    (folder / "magic_only.cdf").write_bytes(eea[:8])
    (folder / "cut_in_header.cdf").write_bytes(eea[:100])
    (folder / "cut_at_1000.cdf").write_bytes(eea[:1000])
    (folder / "cut_in_half.cdf").write_bytes(eea[: len(eea) // 2])
    (folder / "cut_last_byte.cdf").write_bytes(eea[:-1])
    nem = NEM.read_bytes()
    (folder / "nemisis_cut_90pc.cdf").write_bytes(nem[: len(nem) * 9 // 10])
    zipped = copy_cdf(EEA, folder / "zipped.cdf", compressed=6).read_bytes()
    (folder / "zipped.cdf").unlink()
    (folder / "compressed_cut.cdf").write_bytes(zipped[: len(zipped) * 2 // 3])
    table = xr.Dataset({"x": ("t", np.arange(3.0))})
    table.to_netcdf(folder / "netcdf3_classic.cdf", engine="scipy", format="NETCDF3_CLASSIC")
    table.to_netcdf(folder / "netcdf3_64bit.cdf", engine="scipy", format="NETCDF3_64BIT")
    table.to_netcdf(folder / "netcdf4_hdf5.cdf", engine="h5netcdf")
    (folder / "bad_magic.cdf").write_bytes(b"\xcd\xf3\x00\x02" + eea[4:])
    (folder / "bad_second_magic.cdf").write_bytes(eea[:4] + b"\x12\x34\x56\x78" + eea[8:])
    (folder / "text.cdf").write_text("Epoch,flux\n2025-06-01T00:00:00,1.0\n")
    (folder / "text.fits").write_text("this is not FITS either\n" * 200)
    copy_cdf(EEA, folder / "depend0_missing.cdf",
             attrs={"hermes_eea_stats": {"DEPEND_0": "no_such_epoch"}})  # fmt: skip
    copy_cdf(EEA, folder / "depend1_missing.cdf",
             attrs={"hermes_eea_accum": {"DEPEND_1": "no_such_axis"}})  # fmt: skip
    copy_cdf(EEA, folder / "labl_ptr_missing.cdf",
             attrs={"hermes_eea_counter1": {"LABL_PTR_1": "no_labels"}})  # fmt: skip
    copy_cdf(EEA, folder / "depend0_not_time.cdf",
             attrs={"hermes_eea_stats": {"DEPEND_0": "hermes_eea_energy_profile"}})  # fmt: skip
    broken = bytearray(eea)
    broken[11643 + 12 : 11643 + 60] = b"\x7f" * 48  # inside Epoch's record index (VXR)
    (folder / "corrupt_index.cdf").write_bytes(bytes(broken))

    def drop_pkt(hdul):
        del hdul["PKT"]

    _write_fits_variant(PHOTON, folder / "photon_without_pkt.fits", drop_pkt)
    _write_fits_variant(
        PHOTON, folder / "wrong_btype.fits", lambda h: h[0].header.__setitem__("BTYPE", "bogus")
    )
    photon = PHOTON.read_bytes()
    (folder / "fits_cut_mid_data.fits").write_bytes(photon[:20000])
    (folder / "fits_cut_at_block.fits").write_bytes(photon[: 2880 * 8])
    flipped = bytearray(photon)
    with fits.open(PHOTON) as hdul:
        flipped[hdul.fileinfo(1)["datLoc"] + 100] ^= 0xFF  # a byte of the SCI table's data
    (folder / "fits_bad_checksum.fits").write_bytes(bytes(flipped))

    def fewer_packets(hdul):
        hdul["PKT"] = fits.BinTableHDU(hdul["PKT"].data[:3], header=hdul["PKT"].header, name="PKT")

    _write_fits_variant(SPECTRUM, folder / "spectrum_rows_mismatch.fits", fewer_packets)

    def no_time(hdul):
        cols = [c for c in hdul["HK"].columns if c.name not in ("pkttimes", "timestamp")]
        hdul["HK"] = fits.BinTableHDU.from_columns(cols, header=hdul["HK"].header, name="HK")

    _write_fits_variant(HK, folder / "hk_without_time.fits", no_time)
    shutil.copy(RAW_HERMES, folder / RAW_HERMES.name)
    shutil.copy(RAW_PADRE, folder / RAW_PADRE.name)
    shutil.copy(RAW_PADRE, folder / "unnamed_packets.dat")
    return folder


def test_corpus_is_complete(corpus):
    assert len(CORPUS) >= 20
    assert sorted(p.name for p in corpus.iterdir()) == sorted(CORPUS)


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_bad_file_raises_soc_data_error_naming_it(corpus, name):
    path = corpus / name
    with pytest.raises(SOCDataError) as info:
        soc_workspace.open_dataset(path)
    err = info.value
    assert isinstance(err, ValueError)
    assert err.path == str(path)
    assert str(path) in str(err)
    assert CORPUS[name] in err.problem, err.problem


def test_the_errors_say_what_to_do(corpus):
    with pytest.raises(SOCDataError, match=r"xarray\.open_dataset"):
        soc_workspace.open_dataset(corpus / "netcdf3_classic.cdf")
    with pytest.raises(SOCDataError, match="fetch it again"):
        soc_workspace.open_dataset(corpus / "cut_in_half.cdf")
    with pytest.raises(SOCDataError, match="calibration"):
        soc_workspace.open_dataset(corpus / "padreMDA0_240916122901.dat")


@pytest.fixture(scope="module")
def good_hours(tmp_path_factory, shared_data) -> list[Path]:
    """The real EEA file cut into three consecutive "hourly" files."""
    folder = tmp_path_factory.mktemp("good")
    return hourly_cuts(EEA, folder, lambda i: f"hermes_eea_l1_2000010{i}T170901_v1.0.0.cdf")


def test_skip_leaves_bad_files_out_and_lists_them(corpus, good_hours):
    bad = [corpus / n for n in ("cut_in_half.cdf", "netcdf3_classic.cdf", "depend0_missing.cdf")]
    mix = [good_hours[0], bad[0], good_hours[1], bad[1], bad[2], good_hours[2]]
    with pytest.warns(UserWarning, match="3 of 6 files left out") as caught:
        ds = soc_workspace.open_mfdataset(mix, errors="skip")
    assert len([w for w in caught if "left out" in str(w.message)]) == 1
    assert ds.sizes["Epoch"] == 18
    assert ds.attrs["skipped_files"] == [str(p) for p in bad]
    assert "truncated" in ds.attrs["skipped_reasons"][0]
    assert "NetCDF-3" in ds.attrs["skipped_reasons"][1]
    assert ds.attrs["source_files"] == [str(p) for p in good_hours]
    whole = soc_workspace.open_dataset(EEA)
    np.testing.assert_array_equal(ds["hermes_eea_accum"].values, whole["hermes_eea_accum"].values)


def test_warn_warns_for_each_bad_file(corpus, good_hours):
    mix = [good_hours[0], corpus / "empty.cdf", corpus / "text.cdf"]
    with pytest.warns(UserWarning, match="left out") as caught:
        ds = soc_workspace.open_mfdataset(mix, errors="warn")
    messages = [str(w.message) for w in caught if "left out" in str(w.message)]
    assert len(messages) == 2
    assert "empty.cdf" in messages[0]
    assert "text.cdf" in messages[1]
    assert ds.sizes["Epoch"] == 6
    assert len(ds.attrs["skipped_files"]) == 2


def test_raise_stops_at_the_bad_file(corpus, good_hours):
    with pytest.raises(SOCDataError, match=r"compressed_cut\.cdf.*truncated"):
        soc_workspace.open_mfdataset([*good_hours, corpus / "compressed_cut.cdf"])


def test_a_file_unlike_the_others_is_a_bad_file(good_hours, tmp_path):
    other = copy_cdf(EEA, tmp_path / "fewer_variables.cdf", drop=("hermes_eea_counter2",))
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        ds = soc_workspace.open_mfdataset([*good_hours, other], errors="skip")
    assert "missing ['hermes_eea_counter2']" in ds.attrs["skipped_reasons"][0]
    with pytest.raises(SOCDataError, match=r"fewer_variables\.cdf: its variables differ"):
        soc_workspace.open_mfdataset([*good_hours, other])


def test_nothing_readable_is_an_error(corpus):
    with pytest.raises(SOCDataError, match="none of the files could be read"):
        soc_workspace.open_mfdataset([corpus / "empty.cdf", corpus / "text.cdf"], errors="skip")


def test_a_pointer_of_the_wrong_length_is_left_out_with_a_warning(tmp_path, shared_data):
    """A DEPEND_1 of the wrong length no longer refuses the file: every value can be read,
    so the variable is kept on a dimension of its own, as cdflib does, and a warning says so."""
    path = copy_cdf(EEA, tmp_path / "depend1_wrong_length.cdf",
                    attrs={"hermes_eea_accum": {"DEPEND_1": "hermes_eea_stats"}})  # fmt: skip
    with pytest.warns(SOCDataWarning, match=r"hermes_eea_accum.*DEPEND_1.*kept without it"):
        ds = soc_workspace.open_dataset(path)
    assert ds["hermes_eea_accum"].dims[1] == "hermes_eea_accum_dim1"
    whole = soc_workspace.open_dataset(EEA)
    np.testing.assert_array_equal(ds["hermes_eea_accum"].values, whole["hermes_eea_accum"].values)
