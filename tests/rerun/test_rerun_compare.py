"""compare() on the real HERMES and PADRE products, and on deliberately altered copies."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from astropy.io import fits

import soc_workspace
from soc_workspace.calibration import compare

HERMES_L1 = "hermes/eea/l1/hermes_eea_l1_20000101T170901_v1.0.0.cdf"
PHOTON = "padre/meddea/l0/padre_meddea_l0_photon_20240916T122901_v1.0.0.fits"
SPECTRUM = "padre/meddea/l0/padre_meddea_l0_spectrum_20240916T122851_v1.0.0.fits"


def test_every_real_product_is_identical_to_itself(shared_data):
    products = sorted(shared_data.glob("*/*/*/*.cdf")) + sorted(shared_data.glob("*/*/*/*.fits"))
    assert len(products) == 8  # 2 HERMES CDF, 6 PADRE FITS
    for path in products:
        report = compare(path, path)
        assert report.verdict == "identical", path.name
        assert len(report.variables) > 0
        assert (report.variables["status"] == "identical").all()
        assert report.attributes.empty
        assert report.attribute_differences.empty  # no differences: still a table to filter
        assert list(report.attributes[report.attributes["ignored"]].columns) == list(
            report.attributes.columns
        )


def test_fits_verdicts_agree_with_astropy_fitsdiff(shared_data):
    ignore = ["DATE", "CHECKSUM", "DATASUM", "PRVER*", "PRPVER*", "PRHSH*"]
    photons = sorted((shared_data / "padre/meddea/l0").glob("*photon*.fits"))
    for a in photons:
        for b in photons:
            ours = compare(a, b).verdict == "identical"
            theirs = fits.FITSDiff(str(a), str(b), ignore_keywords=ignore).identical
            assert ours == theirs, (a.name, b.name)


# -- HERMES CDF, altered with spacepy (the writer hermes_core uses) ---------------------------


def altered_cdf(tmp_path: Path, change, original: Path) -> Path:
    from spacepy import pycdf

    copy = tmp_path / Path(HERMES_L1).name
    shutil.copyfile(original, copy)
    copy.chmod(0o644)
    with pycdf.CDF(str(copy), readonly=False) as cdf:
        change(cdf)
    return copy


def test_changed_values_are_counted_and_named(tmp_path, shared_file):
    def bump(cdf):
        values = cdf["hermes_eea_accum"][...]
        values[0, 0, 0, :3] += np.array([5, 1, 2], dtype=values.dtype)
        cdf["hermes_eea_accum"][...] = values

    report = compare(altered_cdf(tmp_path, bump, shared_file(HERMES_L1)), shared_file(HERMES_L1))
    assert report.verdict == "different"
    assert report.different == ["hermes_eea_accum"]
    row = report.variables.set_index("variable").loc["hermes_eea_accum"]
    assert row["n_different"] == 3
    assert row["n_values"] == 18 * 41 * 4 * 32
    assert row["max_abs_diff"] == 5
    assert "hermes_eea_accum: 3 of 94464 values differ (max abs 5" in str(report)


def test_a_dropped_variable_is_removed(tmp_path, shared_file):
    report = compare(
        altered_cdf(
            tmp_path, lambda cdf: cdf.__delitem__("hermes_eea_counter2"), shared_file(HERMES_L1)
        ),
        shared_file(HERMES_L1),
    )
    assert report.verdict == "different"
    assert report.removed == ["hermes_eea_counter2"]
    assert report.added == []


def test_a_changed_unit_is_different(tmp_path, shared_file):
    def unit(cdf):
        cdf["hermes_eea_energy_profile"].attrs["UNITS"] = "keV"

    report = compare(altered_cdf(tmp_path, unit, shared_file(HERMES_L1)), shared_file(HERMES_L1))
    assert report.verdict == "different"
    row = report.variables.set_index("variable").loc["hermes_eea_energy_profile"]
    assert (row["unit_rerun"], row["unit_archived"]) == ("keV", "eV")
    assert "unit 'eV' -> 'keV'" in report.summary()


def test_a_new_generation_date_is_ignored_but_listed(tmp_path, shared_file):
    def regenerate(cdf):
        cdf.attrs["Generation_date"] = "2031-01-01"
        cdf.attrs["SWxSOC_version"] = "9.9.9"

    report = compare(
        altered_cdf(tmp_path, regenerate, shared_file(HERMES_L1)), shared_file(HERMES_L1)
    )
    assert report.verdict == "identical"
    assert set(report.attributes["attribute"]) == {"Generation_date", "SWxSOC_version"}
    assert report.attributes["ignored"].all()
    # the list is configurable: with nothing ignored, the same files differ
    strict = compare(
        altered_cdf(tmp_path, regenerate, shared_file(HERMES_L1)),
        shared_file(HERMES_L1),
        ignore_attributes=[],
    )
    assert strict.verdict == "different"
    assert len(strict.attribute_differences) == 2


def test_a_changed_description_is_different(tmp_path, shared_file):
    def describe(cdf):
        cdf["hermes_eea_stats"].attrs["CATDESC"] = "something else"

    report = compare(
        altered_cdf(tmp_path, describe, shared_file(HERMES_L1)), shared_file(HERMES_L1)
    )
    assert report.verdict == "different"
    row = report.attribute_differences.iloc[0]
    assert (row["scope"], row["attribute"], row["rerun"]) == (
        "hermes_eea_stats",
        "CATDESC",
        "something else",
    )


def test_float_noise_is_equivalent_within_tolerance(tmp_path, shared_file):
    def noise(cdf):
        values = cdf["hermes_eea_energy_profile"][...]
        cdf["hermes_eea_energy_profile"][...] = values * (1 + 1e-12)

    altered = altered_cdf(tmp_path, noise, shared_file(HERMES_L1))
    assert compare(altered, shared_file(HERMES_L1)).verdict == "different"
    report = compare(altered, shared_file(HERMES_L1), rtol=1e-9)
    assert report.verdict == "equivalent"
    row = report.variables.set_index("variable").loc["hermes_eea_energy_profile"]
    assert 0 < row["max_rel_diff"] < 1e-11


# -- PADRE FITS, altered with astropy ---------------------------------------------------------


def altered_fits(tmp_path: Path, original: Path, change) -> Path:
    copy = tmp_path / original.name
    with fits.open(original) as hdus:
        change(hdus)
        hdus.writeto(copy, checksum=True)
    return copy


def test_fits_changed_values_are_named_by_hdu_and_column(tmp_path, shared_file):
    def bump(hdus):
        hdus["SCI"].data["atod"][:4] += 7

    report = compare(altered_fits(tmp_path, shared_file(PHOTON), bump), shared_file(PHOTON))
    assert report.verdict == "different"
    assert report.different == ["SCI.atod"]
    row = report.variables.set_index("variable").loc["SCI.atod"]
    assert (row["n_different"], row["max_abs_diff"]) == (4, 7)
    # CHECKSUM, DATASUM changed with the data: ignored, listed
    assert set(report.attributes["attribute"]) <= {"CHECKSUM", "DATASUM", "DATE"}


def test_fits_dropped_column_and_changed_image_unit(tmp_path, shared_file):
    def drop(hdus):
        table = hdus["PKT"]
        keep = [c for c in table.columns if c.name != "asic"]
        hdus["PKT"] = fits.BinTableHDU.from_columns(keep, header=table.header, name="PKT")
        hdus["SPEC"].header["BUNIT"] = "ct / s"

    report = compare(altered_fits(tmp_path, shared_file(SPECTRUM), drop), shared_file(SPECTRUM))
    assert report.verdict == "different"
    assert report.removed == ["PKT.asic"]
    assert "SPEC: unit '' -> 'ct / s'" in report.summary()


def test_fits_wider_integer_type_with_same_values_is_equivalent(tmp_path, shared_file):
    def widen(hdus):
        table = hdus["SCI"]
        columns = [
            fits.Column(name=c.name, format="J", array=table.data[c.name].astype(np.int32))
            if c.name == "channel"
            else c
            for c in table.columns
        ]
        hdus["SCI"] = fits.BinTableHDU.from_columns(columns, header=table.header, name="SCI")

    report = compare(altered_fits(tmp_path, shared_file(PHOTON), widen), shared_file(PHOTON))
    assert report.verdict == "equivalent"
    row = report.variables.set_index("variable").loc["SCI.channel"]
    assert row["status"] == "equivalent"
    assert row["n_different"] == 0
    assert row["dtype_rerun"] == "int32"


def test_fits_bumped_date_is_identical(tmp_path, shared_file):
    def bump(hdus):
        for hdu in hdus:
            hdu.header["DATE"] = "2031-01-01T00:00:00.000"

    assert compare(
        altered_fits(tmp_path, shared_file(PHOTON), bump), shared_file(PHOTON)
    ).verdict == ("identical")


# -- how a report reads -------------------------------------------------------------------------


def test_report_reads_as_text_table_dataset_and_rich(tmp_path, shared_file):
    from rich.console import Console

    report = compare(
        altered_cdf(
            tmp_path, lambda cdf: cdf.__delitem__("hermes_eea_stats"), shared_file(HERMES_L1)
        ),
        shared_file(HERMES_L1),
    )
    text = str(report)
    assert text.startswith("DIFFERENT: hermes_eea_l1_20000101T170901_v1.0.0.cdf (rerun)")
    assert "removed hermes_eea_stats" in text
    frame = report.to_dataframe()
    assert list(frame["variable"])[-1] == "hermes_eea_stats"
    dataset = report.to_dataset()
    assert dataset.attrs["verdict"] == "different"
    assert str(dataset["status"].sel(variable="hermes_eea_stats").item()) == "removed"
    console = Console(record=True, width=160)
    console.print(report)
    assert "DIFFERENT" in console.export_text()
    assert "removed" in report._repr_html_()


def test_cdf_against_fits_and_non_products_are_errors(tmp_path, shared_file):
    from soc_workspace.io import SOCDataError

    with pytest.raises(SOCDataError, match="cannot compare a CDF file"):
        compare(shared_file(HERMES_L1), shared_file(PHOTON))
    junk = tmp_path / "junk.cdf"
    junk.write_bytes(b"not a product")
    # the same detection and error as open_dataset
    with pytest.raises(SOCDataError, match=r"junk\.cdf: not a CDF file") as info:
        compare(junk, shared_file(HERMES_L1))
    with pytest.raises(SOCDataError) as opened:
        soc_workspace.open_dataset(junk)
    assert info.value.problem == opened.value.problem
    with pytest.raises(FileNotFoundError, match=r"nope\.cdf"):
        compare(tmp_path / "nope.cdf", shared_file(HERMES_L1))


def test_every_version_generation_and_software_attribute_is_ignored(tmp_path, shared_file):
    """The documented rule (calibration.ignore_attributes): *_version, *generat*, *software*."""

    def release(cdf):
        cdf.attrs["REACH_version"] = "9.9.9"  # a mission's own version attribute
        cdf.attrs["Software_name"] = "hermes_eea fork"
        cdf.attrs["Generated_by"] = "someone else"

    archived = shared_file(HERMES_L1)
    report = compare(altered_cdf(tmp_path, release, archived), archived)
    assert report.verdict == "identical", str(report)
    assert set(report.attributes["attribute"]) == {"REACH_version", "Software_name", "Generated_by"}
    assert report.attributes["ignored"].all()

    # also_ignore adds to the rule; ignore_attributes replaces it
    def describe(cdf):
        cdf.attrs["Mission_group"] = "not HERMES"
        cdf.attrs["REACH_version"] = "9.9.9"

    changed = altered_cdf(tmp_path, describe, archived)
    assert compare(changed, archived).verdict == "different"
    assert compare(changed, archived, also_ignore=["mission_group"]).verdict == "identical"
    only = compare(changed, archived, ignore_attributes=["Mission_group"])
    assert only.verdict == "different"
    assert only.attribute_differences["attribute"].tolist() == ["REACH_version"]


def test_compare_cli_ignore_adds_and_ignore_only_replaces(tmp_path, shared_file):
    import subprocess
    import sys

    def describe(cdf):
        cdf.attrs["Mission_group"] = "not HERMES"
        cdf.attrs["HERMES_version"] = "9.9.9"

    archived = shared_file(HERMES_L1)
    changed = altered_cdf(tmp_path, describe, archived)

    def run(*options):
        command = ["compare", str(changed), str(archived), *options]
        return subprocess.run(
            [sys.executable, "-m", "soc_workspace", *command],
            capture_output=True,
            text=True,
        ).returncode

    assert run() == 1
    assert run("--ignore", "Mission_group") == 0
    assert run("--ignore-only", "Mission_group") == 1  # HERMES_version counts again
    assert run("--ignore-only", "Mission_group", "--ignore-only", "*_version") == 0
