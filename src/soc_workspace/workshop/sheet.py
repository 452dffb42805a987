"""The sign-in sheet of a workshop: a CSV for the trainer and a page to print and cut up.

Each participant's line or card has the login URL (the workshop login page with their name
filled in, landing in the workshop's first notebook), their user name and password. Both
files hold passwords: they are written readable by their owner only.
"""

from __future__ import annotations

import csv
import html
import io
import os
from dataclasses import dataclass
from pathlib import Path

from ..hub.workshops import lab_path, login_url
from .record import Workshop

_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>{title}: sign-in sheet</title>
<style>
body {{ font-family: sans-serif; margin: 1cm; }}
h1 {{ font-size: 1.3em; }}
.cards {{ display: flex; flex-wrap: wrap; gap: 0.5cm; }}
.card {{ border: 1px dashed #555; padding: 0.4cm; width: 8.3cm; break-inside: avoid; }}
.card h2 {{ font-size: 1em; margin: 0 0 0.2cm 0; }}
.url {{ font-family: monospace; font-size: 0.75em; word-break: break-all; }}
.secret {{ font-family: monospace; font-size: 1.3em; letter-spacing: 0.05em; }}
.when {{ color: #555; font-size: 0.8em; }}
@media print {{ .noprint {{ display: none; }} }}
</style></head><body>
<h1 class="noprint">{title}: {count} sign-in card(s). Print, cut along the dashed lines.</h1>
<div class="cards">
{cards}
</div></body></html>
"""

_CARD = """<div class="card">
<h2>{title}</h2>
<p class="when">{when}</p>
<p>Open <span class="url">{url}</span></p>
<p>User name: <span class="secret">{name}</span><br>
Password: <span class="secret">{password}</span></p>
</div>"""


@dataclass(frozen=True)
class Sheet:
    csv: Path
    html: Path


def entries(
    workshop: Workshop, public_url: str, passwords: dict[str, str], shared: str | None
) -> list[dict[str, str]]:
    """One row per participant (one row for everyone in a shared-password workshop)."""
    landing = lab_path(workshop.folder or workshop.name, workshop.first_notebook)
    if shared is not None:
        return [
            {
                "user": "(choose a user name: lower-case letters, digits, - and _)",
                "password": shared,
                "login_url": login_url(public_url, next_path=landing),
            }
        ]
    return [
        {
            "user": name,
            "password": passwords[name],
            "login_url": login_url(public_url, username=name, next_path=landing),
        }
        for name in sorted(passwords)
    ]


def write_sheet(
    folder: Path,
    workshop: Workshop,
    public_url: str,
    passwords: dict[str, str],
    shared: str | None = None,
) -> Sheet:
    """Write ``sign-in.csv`` and ``sign-in.html`` into ``folder`` (mode 0600)."""
    rows = entries(workshop, public_url, passwords, shared)
    folder.mkdir(parents=True, exist_ok=True)
    title = workshop.title or workshop.name
    when = (
        f"until {workshop.ends}"
        if not workshop.starts
        else (f"{workshop.starts} to {workshop.ends}")
    )
    out = io.StringIO()
    writer = csv.DictWriter(
        out, fieldnames=["workshop", "user", "password", "login_url", "starts", "ends"]
    )
    writer.writeheader()
    for row in rows:
        writer.writerow(
            {
                "workshop": workshop.name,
                **row,
                "starts": workshop.starts or "",
                "ends": workshop.ends,
            }
        )
    cards = "\n".join(
        _CARD.format(
            title=html.escape(title),
            when=html.escape(when),
            url=html.escape(row["login_url"]),
            name=html.escape(row["user"]),
            password=html.escape(row["password"]),
        )
        for row in rows
    )
    page = _PAGE.format(title=html.escape(title), count=len(rows), cards=cards)
    sheet = Sheet(folder / "sign-in.csv", folder / "sign-in.html")
    _write_private(sheet.csv, out.getvalue())
    _write_private(sheet.html, page)
    return sheet


def _write_private(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", newline="") as file:
        file.write(text)
    path.chmod(0o600)
