"""The availability table in a terminal: one line per dataset with a strip of its periods."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .datasets import version_key

# Coverage of a period -> its character; the first is a period without files.
SHADES = "·░▒▓█"


def human_size(n: float) -> str:
    """``1.4 MB``: bytes in decimal units, as S3 consoles show them."""
    value = float(n)
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if value < 1000 or unit == "TB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{n:.0f} B"


def shade(covered: float, files: int) -> str:
    """The character of a period: · no files, ░ a little, ▒ about half, ▓ most, █ all."""
    if files == 0 and covered <= 0:
        return SHADES[0]
    if covered >= 0.99:
        return SHADES[4]
    return SHADES[1 + min(2, int(covered * 3))]


def strip(covered: np.ndarray, files: np.ndarray, width: int) -> str:
    """One character per period, or per group of periods when there are more than ``width``
    (a group shows its mean coverage and whether it has any file)."""
    n = len(covered)
    if n <= width:
        return "".join(shade(c, f) for c, f in zip(covered, files, strict=True))
    groups = np.array_split(np.arange(n), width)
    return "".join(shade(covered[g].mean(), files[g].sum()) for g in groups)


def print_strips(table: pd.DataFrame) -> None:
    """Print the table compactly: dataset, files, size, newest version, covered, strip."""
    from rich.console import Console
    from rich.table import Table

    console = Console()
    if table.empty:
        console.print("no datasets found")
        return
    periods = pd.DatetimeIndex(table["period"].unique())
    freq = table.attrs.get("freq", "")
    names = max(len(str(n)) for n in table["dataset"])
    width = max(10, console.width - names - 45)  # what the other columns leave
    out = Table(header_style="bold", box=None, pad_edge=False)
    out.add_column("dataset", no_wrap=True, min_width=names)
    for column in ("files", "size", "newest", "covered"):
        out.add_column(column, justify="left" if column == "newest" else "right", no_wrap=True)
    per = max(1, -(-len(periods) // width))
    out.add_column("periods", no_wrap=True)
    for name, rows in table.groupby("dataset", sort=False):
        newest = rows["newest_version"].dropna()
        out.add_row(
            str(name),
            f"{int(rows['files'].sum()):,}",
            human_size(rows["bytes"].sum()),
            str(max(newest, key=version_key)) if len(newest) else "",
            f"{rows['covered'].mean():.0%}",
            strip(rows["covered"].to_numpy(), rows["files"].to_numpy(), width),
        )
    console.print(out)
    mark = f"{freq}" if per == 1 else f"{per} × {freq}"
    console.print(
        f"{len(periods)} period(s) of {freq} from {periods[0]:%Y-%m-%d %H:%M} UTC, one mark per "
        f"{mark}: {SHADES[4]} covered, {SHADES[3]} mostly, {SHADES[2]} half, {SHADES[1]} a "
        f"little, {SHADES[0]} no files; --format csv for every period"
    )
