"""Compare a rerun's product with the product the pipeline archived (CDF or FITS).

Both files are read at the level the missions write them (cdflib for CDF variables and
attributes, astropy for FITS HDUs, columns and header cards), so a change of type, shape or
unit is seen as such, not hidden by a conversion. Attributes that change on every run
(generation dates, software versions, checksums) are listed but ignored; the list is the
setting ``calibration.ignore_attributes``.

Verdicts:

- ``identical``: same variables, shapes, types, units and values (NaN equals NaN), and no
  attribute differences outside the ignored ones;
- ``equivalent``: only value differences within the tolerances (``rtol``, ``atol``) or type
  changes that keep every value;
- ``different``: anything else: a variable added or removed, a shape or unit changed, values
  beyond the tolerances, an attribute that is not ignored.

>>> report = compare("rerun/hermes_eea_l1_...cdf", "s3://hermes-eea/l1/...cdf")  # doctest: +SKIP
>>> report.verdict, report.different  # doctest: +SKIP
('different', ['hermes_eea_accum'])
"""

from __future__ import annotations

import fnmatch
import os
import re
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from ..config import Settings, current_settings
from ..io.errors import SOCDataError
from ..io.formats import HEAD_BYTES, detect_format

Verdict = Literal["identical", "equivalent", "different"]

# FITS cards that describe layout; types, shapes and units are compared on the data instead.
_FITS_LAYOUT = {
    "SIMPLE",
    "BITPIX",
    "NAXIS",
    "EXTEND",
    "PCOUNT",
    "GCOUNT",
    "TFIELDS",
    "XTENSION",
    "EXTNAME",
    "EXTVER",
    "BSCALE",
    "BZERO",
    "BUNIT",
    "THEAP",
}
_FITS_COLUMN_LAYOUT = {"TTYPE", "TFORM", "TUNIT", "TZERO", "TSCAL", "TDIM"}
_INDEXED = re.compile(r"^([A-Z]+?)(\d+)$")


@dataclass
class _Variable:
    name: str
    kind: str  # "variable" (CDF), "column" or "image" (FITS)
    dtype: str
    unit: str | None
    load: Callable[[], np.ndarray]
    attrs: dict[str, Any] = field(default_factory=dict)


@dataclass
class _Product:
    path: str
    format: str
    variables: dict[str, _Variable]
    attributes: dict[str, dict[str, Any]]  # scope ("global", an HDU) -> attributes


@dataclass
class Report:
    """The differences between a rerun product and an archived one.

    ``variables`` has one row per variable (CDF) or column/image (FITS ``HDU.column``):
    status, shapes, types, units, how many values differ and by how much. ``attributes``
    has one row per differing attribute, ``ignored`` marking those that do not count.
    """

    rerun: str
    archived: str
    format: str
    verdict: Verdict
    variables: pd.DataFrame
    attributes: pd.DataFrame
    rtol: float = 0.0
    atol: float = 0.0

    def _names(self, status: str) -> list[str]:
        return self.variables.loc[self.variables["status"] == status, "variable"].tolist()

    @property
    def added(self) -> list[str]:
        """Variables in the rerun product only."""
        return self._names("added")

    @property
    def removed(self) -> list[str]:
        """Variables in the archived product only."""
        return self._names("removed")

    @property
    def different(self) -> list[str]:
        """Variables present in both that differ (shape, unit or values)."""
        return self._names("different")

    @property
    def attribute_differences(self) -> pd.DataFrame:
        """The attribute differences that count (not ignored)."""
        return self.attributes[~self.attributes["ignored"]]

    def to_dataframe(self) -> pd.DataFrame:
        """One row per variable (a copy of ``variables``)."""
        return self.variables.copy()

    def to_dataset(self) -> Any:
        """The per-variable table as an xarray Dataset along a ``variable`` dimension."""
        import xarray as xr

        table = self.variables.set_index("variable").astype(
            {c: str for c in ("shape_rerun", "shape_archived")}
        )
        ds = xr.Dataset.from_dataframe(table)
        ds.attrs.update(rerun=self.rerun, archived=self.archived, verdict=self.verdict)
        return ds

    def summary(self) -> str:
        """One line: the verdict and what makes it."""
        parts = []
        if self.added:
            parts.append(f"added {', '.join(self.added)}")
        if self.removed:
            parts.append(f"removed {', '.join(self.removed)}")
        for row in self.variables.itertuples():
            if row.status == "different":
                parts.append(f"{row.variable}: {_why(row)}")
        counted = self.attribute_differences
        if len(counted):
            names = sorted({f"{r.attribute} ({r.scope})" for r in counted.itertuples()})
            parts.append(f"attributes {', '.join(names[:8])}{' ...' if len(names) > 8 else ''}")
        equivalent = self._names("equivalent")
        if equivalent and self.verdict != "different":
            parts.append(f"equivalent: {', '.join(equivalent)}")
        ignored = int(self.attributes["ignored"].sum())
        if ignored:
            parts.append(f"{ignored} ignored attribute difference(s)")
        return f"{self.verdict}" + (f": {'; '.join(parts)}" if parts else "")

    def __str__(self) -> str:
        lines = [
            f"{self.verdict.upper()}: {Path(self.rerun).name} (rerun) vs "
            f"{self.archived} (archived), {self.format.upper()}",
            f"  {len(self.variables)} variables: "
            + ", ".join(
                f"{n} {s}" for s, n in self.variables["status"].value_counts().sort_index().items()
            ),
        ]
        for row in self.variables.itertuples():
            if row.status in ("added", "removed"):
                lines.append(f"  {row.status} {row.variable}")
            elif row.status != "identical":
                lines.append(f"  {row.status} {row.variable}: {_why(row)}")
        for row in self.attributes.itertuples():
            mark = "ignored " if row.ignored else ""
            lines.append(
                f"  {mark}attribute {row.attribute} ({row.scope}) {row.change}: "
                f"{_short(row.archived)} -> {_short(row.rerun)}"
            )
        return "\n".join(lines)

    def __rich__(self) -> Any:
        from rich.console import Group
        from rich.table import Table

        colour = {"identical": "green", "equivalent": "yellow", "different": "red"}[self.verdict]
        variables = Table(title="variables", show_lines=False)
        for column in (
            "variable",
            "status",
            "shape",
            "dtype",
            "unit",
            "differ",
            "max abs",
            "max rel",
        ):
            variables.add_column(column)
        for row in self.variables.itertuples():
            variables.add_row(
                row.variable,
                row.status,
                _pair(row.shape_archived, row.shape_rerun),
                _pair(row.dtype_archived, row.dtype_rerun),
                _pair(row.unit_archived, row.unit_rerun),
                "" if pd.isna(row.n_different) else f"{int(row.n_different)}/{int(row.n_values)}",
                "" if pd.isna(row.max_abs_diff) else f"{row.max_abs_diff:.3g}",
                "" if pd.isna(row.max_rel_diff) else f"{row.max_rel_diff:.3g}",
            )
        attributes = Table(title="attribute differences")
        for column in ("scope", "attribute", "change", "archived", "rerun", "ignored"):
            attributes.add_column(column)
        for row in self.attributes.itertuples():
            attributes.add_row(
                row.scope,
                row.attribute,
                row.change,
                _short(row.archived),
                _short(row.rerun),
                "yes" if row.ignored else "",
            )
        head = f"[bold {colour}]{self.verdict.upper()}[/]: {self.summary()}"
        return Group(head, variables, attributes)

    def _repr_html_(self) -> str:
        colour = {"identical": "green", "equivalent": "darkorange", "different": "red"}
        head = (
            f"<p><b style='color:{colour[self.verdict]}'>{self.verdict.upper()}</b>: "
            f"{_escape(self.summary())}</p>"
        )
        changed = self.variables[self.variables["status"] != "identical"]
        html = head
        if len(changed):
            html += changed.to_html(index=False, na_rep="")
        if len(self.attributes):
            html += self.attributes.to_html(index=False)
        return html


def compare(
    rerun_output: str | os.PathLike[str],
    archived_product: str | os.PathLike[str] | None = None,
    *,
    ignore_attributes: Sequence[str] | None = None,
    also_ignore: Sequence[str] = (),
    rtol: float = 0.0,
    atol: float = 0.0,
    settings: Settings | None = None,
) -> Report:
    """Compare a rerun's product with the archived product (paths or URLs, CDF or FITS).

    Parameters
    ----------
    rerun_output, archived_product
        Local paths or URLs (``s3://`` through the store settings). Without
        ``archived_product``, the pipeline's product of the same name (:func:`archived_url`).
    ignore_attributes
        Glob patterns (any case) of attributes not counted; default: the setting
        ``calibration.ignore_attributes`` (every ``*_version``, ``*generat*`` and
        ``*software*`` attribute, FITS dates, checksums and provenance keywords).
    also_ignore
        Patterns ignored on top of those.
    rtol, atol
        Value differences with ``|rerun - archived| <= atol + rtol * |archived|`` make a
        variable ``equivalent`` rather than ``different``.
    """
    settings = settings or current_settings()
    if archived_product is None:
        from .outputs import archived_url

        archived_product = archived_url(os.fspath(rerun_output), settings)
    patterns = [
        *(
            settings.calibration.ignore_attributes
            if ignore_attributes is None
            else ignore_attributes
        ),
        *also_ignore,
    ]
    with opened(rerun_output, archived_product, settings) as (new, old):
        return report_for(new, old, patterns, rtol, atol)


@contextmanager
def opened(
    rerun_output: str | os.PathLike[str],
    archived_product: str | os.PathLike[str],
    settings: Settings,
) -> Iterator[tuple[_Product, _Product]]:
    """Both products, read as the missions write them (fetched once into a temporary folder)."""
    with ExitStack() as stack:
        new = stack.enter_context(_open(rerun_output, settings))
        old = stack.enter_context(_open(archived_product, settings))
        if new.format != old.format:
            raise SOCDataError(
                str(rerun_output),
                f"cannot compare a {new.format.upper()} file with a "
                f"{old.format.upper()} file ({archived_product})",
            )
        yield new, old


def report_for(
    new: _Product, old: _Product, patterns: Sequence[str], rtol: float = 0.0, atol: float = 0.0
) -> Report:
    """The comparison of two opened products (see :func:`compare`)."""
    rows = [_compare_variable(name, new, old, rtol, atol) for name in _union(new, old)]
    attributes = _compare_attributes(new, old, patterns)
    variables = pd.DataFrame(rows, columns=_VARIABLE_COLUMNS)
    # bool even when empty: an empty object column would select columns, not rows
    attribute_table = pd.DataFrame(attributes, columns=_ATTRIBUTE_COLUMNS).astype({"ignored": bool})
    statuses = set(variables["status"])
    if statuses & {"added", "removed", "different"} or (~attribute_table["ignored"]).any():
        verdict: Verdict = "different"
    elif "equivalent" in statuses:
        verdict = "equivalent"
    else:
        verdict = "identical"
    return Report(
        rerun=new.path,
        archived=old.path,
        format=new.format,
        verdict=verdict,
        variables=variables,
        attributes=attribute_table,
        rtol=rtol,
        atol=atol,
    )


_VARIABLE_COLUMNS = [
    "variable",
    "status",
    "kind",
    "shape_rerun",
    "shape_archived",
    "dtype_rerun",
    "dtype_archived",
    "unit_rerun",
    "unit_archived",
    "n_values",
    "n_different",
    "max_abs_diff",
    "max_rel_diff",
]
_ATTRIBUTE_COLUMNS = ["scope", "attribute", "change", "rerun", "archived", "ignored"]
_ABSENT = "(absent)"


def _union(new: _Product, old: _Product) -> list[str]:
    return list(new.variables) + [n for n in old.variables if n not in new.variables]


def _compare_variable(
    name: str, new: _Product, old: _Product, rtol: float, atol: float
) -> dict[str, Any]:
    a, b = new.variables.get(name), old.variables.get(name)
    row: dict[str, Any] = dict.fromkeys(_VARIABLE_COLUMNS)
    row["variable"] = name
    if a is None or b is None:
        present = a or b
        assert present is not None
        data = present.load()
        side = "rerun" if a is not None else "archived"
        row.update(status="added" if a is not None else "removed", kind=present.kind)
        row[f"shape_{side}"], row[f"dtype_{side}"] = tuple(data.shape), present.dtype
        row[f"unit_{side}"] = present.unit
        return row
    x, y = a.load(), b.load()
    row.update(
        kind=a.kind if a.kind == b.kind else f"{b.kind} -> {a.kind}",
        shape_rerun=tuple(x.shape),
        shape_archived=tuple(y.shape),
        dtype_rerun=a.dtype,
        dtype_archived=b.dtype,
        unit_rerun=a.unit,
        unit_archived=b.unit,
    )
    if a.kind != b.kind or x.shape != y.shape or a.unit != b.unit:
        row["status"] = "different"
        return row
    n_diff, max_abs, max_rel, within = _value_differences(x, y, rtol, atol)
    row.update(n_values=int(x.size), n_different=n_diff, max_abs_diff=max_abs, max_rel_diff=max_rel)
    if n_diff and not within:
        row["status"] = "different"
    elif n_diff or a.dtype != b.dtype:
        row["status"] = "equivalent"
    else:
        row["status"] = "identical"
    return row


def _value_differences(
    x: np.ndarray, y: np.ndarray, rtol: float, atol: float
) -> tuple[int, float | None, float | None, bool]:
    """Count of differing values, max abs and rel difference, all within tolerance."""
    if x.dtype.kind in "iub" and y.dtype.kind in "iub":
        diff = np.abs(x.astype(np.int64) - y.astype(np.int64)).astype(np.float64)
        reference = np.abs(y.astype(np.float64))
        differs = diff != 0
    elif x.dtype.kind in "iufb" and y.dtype.kind in "iufb":
        xf, yf = x.astype(np.float64), y.astype(np.float64)
        both_nan = np.isnan(xf) & np.isnan(yf)
        diff = np.where(both_nan, 0.0, np.abs(xf - yf))
        diff = np.where(np.isnan(diff), np.inf, diff)  # NaN on one side only
        reference = np.abs(yf)
        differs = diff != 0
    else:
        differs = np.array([not _same(p, q) for p, q in zip(x.ravel(), y.ravel(), strict=True)])
        return int(differs.sum()), None, None, not differs.any()
    n = int(differs.sum())
    if not n:
        return 0, 0.0, 0.0, True
    d, r = diff[differs], reference[differs]
    with np.errstate(divide="ignore", invalid="ignore"):
        rel = np.where(r > 0, d / r, np.inf)
    within = bool(np.all(d <= atol + rtol * r))
    return n, float(d.max()), float(rel.max()), within


def _compare_attributes(
    new: _Product, old: _Product, patterns: Sequence[str]
) -> list[dict[str, Any]]:
    rows = []
    ignore = [p.lower() for p in patterns]
    scopes = list(new.attributes) + [s for s in old.attributes if s not in new.attributes]
    for scope in scopes:
        x, y = new.attributes.get(scope), old.attributes.get(scope)
        if x is None or y is None:
            continue  # a variable or HDU added or removed: its row says so
        for name in list(x) + [k for k in y if k not in x]:
            if name in x and name in y and _same(x[name], y[name]):
                continue
            change = "added" if name not in y else "removed" if name not in x else "changed"
            ignored = any(fnmatch.fnmatchcase(name.lower(), p) for p in ignore)
            rows.append(
                {
                    "scope": scope,
                    "attribute": name,
                    "change": change,
                    "ignored": ignored,
                    "rerun": x.get(name, _ABSENT),
                    "archived": y.get(name, _ABSENT),
                }
            )
    return rows


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, (list, tuple, np.ndarray)) or isinstance(b, (list, tuple, np.ndarray)):
        try:
            return bool(np.array_equal(np.asarray(a), np.asarray(b), equal_nan=True))
        except TypeError:
            return bool(np.array_equal(np.asarray(a), np.asarray(b)))
    if isinstance(a, float) and isinstance(b, float) and np.isnan(a) and np.isnan(b):
        return True
    return (bool(a == b) and type(a) is type(b)) or _plain_equal(a, b)


def _plain_equal(a: Any, b: Any) -> bool:
    # 3 and 3.0 are the same value; "3" and 3 are not.
    if isinstance(a, (int, float, np.number)) and isinstance(b, (int, float, np.number)):
        return bool(a == b)
    return False


# -- reading ---------------------------------------------------------------------------------


@contextmanager
def _open(location: str | os.PathLike[str], settings: Settings) -> Iterator[_Product]:
    text = os.fspath(location)
    with ExitStack() as stack:
        if "://" in text and not text.startswith("file://"):
            from ..store import url_to_fs

            fs, path = url_to_fs(text, settings)
            folder = stack.enter_context(tempfile.TemporaryDirectory(prefix="soc-compare-"))
            local = Path(folder) / text.rstrip("/").rsplit("/", 1)[-1]
            try:
                fs.get_file(path, str(local))
            except FileNotFoundError:
                raise FileNotFoundError(f"{text} does not exist") from None
        else:
            local = Path(text.removeprefix("file://"))
            if not local.is_file():
                raise FileNotFoundError(f"{local} does not exist")
        # The readers' own detection: a file is recognised, or refused with the same
        # SOCDataError, as open_dataset does.
        with open(local, "rb") as stream:
            head = stream.read(HEAD_BYTES)
        kind = detect_format(head, text, local.stat().st_size).name
        if kind == "cdf":
            yield _read_cdf(local, text)
        elif kind == "fits":
            yield stack.enter_context(_read_fits(local, text))
        else:
            raise SOCDataError(
                text, f"compare reads CDF and FITS products; this is a {kind.upper()} table"
            )


def _read_cdf(path: Path, label: str) -> _Product:
    import cdflib

    cdf = cdflib.CDF(str(path))
    info = cdf.cdf_info()
    variables = {}
    attributes: dict[str, dict[str, Any]] = {
        "global": {k: _plain(v) for k, v in cdf.globalattsget().items()}
    }
    for name in [*info.zVariables, *info.rVariables]:
        inquiry = cdf.varinq(name)
        attrs = {k: _plain(v) for k, v in cdf.varattsget(name).items()}
        unit = attrs.pop("UNITS", None)
        attributes[name] = attrs
        variables[name] = _Variable(
            name=name,
            kind="variable",
            dtype=inquiry.Data_Type_Description,
            unit=str(unit).strip() if unit is not None else "",
            load=lambda n=name, d=inquiry.Dim_Sizes: _cdf_values(cdf, n, d),
            attrs=attrs,
        )
    return _Product(path=label, format="cdf", variables=variables, attributes=attributes)


def _cdf_values(cdf: Any, name: str, dims: list[int]) -> np.ndarray:
    data = cdf.varget(name)
    if data is None:  # a variable with no records
        return np.empty((0, *dims))
    return np.asarray(data)


@contextmanager
def _read_fits(path: Path, label: str) -> Iterator[_Product]:
    from astropy.io import fits

    with fits.open(path, memmap=False) as hdus:
        variables: dict[str, _Variable] = {}
        attributes: dict[str, dict[str, Any]] = {}
        seen: dict[str, int] = {}
        for hdu in hdus:
            base = hdu.name or "PRIMARY"
            seen[base] = seen.get(base, 0) + 1
            name = base if seen[base] == 1 else f"{base}#{seen[base]}"
            header, columns = _split_header(hdu.header)
            attributes[name] = header
            if isinstance(hdu, (fits.BinTableHDU, fits.TableHDU)):
                for index, column in enumerate(hdu.columns, 1):
                    key = f"{name}.{column.name}"
                    attributes[key] = columns.get(index, {})
                    variables[key] = _Variable(
                        name=key,
                        kind="column",
                        dtype=_dtype_name(hdu.data[column.name].dtype)
                        if hdu.data is not None
                        else "",
                        unit=(column.unit or "").strip(),
                        load=lambda h=hdu, c=column.name: np.asarray(h.data[c]),
                    )
            elif hdu.is_image and hdu.header.get("NAXIS", 0) and hdu.data is not None:
                variables[name] = _Variable(
                    name=name,
                    kind="image",
                    dtype=_dtype_name(hdu.data.dtype),
                    unit=str(hdu.header.get("BUNIT", "")).strip(),
                    load=lambda h=hdu: np.asarray(h.data),
                )
        yield _Product(path=label, format="fits", variables=variables, attributes=attributes)


def _dtype_name(dtype: np.dtype) -> str:
    # FITS data are big-endian: '>i4' and '<i4' hold the same values, call both int32
    return dtype.name if dtype.kind in "biufc" else dtype.str.lstrip("<>|=")


def _split_header(header: Any) -> tuple[dict[str, Any], dict[int, dict[str, Any]]]:
    """Header cards of the HDU, and column cards (TDISPn, TNULLn, ...) per column number."""
    cards: dict[str, Any] = {}
    columns: dict[int, dict[str, Any]] = {}
    n_columns = header.get("TFIELDS", 0) if header.get("XTENSION") != "IMAGE" else 0
    for key in header:
        if key in ("COMMENT", "HISTORY", "") or key in _FITS_LAYOUT:
            continue
        indexed = _INDEXED.match(key)
        if indexed and indexed[1] == "NAXIS":
            continue
        if indexed and indexed[1].startswith("T") and 1 <= int(indexed[2]) <= n_columns:
            if indexed[1] not in _FITS_COLUMN_LAYOUT:  # those are compared on the data
                columns.setdefault(int(indexed[2]), {})[indexed[1]] = _plain(header[key])
            continue
        cards[key] = _plain(header[key])
    for key in ("COMMENT", "HISTORY"):
        if key in header:
            cards[key] = [str(v) for v in header[key]]
    return cards, columns


def _plain(value: Any) -> Any:
    """numpy values and lists of them as plain Python, strings stripped of FITS padding."""
    if isinstance(value, np.ndarray):
        return [_plain(v) for v in value.tolist()] if value.ndim else _plain(value.item())
    if isinstance(value, (list, tuple)):
        plain = [_plain(v) for v in value]
        return plain[0] if len(plain) == 1 else plain
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, str):
        return value.rstrip()
    return value


# -- text ------------------------------------------------------------------------------------


def _why(row: Any) -> str:
    reasons = []
    if "->" in str(row.kind):
        reasons.append(f"kind {row.kind}")
    if row.shape_rerun != row.shape_archived:
        reasons.append(f"shape {row.shape_archived} -> {row.shape_rerun}")
    if row.unit_rerun != row.unit_archived:
        reasons.append(f"unit {row.unit_archived!r} -> {row.unit_rerun!r}")
    if row.dtype_rerun != row.dtype_archived:
        reasons.append(f"type {row.dtype_archived} -> {row.dtype_rerun}")
    if not pd.isna(row.n_different) and row.n_different:
        text = f"{int(row.n_different)} of {int(row.n_values)} values differ"
        if not pd.isna(row.max_abs_diff):
            text += f" (max abs {row.max_abs_diff:.3g}, max rel {row.max_rel_diff:.3g})"
        reasons.append(text)
    return ", ".join(reasons) or "differs"


def _pair(old: Any, new: Any) -> str:
    if _missing(old):
        return f"(absent) -> {new}"
    if _missing(new):
        return f"{old} -> (absent)"
    return str(new) if old == new else f"{old} -> {new}"


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and np.isnan(value))


def _short(value: Any, width: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= width else text[: width - 3] + "..."


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
