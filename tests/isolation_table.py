"""The isolation matrix's rows, collected while its tests run and printed at the end."""

from __future__ import annotations

ROWS: list[tuple[str, str, str, str]] = []


def record_isolation(area: str, attempt: str, expected: str, observed: str) -> None:
    ROWS.append((area, attempt, expected, observed))


def table() -> list[str]:
    """The rows as aligned text lines, a verdict in the last column."""
    if not ROWS:
        return []
    header = ("area", "attempt", "must be", "was", "")
    rows = [(*row, "ok" if row[2] == row[3] else "FAILED") for row in ROWS]
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(5)]
    return [
        "  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)) for r in [header, *rows]
    ]
