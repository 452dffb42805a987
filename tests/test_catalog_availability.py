"""What data exist: ``availability`` and ``soc-workspace catalog availability`` against a full
listing of a store of demo data (the test lists; availability reads only the index), and its
arithmetic against a plain second computation."""

from __future__ import annotations

import io
import itertools
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import s3fs
from click.testing import CliRunner
from conftest import operator_environment, serve_store

from soc_workspace.catalog import (
    CatalogError,
    availability,
    clear_cache,
    dataset_for,
    search,
    update,
)
from soc_workspace.catalog.coverage import _covered
from soc_workspace.catalog.datasets import version_key
from soc_workspace.cli import cli
from soc_workspace.missions import parse_key

FIRST = datetime(2025, 6, 1, tzinfo=UTC)
BUCKETS = ("hermes-merit", "padre-meddea")


# -- the arithmetic ------------------------------------------------------------------------------


def _covered_slowly(spans, edges):
    """The covered fraction of each period, one millisecond-exact interval at a time."""
    out = []
    for lo, hi in itertools.pairwise(edges):
        pieces = sorted((max(a, lo), min(b, hi)) for a, b in spans if min(b, hi) > max(a, lo))
        total, reach = 0, lo
        for a, b in pieces:
            a = max(a, reach)
            if b > a:
                total, reach = total + b - a, b
        out.append(total / (hi - lo))
    return out


@pytest.mark.parametrize("seed", range(20))
def test_covered_fraction_is_the_union_of_file_spans(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(0, 40))
    start = np.sort(rng.integers(0, 10_000, n))
    stop = start + rng.integers(0, 1_500, n)  # overlapping, nested and zero-length spans
    edges = np.arange(-1_000, 12_001, int(rng.integers(300, 3000)))
    ours = _covered(start, stop, edges, int(edges[0]), int(edges[-1]))
    assert np.allclose(ours, _covered_slowly(list(zip(start, stop, strict=True)), edges))


# -- against a listing of a store of demo data ---------------------------------------------------


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory):
    """A store process with two days of demo MERIT and MeDDEA data and their index."""
    from soc_workspace.demo import write_demo_data

    proc, info = serve_store(tmp_path_factory.mktemp("availability-store"))
    with operator_environment(info, tmp_path_factory.mktemp("cache")):
        write_demo_data(days=2, start=FIRST.date(), instruments=["merit", "meddea"], progress=False)
        yield s3fs.S3FileSystem(**info, skip_instance_cache=True)
    proc.terminate()
    proc.wait(timeout=20)


def _listed(fs) -> pd.DataFrame:
    """Every data object of the buckets, newest version of each file: dataset, start, size."""
    rows = {}
    for bucket in BUCKETS:
        for path, detail in fs.find(bucket, detail=True, refresh=True).items():
            key = path.split("/", 1)[1]
            if key == "catalog.json" or key.startswith("catalog/"):
                continue
            parsed = parse_key(key)
            identity = (dataset_for(parsed).id, parsed.file.time)
            version = parsed.file.version
            known = rows.get(identity)
            if known is None or version_key(version) > version_key(known[0]):
                rows[identity] = (version, detail["size"])
    return pd.DataFrame(
        [(d, pd.Timestamp(t), v, s) for (d, t), (v, s) in rows.items()],
        columns=["dataset", "start", "version", "size"],
    )


def _expected(listed: pd.DataFrame, start: datetime, stop: datetime, freq: str) -> pd.DataFrame:
    """Files, bytes and newest version per dataset and period, from the listing."""
    inside = listed[(listed["start"] >= start) & (listed["start"] < stop)]
    periods = pd.date_range(start, stop, freq=freq, inclusive="left")
    rows = []
    for dataset in sorted(listed["dataset"].unique()):
        mine = inside[inside["dataset"] == dataset]
        for p in periods:
            files = mine[
                (mine["start"] >= p) & (mine["start"] < p + pd.tseries.frequencies.to_offset(freq))
            ]
            versions = [v for v in files["version"] if isinstance(v, str)]  # raw: none
            newest = max(versions, key=version_key) if versions else None
            rows.append((dataset, p, len(files), int(files["size"].sum()), newest))
    return pd.DataFrame(rows, columns=["dataset", "period", "files", "bytes", "newest_version"])


def _compare(table: pd.DataFrame, expected: pd.DataFrame) -> None:
    columns = ["dataset", "period", "files", "bytes", "newest_version"]
    got = table[columns].reset_index(drop=True).astype({"files": "int64", "bytes": "int64"})
    for frame in (got, expected):  # no version: None, whichever way pandas wrote it
        frame["newest_version"] = [v if isinstance(v, str) else None for v in frame[columns[4]]]
    pd.testing.assert_frame_equal(got.astype(object), expected.astype(object), check_dtype=False)


@pytest.mark.integration
@pytest.mark.parametrize(
    ("start", "stop", "freq"),
    [
        (FIRST, FIRST + timedelta(days=3), "1D"),  # the last day: no files
        (FIRST - timedelta(days=1), FIRST + timedelta(days=1), "6h"),  # a day before: none
        (FIRST, FIRST + timedelta(hours=6), "1h"),  # the reprocessed hours 02 and 03
    ],
)
def test_availability_agrees_with_a_listing(demo_store, start, stop, freq):
    expected = _expected(_listed(demo_store), start, stop, freq)
    table = availability(start=start, stop=stop, freq=freq)
    _compare(table, expected)
    assert table.attrs["freq"] == freq
    # files cover their periods; after the data, and before it, nothing is covered
    assert (table.loc[table["files"] > 0, "covered"] > 0).all()
    outside = (table["period"] >= FIRST + timedelta(days=2)) | (table["period"] < FIRST)
    # at most the end of a day's last file (a range inside the data has no such period)
    assert (table.loc[outside, "covered"] < 0.01).all()
    hourly = table[table["dataset"].str.startswith("hermes_merit")]
    assert set(hourly.loc[hourly["files"] > 0, "covered"].round(6)) == {1.0}


@pytest.mark.integration
def test_the_command_prints_what_the_function_finds(demo_store):
    start, stop = FIRST, FIRST + timedelta(days=3)
    runner = CliRunner()
    args = ["catalog", "availability", "--start", "2025-06-01", "--stop", "2025-06-04"]
    csv = runner.invoke(cli, [*args, "--format", "csv"])
    assert csv.exit_code == 0, csv.output
    printed = pd.read_csv(io.StringIO(csv.output), dtype={"newest_version": str})
    printed["period"] = pd.to_datetime(printed["period"], utc=True)
    _compare(printed, _expected(_listed(demo_store), start, stop, "1D"))
    table = runner.invoke(cli, [*args, "-m", "hermes"], env={"COLUMNS": "120"})
    assert table.exit_code == 0, table.output
    line = next(
        row.rstrip() for row in table.output.splitlines() if row.startswith("hermes_merit_l1")
    )
    assert re.search(r"hermes_merit_l1\s+48\s+\S+ \S+\s+1\.0\.1\s+67%\s+██·$", line), line
    assert "padre" not in table.output
    wrong = runner.invoke(cli, ["catalog", "availability", "-i", "xyz"])
    assert wrong.exit_code != 0
    assert "unknown instrument 'xyz'" in str(wrong.exception or wrong.output)


@pytest.mark.integration
def test_a_removed_hour_is_a_gap(demo_store):
    """Delete an hour's file and tell the index (as a delete event would): that hour is a
    gap, its day is 23/24 covered, and the listing agrees."""
    hour = FIRST + timedelta(days=1, hours=5)
    found = search("hermes", "merit", "l1", hour, hour + timedelta(hours=1))
    assert len(found) == 1
    key = found["url"].iloc[0].split("/", 3)[3]
    demo_store.rm(f"hermes-merit/{key}")
    update("hermes-merit", [key], progress=False)
    clear_cache()
    day = availability(
        "hermes", "merit", "l1", FIRST + timedelta(days=1), FIRST + timedelta(days=2)
    )
    assert day["files"].tolist() == [23]
    assert day["covered"].iloc[0] == pytest.approx(23 / 24)
    hours = availability(dataset="hermes_merit_l1", start=hour - timedelta(hours=1),
                         stop=hour + timedelta(hours=2), freq="1h")  # fmt: skip
    assert hours["files"].tolist() == [1, 0, 1]
    assert hours["covered"].tolist() == [1.0, 0.0, 1.0]
    expected = _expected(
        _listed(demo_store), hour - timedelta(hours=1), hour + timedelta(hours=2), "1h"
    )
    _compare(hours, expected[expected["dataset"] == "hermes_merit_l1"])


@pytest.mark.integration
def test_wrong_arguments_say_what_is_expected(demo_store):
    with pytest.raises(ValueError, match="freq='fortnightly' is not a period length"):
        availability(freq="fortnightly")
    with pytest.raises(ValueError, match="unknown instrument 'xyz'"):
        availability("hermes", "xyz")
    with pytest.raises(ValueError, match=r"stop .* is before start"):
        availability(start="2025-06-02", stop="2025-06-01")
    with pytest.raises(CatalogError, match="bucket 'hermes-eea' does not exist"):
        availability("hermes", "eea")  # as search says: no EEA bucket in this store
    empty = availability("hermes", "merit", "l2")  # no such dataset: nothing to count
    assert empty.empty
    assert list(empty.columns) == [
        "dataset",
        "period",
        "files",
        "bytes",
        "covered",
        "newest_version",
    ]


@pytest.mark.integration
def test_the_plot_is_a_strip_per_dataset_with_hover(demo_store):
    import holoviews as hv

    table = availability(start=FIRST, stop=FIRST + timedelta(days=3), freq="6h")
    element = table.plot()
    assert isinstance(element, hv.Rectangles)
    assert len(element) == len(table)
    model = hv.render(element, backend="bokeh")
    ticks = model.yaxis[0].major_label_overrides
    assert sorted(ticks.values()) == sorted(table["dataset"].unique())
    hover = next(t for t in model.tools if type(t).__name__ == "HoverTool")
    assert ("files", "@{files}") in hover.tooltips
    # empty periods fall below the colour range and are drawn grey: the gaps
    mapper = model.renderers[0].glyph.fill_color["transform"]
    assert mapper.low > 0
    assert mapper.low_color == "#d9d9d9"
    assert table.head(3).plot() is not None  # a part of the table draws too


# -- the template ------------------------------------------------------------------------------

TEMPLATE = Path(__file__).parents[1] / "notebooks" / "templates" / "data-availability.ipynb"


def _run_template(tmp_path: Path, **parameters) -> str:
    """Execute the template with papermill (a real kernel); all its text output."""
    import nbformat
    import papermill

    out = tmp_path / "run.ipynb"
    papermill.execute_notebook(
        str(TEMPLATE), str(out), parameters=parameters, kernel_name="python3", progress_bar=False
    )
    text = []
    for cell in nbformat.read(out, as_version=4).cells:
        for output in cell.get("outputs", []):
            text.append(output.get("text", ""))
            text += [str(v) for k, v in output.get("data", {}).items() if k == "text/plain"]
    return "\n".join(text)


@pytest.mark.integration
def test_the_template_runs_with_its_defaults(demo_store, tmp_path):
    from papermill import inspect_notebook

    assert set(inspect_notebook(str(TEMPLATE))) == {
        "mission", "instrument", "level", "start", "stop", "freq"
    }  # fmt: skip
    text = _run_template(tmp_path)
    assert "hermes_merit_l1" in text  # the summary, and the files of the best covered dataset
    clear_cache()
    files = search(dataset="hermes_merit_l1", start="2025-06-01", stop="2025-06-03")
    assert f"{len(files)} files of hermes_merit_l1 in [2025-06-01, 2025-06-03)" in text
    assert "Rectangles" in text  # the heat strip


@pytest.mark.integration
@pytest.mark.parametrize(
    ("parameters", "said"),
    [
        ({"instrument": "xyz"}, "No availability for these parameters: unknown instrument 'xyz'"),
        ({"freq": "fortnightly"}, "freq='fortnightly' is not a period length"),
        ({"start": "2025-06-03", "stop": "2025-06-01"}, "is before start"),
        ({"mission": "padre", "level": "l3"}, "No padre  l3 data in the catalog."),
    ],
)
def test_a_wrong_parameter_is_one_message(demo_store, tmp_path, parameters, said):
    text = _run_template(tmp_path, **parameters)
    assert said in text
    assert "Traceback" not in text
