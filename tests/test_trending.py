"""Housekeeping trending: limits files, excursions, rate-of-change anomalies, the summary, on
the real PADRE MeDDEA housekeeping and on generated readings whose flags are known."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr

import soc_workspace
from soc_workspace import trending
from soc_workspace.trending import ABOVE, BELOW, RATE, Limits


def readings(values: list[float], seconds: int = 60) -> xr.Dataset:
    time = pd.date_range("2025-06-01", periods=len(values), freq=f"{seconds}s")
    return xr.Dataset({"temp": ("time", np.array(values, float), {"units": "adu"})},
                      coords={"time": time})  # fmt: skip


def test_excursions_and_rate_anomalies_are_flagged_where_they_are():
    ds = readings([10, 11, 12, 30, 12, 11, 2, 11])
    limits = {"temp": Limits(low=5, high=20, max_change_per_minute=10)}
    flagged = trending.flags(ds, limits)
    times = ds["time"].values
    got = {(pd.Timestamp(t), f) for t, f in zip(flagged["time"], flagged["flag"], strict=True)}
    assert got == {
        (pd.Timestamp(times[3]), ABOVE),
        (pd.Timestamp(times[3]), RATE),  # +18 in a minute
        (pd.Timestamp(times[4]), RATE),  # -18
        (pd.Timestamp(times[6]), BELOW),  # 11 -> 2 -> 11: 9 a minute, within the rate limit
    }
    table = trending.summary(ds, limits, flagged)
    assert table.loc["temp", "excursions"] == 2
    assert table.loc["temp", "rate anomalies"] == 2
    assert table.loc["temp", "status"] == "FLAGGED"
    assert table.loc["temp", "max"] == 30


def test_the_rate_is_per_minute_whatever_the_cadence():
    ds = readings([0, 5, 10], seconds=15)  # 20 per minute
    assert len(trending.flags(ds, {"temp": Limits(max_change_per_minute=19)})) == 2
    assert trending.flags(ds, {"temp": Limits(max_change_per_minute=21)}).empty


def test_limits_files_name_what_is_wrong(tmp_path):
    shipped = trending.read_limits(trending.limits_file("padre", "meddea"))
    assert shipped.descriptor == "housekeeping"
    assert shipped.limits["hit_rate"].high == 500
    bad = tmp_path / "padre-meddea.yaml"
    bad.write_text("mission: padre\ninstrument: meddea\nlevel: l1\nvariables:\n  t: {hihg: 3}\n")
    with pytest.raises(ValueError, match=r"padre-meddea.yaml: t: unknown field\(s\) \['hihg'\]"):
        trending.read_limits(bad)
    with pytest.raises(FileNotFoundError, match="no housekeeping limits for hermes eea"):
        trending.limits_file("hermes", "eea", tmp_path)


def test_real_meddea_housekeeping_against_the_shipped_limits(shared_data):
    path = shared_data / "padre/meddea/l0/padre_meddea_l0_housekeeping_20240916T122904_v1.0.0.fits"
    ds = soc_workspace.open_dataset(path)
    setup = trending.read_limits(trending.limits_file("padre", "meddea"))
    flagged = trending.flags(ds, setup.limits)
    table = trending.summary(ds, setup.limits, flagged)
    assert list(table.index) == list(setup.limits)
    for name in setup.limits:  # the summary holds the file's own values
        assert table.loc[name, "max"] == float(ds[name].max())
    import holoviews as hv

    model = hv.render(trending.plot(ds, setup.limits, flagged), backend="bokeh")
    assert model is not None
