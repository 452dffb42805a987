"""Review a rerun against the archive: what a candidate calibration would change, and by how much.

After ``soc-workspace rerun --environment CANDIDATE --compare --start ... --stop ...``,
:func:`review` reads the run's table (``summary.csv``) and compares every product that is not
identical to its archived product again, value by value, to say for each changed variable in
how many files, records and values it changed, the largest absolute and relative differences,
a histogram of the relative differences, and where the largest change is (file, record) so
that it can be plotted.

>>> result = review("20250601T120000-1a2b3c")  # doctest: +SKIP
>>> result.variables  # doctest: +SKIP
          variable  files  records  values  ...  max_abs_diff  max_rel_diff
0  hermes_eea_rate     30     7200  244800  ...         312.5          0.25
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..config import Settings, current_settings
from .comparison import opened, report_for
from .inputs import url_to_fs
from .outputs import archived_url, run_location

# Edges of the relative-difference histogram: below 1e-16, half decades up to 1e4, larger
# (infinite relative differences, where the archived value is 0, count as larger).
REL_EDGES = np.concatenate([[0.0], 10.0 ** np.arange(-16, 4.5, 0.5), [np.finfo(float).max]])
VERDICTS = ("identical", "equivalent", "different", "not compared", "no archived product")


@dataclass
class Largest:
    """Where a variable changed most: which product, which record, by how much."""

    product: str
    archived: str
    record: int | None
    abs_diff: float
    rerun_value: float
    archived_value: float


@dataclass
class Review:
    """What a rerun changed against the archive.

    ``files``: one row per input (status, verdict, products). ``variables``: one row per
    variable that changed anywhere: files, records and values changed, values compared, max
    absolute and relative difference, and ``structure`` (added, removed, shape, unit or type
    changes). ``attributes``: attribute differences that count, with the files they are in.
    ``histograms``: per variable, counts of the changed values' relative differences in
    :data:`REL_EDGES` bins.
    """

    run_id: str
    run_url: str
    files: pd.DataFrame
    variables: pd.DataFrame
    attributes: pd.DataFrame
    histograms: dict[str, np.ndarray] = field(default_factory=dict)
    largest: dict[str, Largest] = field(default_factory=dict)
    environment: dict[str, Any] = field(default_factory=dict)

    @property
    def verdicts(self) -> dict[str, int]:
        """Files per verdict (``failed`` and ``no product`` for files without a comparison)."""
        return {k: int(v) for k, v in self.files["verdict"].value_counts().items()}

    @property
    def changed(self) -> list[str]:
        """The variables that changed in at least one file."""
        return self.variables["variable"].tolist()

    def to_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "run_url": self.run_url,
            "environment": self.environment,
            "files": len(self.files),
            "verdicts": self.verdicts,
            "variables": _records(self.variables),
            "attributes": _records(self.attributes),
            "histograms": {
                k: {"rel_edges": REL_EDGES.tolist(), "counts": v.tolist()}
                for k, v in self.histograms.items()
            },
            "largest": {k: vars(v) for k, v in self.largest.items()},
            "failed": _records(self.files[self.files["verdict"] == "failed"]),
        }

    def summary(self) -> str:
        counts = ", ".join(f"{n} {v}" for v, n in sorted(self.verdicts.items()))
        changed = ", ".join(self.changed) or "nothing"
        return f"{len(self.files)} files ({counts}); changed: {changed}"

    def __str__(self) -> str:
        lines = [f"review of rerun {self.run_id} ({self.run_url})"]
        if self.environment.get("candidate"):
            c = self.environment["candidate"]
            lines.append(
                f"  environment {self.environment.get('name')}: candidate {c['package']} "
                f"from {c['source']} (the rest as {c['base']})"
            )
        lines.append(f"  {self.summary()}")
        for row in self.variables.itertuples():
            lines.append(f"  {row.variable}: {_describe(row)}")
        for row in self.attributes.itertuples():
            lines.append(f"  attribute {row.attribute} ({row.scope}) {row.change} in {row.files}")
        return "\n".join(lines)

    def __rich__(self) -> Any:
        from rich.console import Group
        from rich.table import Table

        head = f"[bold]review of rerun {self.run_id}[/]: {self.summary()}"
        verdicts = Table(title="files by verdict")
        verdicts.add_column("verdict")
        verdicts.add_column("files", justify="right")
        for verdict, n in sorted(self.verdicts.items()):
            verdicts.add_row(verdict, str(n))
        changed = Table(title="changed variables")
        for column in ("variable", "files", "records", "values", "max abs", "max rel", "other"):
            changed.add_column(column, overflow="fold")
        for row in self.variables.itertuples():
            changed.add_row(
                row.variable,
                str(row.files),
                str(row.records),
                f"{row.values}/{row.values_compared}",
                _g(row.max_abs_diff),
                _g(row.max_rel_diff),
                row.structure or "",
            )
        parts: list[Any] = [head, verdicts, changed]
        for name, counts in self.histograms.items():
            parts.append(f"{name}: relative differences {_text_histogram(counts)}")
        for name, where in self.largest.items():
            parts.append(
                f"{name}: largest change {_g(where.abs_diff)} in "
                f"{where.product.rsplit('/', 1)[-1]}, record {where.record} "
                f"({_g(where.archived_value)} -> {_g(where.rerun_value)})"
            )
        if len(self.attributes):
            attributes = Table(title="attribute differences (not ignored)")
            for column in ("scope", "attribute", "change", "files"):
                attributes.add_column(column, overflow="fold")
            for row in self.attributes.itertuples():
                attributes.add_row(row.scope, row.attribute, row.change, str(row.files))
            parts.append(attributes)
        failed = self.files[self.files["verdict"] == "failed"]
        if len(failed):
            errors = Table(title="failed files")
            errors.add_column("input", overflow="fold")
            errors.add_column("error", overflow="fold")
            for row in failed.itertuples():
                errors.add_row(str(row.input).rsplit("/", 1)[-1], str(row.error or ""))
            parts.append(errors)
        return Group(*parts)

    def _repr_html_(self) -> str:
        html = f"<p><b>review of rerun {self.run_id}</b>: {self.summary()}</p>"
        html += pd.Series(self.verdicts, name="files").to_frame().to_html()
        if len(self.variables):
            html += self.variables.to_html(index=False, na_rep="")
        if len(self.attributes):
            html += self.attributes.to_html(index=False)
        return html

    # -- plots ---------------------------------------------------------------------------

    def plot_histograms(self) -> Any:
        """One bar chart per changed variable: how many values changed by how much (relative)."""
        import matplotlib.pyplot as plt

        names = [n for n, c in self.histograms.items() if c.sum()]
        fig, axes = plt.subplots(len(names) or 1, 1, figsize=(9, 2.6 * max(len(names), 1)))
        for ax, name in zip(np.atleast_1d(axes), names, strict=False):
            counts = self.histograms[name]
            lower = np.log10(REL_EDGES[1:-2])  # the half decades between 1e-16 and 1e4
            ax.bar(lower + 0.25, counts[1:-1], width=0.45)
            ax.set_xlabel("log10 |rerun - archived| / |archived|")
            ax.set_ylabel("values")
            outside = [f"{counts[0]} below 1e-16"] if counts[0] else []
            outside += [f"{counts[-1]} beyond 1e4 or where archived is 0"] if counts[-1] else []
            extra = f" ({', '.join(outside)})" if outside else ""
            ax.set_title(f"{name}: {int(counts.sum())} values changed{extra}", fontsize=9)
        fig.tight_layout()
        return fig

    def plot_largest(self, n: int = 3, settings: Settings | None = None) -> Any:
        """The ``n`` variables that changed most: archived and rerun values of the file with
        the largest change, and their difference, around the record where it is."""
        import matplotlib.pyplot as plt

        settings = settings or current_settings()
        ranked = self.variables.sort_values("max_abs_diff", ascending=False, na_position="last")
        names = [v for v in ranked["variable"] if v in self.largest][:n]
        fig, axes = plt.subplots(
            len(names) or 1, 2, figsize=(12, 3.2 * max(len(names), 1)), squeeze=False
        )
        for (left, right), name in zip(axes, names, strict=False):
            where = self.largest[name]
            with opened(where.product, where.archived, settings) as (new, old):
                a = _per_record(new.variables[name].load())
                b = _per_record(old.variables[name].load())
            left.plot(b, label="archived", linewidth=3, alpha=0.5)
            left.plot(a, label="rerun", linestyle="--")
            left.set_title(f"{name} in {where.product.rsplit('/', 1)[-1]}", fontsize=9)
            left.set_xlabel("record")
            left.legend()
            right.plot(a - b)
            if where.record is not None:
                right.axvline(where.record, color="red", alpha=0.4)
            right.set_title(f"rerun - archived (largest: {_g(where.abs_diff)})", fontsize=9)
            right.set_xlabel("record")
        fig.tight_layout()
        return fig


def review(run: str, *, settings: Settings | None = None, progress: bool = False) -> Review:
    """Review the rerun ``run`` (a run id of yours, or the URL or path of a run folder).

    Every product whose verdict is not ``identical`` is compared again with its archived
    product, value by value.
    """
    settings = settings or current_settings()
    url = _run_url(run, settings)
    summary = _read_summary(url, settings)
    run_id = url.rstrip("/").rsplit("/", 1)[-1]
    files = _files(summary, settings)
    stats: dict[str, dict[str, Any]] = {}
    attributes: dict[tuple[str, str, str], set[str]] = {}
    histograms: dict[str, np.ndarray] = {}
    largest: dict[str, Largest] = {}
    pairs = [
        (product, archived)
        for row in files.itertuples()
        if row.verdict in ("different", "equivalent")
        for product, archived in zip(row.products, row.archived, strict=False)
        if archived
    ]
    from tqdm.auto import tqdm

    for product, archived in tqdm(pairs, desc=f"review {run_id}", disable=not progress):
        _review_pair(product, archived, settings, stats, attributes, histograms, largest)
    variables = pd.DataFrame(
        [{"variable": name, **values} for name, values in stats.items()],
        columns=[
            "variable",
            "files",
            "records",
            "values",
            "values_compared",
            "max_abs_diff",
            "max_rel_diff",
            "structure",
        ],
    )
    attribute_table = pd.DataFrame(
        [
            {"scope": s, "attribute": a, "change": c, "files": len(f)}
            for (s, a, c), f in sorted(attributes.items())
        ],
        columns=["scope", "attribute", "change", "files"],
    )
    return Review(
        run_id=run_id,
        run_url=url,
        files=files,
        variables=variables,
        attributes=attribute_table,
        histograms=histograms,
        largest=largest,
        environment=_environment(files, settings),
    )


def _run_url(run: str, settings: Settings) -> str:
    if "://" in run or os.sep in run or run.startswith("."):
        return run.rstrip("/")
    return run_location(run, settings=settings).url


def _read_summary(url: str, settings: Settings) -> pd.DataFrame:
    fs, path = url_to_fs(f"{url}/summary.csv", settings)
    try:
        with fs.open(path, "rb") as stream:
            return pd.read_csv(stream, keep_default_na=False, na_values=[""])
    except FileNotFoundError:
        raise FileNotFoundError(
            f"no rerun at {url}: its summary.csv is missing (a run id of yours, as "
            "`soc-workspace rerun` prints it, or the URL of a run folder)"
        ) from None


def _files(summary: pd.DataFrame, settings: Settings) -> pd.DataFrame:
    rows = []
    for row in summary.to_dict(orient="records"):
        products = _list(row.get("products"))
        archived = _list(row.get("archived")) if "archived" in row else []
        if "archived" not in row:  # a rerun without --compare: the archive by name
            archived = [_try_archived(p, settings) for p in products]
        if row["status"] == "failed":
            verdict = "failed"
        elif row["status"] == "no product":
            verdict = "no product"
        elif "verdict" in row and isinstance(row["verdict"], str):
            verdict = row["verdict"]
        else:
            verdict = "different"  # not compared at run time: review compares it now
        rows.append(
            {
                "input": row["input"],
                "status": row["status"],
                "verdict": verdict,
                "products": products,
                "archived": archived,
                "error": row.get("error") if isinstance(row.get("error"), str) else None,
                "provenance": row.get("provenance"),
            }
        )
    return pd.DataFrame(
        rows, columns=["input", "status", "verdict", "products", "archived", "error", "provenance"]
    )


def _review_pair(
    product: str,
    archived: str,
    settings: Settings,
    stats: dict[str, dict[str, Any]],
    attributes: dict[tuple[str, str, str], set[str]],
    histograms: dict[str, np.ndarray],
    largest: dict[str, Largest],
) -> None:
    name = product.rsplit("/", 1)[-1]
    with opened(product, archived, settings) as (new, old):
        report = report_for(new, old, settings.calibration.ignore_attributes)
        for row in report.attribute_differences.itertuples():
            attributes.setdefault((row.scope, row.attribute, row.change), set()).add(name)
        for row in report.variables.itertuples():
            if row.status == "identical":
                continue
            entry = stats.setdefault(
                row.variable,
                {
                    "files": 0,
                    "records": 0,
                    "values": 0,
                    "values_compared": 0,
                    "max_abs_diff": np.nan,
                    "max_rel_diff": np.nan,
                    "structure": "",
                },
            )
            entry["files"] += 1
            if row.status in ("added", "removed") or pd.isna(row.n_values):
                what = row.status if row.status in ("added", "removed") else _structure(row)
                entry["structure"] = _join(entry["structure"], what)
                continue
            x = np.asarray(new.variables[row.variable].load())
            y = np.asarray(old.variables[row.variable].load())
            entry["values_compared"] += int(x.size)
            for found in _changes(x, y):
                records, values, abs_diff, rel, record, at = found
                entry["records"] += records
                entry["values"] += values
                entry["max_abs_diff"] = np.nanmax([entry["max_abs_diff"], abs_diff.max()])
                finite = rel[np.isfinite(rel)]
                if finite.size:
                    entry["max_rel_diff"] = np.nanmax([entry["max_rel_diff"], finite.max()])
                clipped = np.where(np.isfinite(rel), rel, REL_EDGES[-1])
                counts, _ = np.histogram(clipped, bins=REL_EDGES)
                histograms[row.variable] = histograms.get(row.variable, 0) + counts
                best = largest.get(row.variable)
                if best is None or abs_diff.max() > best.abs_diff:
                    largest[row.variable] = Largest(
                        product=product,
                        archived=archived,
                        record=record,
                        abs_diff=float(abs_diff.max()),
                        rerun_value=float(x.ravel()[at]),
                        archived_value=float(y.ravel()[at]),
                    )
            if row.dtype_rerun != row.dtype_archived:
                entry["structure"] = _join(
                    entry["structure"], f"type {row.dtype_archived} -> {row.dtype_rerun}"
                )


def _changes(x: np.ndarray, y: np.ndarray) -> Iterator[tuple]:
    """For numeric values that differ: records, values, |diff|, rel diff, record and flat index
    of the largest difference (nothing when none differs)."""
    if x.dtype.kind not in "iufb" or y.dtype.kind not in "iufb":
        differs = np.array([a != b for a, b in zip(x.ravel(), y.ravel(), strict=True)])
        if differs.any():
            n = int(differs.sum())
            records = _records_changed(differs.reshape(x.shape))
            inf = np.full(n, np.inf)
            yield records, n, inf, inf, None, int(np.argmax(differs))
        return
    xf, yf = x.astype(np.float64), y.astype(np.float64)
    both_nan = np.isnan(xf) & np.isnan(yf)
    diff = np.where(both_nan, 0.0, np.abs(xf - yf))
    diff = np.where(np.isnan(diff), np.inf, diff)
    differs = diff != 0
    if not differs.any():
        return
    d, r = diff[differs], np.abs(yf)[differs]
    with np.errstate(divide="ignore", invalid="ignore"):
        rel = np.where(r > 0, d / r, np.inf)
    at = int(np.argmax(np.where(differs, diff, -1).ravel()))
    record = int(np.unravel_index(at, x.shape)[0]) if x.ndim else None
    yield _records_changed(differs), int(differs.sum()), d, rel, record, at


def _records_changed(differs: np.ndarray) -> int:
    if differs.ndim == 0:
        return int(bool(differs))
    return int(differs.reshape(differs.shape[0], -1).any(axis=1).sum())


def _per_record(values: np.ndarray) -> np.ndarray:
    values = np.asarray(values, dtype=np.float64)
    return values.reshape(values.shape[0], -1).sum(axis=1) if values.ndim > 1 else values


def _structure(row: Any) -> str:
    parts = []
    if row.shape_rerun != row.shape_archived:
        parts.append(f"shape {row.shape_archived} -> {row.shape_rerun}")
    if row.unit_rerun != row.unit_archived:
        parts.append(f"unit {row.unit_archived!r} -> {row.unit_rerun!r}")
    if "->" in str(row.kind):
        parts.append(f"kind {row.kind}")
    return ", ".join(parts) or "changed"


def _join(old: str, new: str) -> str:
    return old if new in old.split("; ") else "; ".join(p for p in (old, new) if p)


def _environment(files: pd.DataFrame, settings: Settings) -> dict[str, Any]:
    """The environment the run used (from the first file's provenance record)."""
    for url in files["provenance"].dropna():
        try:
            fs, path = url_to_fs(str(url), settings)
            record = json.loads(fs.cat_file(path))
        except (OSError, ValueError):
            continue
        env = record.get("environment", {})
        return {
            "name": env.get("name"),
            "candidate": env.get("candidate"),
            "package": record.get("package"),
            "package_version": record.get("package_version"),
        }
    return {}


def _try_archived(product: str, settings: Settings) -> str | None:
    try:
        return archived_url(product, settings)
    except ValueError:
        return None


def _list(value: Any) -> list[str]:
    if isinstance(value, list):
        return value
    if not isinstance(value, str) or not value:
        return []
    try:
        parsed = json.loads(value)
    except ValueError:
        return [value]
    return [v for v in parsed] if isinstance(parsed, list) else [str(parsed)]


def _records(table: pd.DataFrame) -> list[dict[str, Any]]:
    return json.loads(table.to_json(orient="records", default_handler=str))


def _describe(row: Any) -> str:
    text = (
        f"{row.files} file(s), {row.records} record(s), {row.values} of "
        f"{row.values_compared} values changed"
    )
    if not pd.isna(row.max_abs_diff):
        text += f", max abs {_g(row.max_abs_diff)}, max rel {_g(row.max_rel_diff)}"
    return text + (f"; {row.structure}" if row.structure else "")


def _g(value: Any) -> str:
    return "" if value is None or pd.isna(value) else f"{value:.3g}"


def _text_histogram(counts: np.ndarray) -> str:
    """A one-line histogram: the decades where changed values fall."""
    bars = " ▁▂▃▄▅▆▇█"
    top = counts.max() or 1
    used = np.nonzero(counts)[0]
    if not used.size:
        return "(none)"
    lo, hi = used.min(), used.max()
    line = "".join(bars[max(1, round(8 * c / top)) if c else 0] for c in counts[lo : hi + 1])
    left = "0" if lo == 0 else f"1e{np.log10(REL_EDGES[lo]):.1f}"
    right = "inf" if hi + 1 >= len(REL_EDGES) - 1 else f"1e{np.log10(REL_EDGES[hi + 1]):.1f}"
    return f"{left} |{line}| {right}"
