"""Quicklooks (``ds.soc.quicklook``): the plot chosen from each variable's metadata, its labels
and scales, and a bokeh rendering that draws, on the real SOC files and on generated CDFs."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path

import holoviews as hv
import numpy as np
import pytest
from artifacts import artifacts_dir
from bokeh.embed import file_html
from bokeh.models import LogColorMapper, LogScale
from bokeh.resources import INLINE
from conftest import shared_files

import soc_workspace
from soc_workspace.demo import hermes
from soc_workspace.demo.istp import Variable, tt2000, write_cdf
from soc_workspace.quicklook import QuicklookError


def render(plot, name: str) -> object:
    """The bokeh model of a plot, written as HTML for review."""
    model = hv.render(plot, backend="bokeh")
    html = file_html(model, INLINE, title=name)  # opens offline
    (artifacts_dir("quicklook") / f"{name}.html").write_text(html)
    return model


def figures(model) -> list:
    from bokeh.plotting import figure

    return [m for m in model.select({"type": figure})] if not hasattr(model, "renderers") else [
        model
    ]  # fmt: skip


@pytest.fixture(scope="module")
def demo_hour(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("demo-hour")
    start = datetime(2025, 6, 1, 5, tzinfo=UTC)
    paths = {}
    for instrument in hermes.INSTRUMENTS:
        name = f"hermes_{instrument}_l1_{start:%Y%m%dT%H%M%S}_v1.0.0.cdf"
        hour = hermes.make_hour(instrument, start, 0)
        (folder / name).write_bytes(hermes.l1_bytes(hour, name, "1.0.0"))
        paths[instrument] = folder / name
    return paths


@pytest.mark.parametrize(
    ("instrument", "variable", "kind", "label", "log"),
    [
        ("eea", "hermes_eea_stats", "time series", "hermes_eea_stats [counts]", False),
        ("eea", "hermes_eea_accum", "spectrogram", "hermes_eea_accum [counts]", True),
        ("eea", "hermes_eea_energy_profile", "spectrogram", "hermes_eea_energy_profile [eV]",
         False),
        ("nemisis", "hermes_nem_b_gse", "components", "B GSE [nT]", False),
        ("nemisis", "hermes_nem_b_mag", "time series", "|B| [nT]", False),
        ("merit", "hermes_mrt_electron_flux", "spectrogram",
         "Electron flux [cm^-2 s^-1 sr^-1 keV^-1]", True),
        ("spani", "hermes_spn_counts", "spectrogram", "hermes_spn_counts [counts]", True),
    ],
)  # fmt: skip
def test_demo_variables_get_the_plot_their_metadata_asks_for(
    demo_hour, instrument, variable, kind, label, log
):
    ds = soc_workspace.open_dataset(demo_hour[instrument])
    choice = ds.soc.plot_kind(variable)
    assert (choice.kind, choice.label, choice.log_values) == (kind, label, log)
    model = render(ds.soc.quicklook(variable), f"demo-{variable}")
    (fig,) = figures(model)
    assert fig.title.text.startswith(variable)
    assert fig.xaxis[0].axis_label == "Time (UTC)"
    if kind == "spectrogram":
        assert bool(fig.select({"type": LogColorMapper})) == log
        # the energy axes (DEPEND_1) of the demo spectrograms are SCALETYP log
        assert choice.log_axis
        assert isinstance(fig.y_scale, LogScale)
        assert fig.yaxis[0].axis_label == choice.axis_label
    else:
        assert fig.yaxis[0].axis_label == label


def test_components_are_labelled_by_labl_ptr(demo_hour):
    ds = soc_workspace.open_dataset(demo_hour["nemisis"])
    plot = ds.soc.quicklook("hermes_nem_b_gse")
    assert list(plot.keys()) == ["Bx GSE", "By GSE", "Bz GSE"]
    model = render(plot, "demo-nemisis-components")
    legend = [item.label["value"] for item in figures(model)[0].legend[0].items]
    assert legend == ["Bx GSE", "By GSE", "Bz GSE"]


def test_without_a_name_the_first_drawable_measurement(demo_hour):
    ds = soc_workspace.open_dataset(demo_hour["merit"])
    assert ds.soc.plot_kind().variable == "hermes_mrt_electron_flux"


def _long_series(path: Path, n: int, scaletyp: str) -> Path:
    start = tt2000(2025, 6, 1)
    epoch = start + np.arange(n, dtype=np.int64) * 1_000_000_000
    rng = np.random.default_rng(1)
    energy = np.geomspace(10.0, 1e4, 20)
    write_cdf(
        path,
        {"Logical_source": "test_long", "Data_type": "l1>Level 1"},
        epoch,
        1.0,
        [
            Variable("flux", rng.gamma(2.0, 10.0, (n, 20)).astype(np.float32), "data",
                     "A flux", units="counts/s", display_type="spectrogram",
                     depend=["energy"], extra={"SCALETYP": scaletyp}),
            Variable("rate", rng.normal(5, 1, n).astype(np.float32), "data", "A rate",
                     units="Hz", lablaxis="Rate", display_type="time_series",
                     extra={"SCALETYP": scaletyp}),
            Variable("energy", energy, "support_data", "Energy", units="eV",
                     record_varying=False, lablaxis="Energy", extra={"SCALETYP": scaletyp}),
        ],
    )  # fmt: skip
    return path


@pytest.mark.parametrize("scaletyp", ["log", "linear"])
def test_scaletyp_sets_the_colour_scale_of_a_generated_spectrogram(tmp_path, scaletyp):
    ds = soc_workspace.open_dataset(_long_series(tmp_path / "short.cdf", 300, scaletyp))
    choice = ds.soc.plot_kind("flux")
    assert choice.kind == "spectrogram"
    assert choice.log_values == choice.log_axis == (scaletyp == "log")
    assert choice.label == "flux [counts/s]"
    assert choice.axis_label == "Energy [eV]"
    (fig,) = figures(render(ds.soc.quicklook("flux"), f"generated-flux-{scaletyp}"))
    assert bool(fig.select({"type": LogColorMapper})) == (scaletyp == "log")
    assert isinstance(fig.y_scale, LogScale) == (scaletyp == "log")
    series = figures(render(ds.soc.quicklook("rate"), f"generated-rate-{scaletyp}"))[0]
    assert series.yaxis[0].axis_label == "Rate [Hz]"
    assert isinstance(series.y_scale, LogScale) == (scaletyp == "log")


def test_a_long_series_is_rasterised(tmp_path):
    """A day at 1 s: one datashader image, not 86400 glyphs."""
    ds = soc_workspace.open_dataset(_long_series(tmp_path / "day.cdf", 86_400, "log"))
    for variable in ("rate", "flux"):
        plot = ds.soc.quicklook(variable)
        assert isinstance(plot, hv.DynamicMap), variable
        (fig,) = figures(render(plot, f"generated-day-{variable}"))
        images = [r for r in fig.renderers if type(r.glyph).__name__ == "Image"]
        assert images, variable
    assert fig.select({"type": LogColorMapper})  # SCALETYP log, rasterised too
    # a rasterised spectrogram cannot sit on a log axis: its axis is log10 of the energies
    assert fig.yaxis[0].axis_label == "log10 Energy [eV]"


REAL_KINDS = {
    "hermes_eea_l1_20000101T170901_v1.0.0.cdf": {
        "hermes_eea_stats": "time series",
        "hermes_eea_energy_profile": "spectrogram",  # 41 columns: a spectrogram, not 41 curves
    },
    "hermes_nem_default_l1_20160322T123031_v0.0.1.cdf": {
        "Bx GSE": "time series",
        "added_spectra": "components",
    },
    "padre_meddea_l0_photon_20240916T122901_v1.0.0.fits": {"atod": "event list"},
    "padre_meddea_l0test_photon_20250504T055311_v0.1.0.fits": {"atod": "event list"},
    "padre_meddea_l0_spectrum_20240916T122851_v1.0.0.fits": {"spectrum": "spectrum image"},
    "padre_meddea_l0test_spectrum_20250504T070411_v0.1.0.fits": {"spectrum": "spectrum image"},
    "padre_meddea_l0_housekeeping_20240916T122904_v1.0.0.fits": {"fp_temp": "time series"},
}


@pytest.mark.parametrize(
    "path", shared_files("*.cdf") + shared_files("*.fits"), ids=lambda p: p.name
)
def test_real_files_draw(shared_data, path):
    with pytest.warns() if "nem_default" in path.name else _nothing():
        ds = soc_workspace.open_dataset(path)
    expected = REAL_KINDS.get(path.name, {})
    for variable, kind in expected.items():
        assert ds.soc.plot_kind(variable).kind == kind, variable
    default = ds.soc.plot_kind()
    model = render(ds.soc.quicklook(), f"real-{path.stem}")
    assert figures(model)
    if default.kind == "event list":
        by_y = {fig.yaxis[0].axis_label: fig for fig in figures(model)}
        histogram, light_curve = by_y["Events"], by_y["Event rate [counts/s]"]
        assert histogram.xaxis[0].axis_label == "atod [adu]"
        assert light_curve.yaxis[0].axis_label == "Event rate [counts/s]"
        (points,) = (len(next(iter(r.data_source.data.values()))) for r in light_curve.renderers)
        assert points >= 80  # 80-200 bins, also over a list shorter than a second
        counts = sum(r.data_source.data["top"].sum() for r in histogram.renderers)
        assert counts == ds.sizes["time"]  # every event is in the histogram
    if default.kind == "spectrum image":
        (fig,) = figures(model)
        assert (fig.xaxis[0].axis_label, fig.yaxis[0].axis_label) == ("energy_bin", "pixel")


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


@pytest.mark.parametrize(
    ("file", "variable", "message"),
    [
        ("hermes_nem_default_l1_20160322T123031_v0.0.1.cdf", "data_mask", "has no time axis"),
        ("hermes_eea_l1_20000101T170901_v1.0.0.cdf", "hermes_eea_accum", "has 4 dimensions"),
        ("hermes_eea_l1_20000101T170901_v1.0.0.cdf", "hermes_eea_flux", "no variable"),
    ],
)
def test_a_variable_that_cannot_be_drawn_is_named(shared_data, file, variable, message):
    path = next(shared_data.glob(f"*/*/*/{file}"))
    with pytest.warns() if "nem_default" in file else _nothing():
        ds = soc_workspace.open_dataset(path)
    with pytest.raises(QuicklookError, match=message) as raised:
        ds.soc.quicklook(variable)
    assert repr(variable) in str(raised.value)


def test_labels_are_not_plotted(demo_hour):
    ds = soc_workspace.open_dataset(demo_hour["nemisis"])
    with pytest.raises(QuicklookError, match=r"'hermes_nem_b_gse_label' holds .* not numbers"):
        ds.soc.quicklook("hermes_nem_b_gse_label")


@pytest.mark.parametrize(
    "path", shared_files("*.cdf") + shared_files("*.fits"), ids=lambda p: p.name
)
def test_the_lab_panel_draws_what_the_notebook_draws(shared_data, path):
    """The JupyterLab panel's PNG (matplotlib, in the server) follows the same rules."""
    import matplotlib.image
    from soc_workspace_lab.quicklook import choices, draw_png

    with pytest.warns() if "nem_default" in path.name else _nothing():
        ds = soc_workspace.open_dataset(path)
    found = choices(ds)
    for variable, kind in REAL_KINDS.get(path.name, {}).items():
        assert found[variable].kind == kind, variable
    default = ds.soc.plot_kind()
    drawn = [default.variable] + [n for n in REAL_KINDS.get(path.name, {}) if n in found]
    for variable in dict.fromkeys(drawn):
        png = draw_png(ds, variable if variable != default.variable else None, path.name)
        (artifacts_dir("quicklook") / f"lab-{path.stem}-{variable}.png").write_bytes(png)
        image = matplotlib.image.imread(io.BytesIO(png), format="png")
        assert image.shape[:2] == (400, 800)
        assert image[..., :3].std() > 0.05, variable  # a drawing, not a blank canvas
