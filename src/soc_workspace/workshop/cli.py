"""``soc-workspace workshop create|rehearse|status|end``."""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.table import Table

console = Console(highlight=False, soft_wrap=True)


def hub_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """--hub/--token (any hub) or --state-dir (the workspace on this machine, the default)."""

    @click.option("--hub", "hub_url", help="The hub's URL. Default: the workspace on this machine.")
    @click.option("--token", help="An API token of a hub admin (needed with --hub).")
    @click.option(
        "--state-dir",
        type=click.Path(file_okay=False, path_type=Path),
        help="Without --hub: the state directory of the workspace `up` started.",
    )
    @functools.wraps(command)
    def wrapper(hub_url: str | None, token: str | None, state_dir: Path | None, **kwargs: Any):
        from .hub import WorkshopHub

        return command(WorkshopHub.connect(hub_url, token, state_dir=state_dir), **kwargs)

    return wrapper


@click.group()
def workshop() -> None:
    """Create, rehearse, watch and end a workshop (temporary accounts, materials, limits).

    Works through any hub's REST API with an admin's token (--hub URL --token T); by
    default the workspace `soc-workspace up` runs on this machine.
    """


@workshop.command()
@click.argument("name")
@click.option(
    "--users", type=int, default=0, help="Make N accounts NAME-01..NAME-N with passwords."
)
@click.option(
    "--shared-password",
    is_flag=True,
    help="Instead of accounts: one password; participants choose their user names.",
)
@click.option("--starts", help="When it starts (ISO 8601, e.g. 2026-05-04T09:00); for the sheet.")
@click.option(
    "--ends",
    required=True,
    help="When it ends (ISO 8601): logins stop, homes are archived, accounts removed.",
)
@click.option(
    "--content",
    help="The materials: a folder (this machine's workspace) or GIT_URL[@REF] (any hub).",
)
@click.option("--profile", help="The server profile participants get (default: the hub's).")
@click.option("--limits", help="Each participant's Dask limits, e.g. workers=2,cores=2,memory=4G.")
@click.option(
    "--archive",
    help="Where `end` puts each participant's archive: a folder or s3://bucket/prefix "
    "(default on this machine: <state>/workshops/NAME/archive).",
)
@click.option("--title", default="", help="A title for the sign-in sheet.")
@click.option(
    "--sheet",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder for sign-in.csv and sign-in.html (default: ./NAME-sign-in).",
)
@hub_options
def create(hub: Any, name: str, sheet: Path | None, **options: Any) -> None:
    """Create workshop NAME: a hub group, accounts, materials, Dask limits, a sign-in sheet."""
    from .create import create as create_workshop

    made = create_workshop(hub, name, sheet_dir=sheet, **options)
    w = made.workshop
    who = (
        f"{len(w.participants)} account(s) {w.participants[0]} .. {w.participants[-1]}"
        if w.participants
        else "participants choose their names (shared password)"
    )
    console.print(f"Created workshop [bold]{name}[/] on {hub.public_url}: {who}")
    if w.content:
        console.print(
            f"  materials: {w.content['source']} -> ~/{w.folder} in every home"
            + (f" (starts with {w.first_notebook})" if w.first_notebook else "")
        )
    if w.limits:
        console.print(f"  Dask limits per participant: {w.limits}")
    console.print(f"  ends {w.ends}; archives go to {w.archive}")
    console.print(f"  sign-in sheet: {made.sheet.csv} and {made.sheet.html} (print the page)")


@workshop.command()
@click.argument("name")
@click.option("--participants", type=int, required=True, help="How many synthetic participants.")
@click.option(
    "--pace",
    type=float,
    default=0.0,
    show_default=True,
    help="Seconds between two participants' arrivals (0: all at once).",
)
@click.option(
    "--max-wait",
    type=float,
    default=300.0,
    show_default=True,
    help="Longest acceptable wait for JupyterLab (p95, seconds).",
)
@click.option("--json", "as_json", is_flag=True, help="Also print the report as one JSON line.")
@hub_options
def rehearse(
    hub: Any, name: str, participants: int, pace: float, max_wait: float, as_json: bool
) -> None:
    """Rehearse workshop NAME: synthetic participants log in, start servers and run its first
    notebook; prints a capacity report and a verdict (exit 0: ready, 1: not ready)."""
    from .rehearse import rehearse as run_rehearsal

    report = run_rehearsal(
        hub,
        name,
        participants,
        pace=pace,
        max_wait=max_wait,
        progress=lambda line: console.print(line, style="dim"),
    )
    for line in report.lines():
        console.print(line)
    if as_json:
        click.echo(json.dumps(report.summary()))
    sys.exit(0 if report.ready else 1)


@workshop.command()
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Print it as JSON instead of a table.")
@hub_options
def status(hub: Any, name: str, as_json: bool) -> None:
    """Who logged in, servers and Dask clusters running, and (on this machine) resource use."""
    from dataclasses import asdict

    from .status import status as workshop_status

    found = workshop_status(hub, name)
    w = found.workshop
    if as_json:
        participants = [asdict(p) for p in found.participants]
        click.echo(json.dumps({"workshop": name, "ends": w.ends, "participants": participants}))
        return
    console.print(
        f"Workshop [bold]{name}[/] ({w.mode}), "
        + (f"{w.starts} to " if w.starts else "until ")
        + f"{w.ends}{' (ended)' if w.ended else ''}: {found.logged_in} of "
        f"{len(found.participants)} logged in, {found.running} server(s) running"
    )
    table = Table()
    for column in ("participant", "logged in", "server", "clusters", "CPU %", "memory MB"):
        table.add_column(column)
    for p in found.participants:
        table.add_row(
            p.user,
            "yes" if p.logged_in else "no",
            p.server,
            str(len(p.clusters)),
            "" if p.cpu_percent is None else f"{p.cpu_percent:.0f}",
            "" if p.memory_mb is None else f"{p.memory_mb:.0f}",
        )
    console.print(table)


@workshop.command()
@click.argument("name")
@click.option(
    "--keep-accounts",
    is_flag=True,
    help="Archive and stop, but keep the accounts, their homes and the group.",
)
@click.option("--archive", help="Where the archives go (default: the workshop's destination).")
@hub_options
def end(hub: Any, name: str, keep_accounts: bool, archive: str | None) -> None:
    """End workshop NAME: archive every participant's home (one archive each, with a
    manifest of files and checksums), stop servers and clusters, remove accounts and group."""
    from .end import FAILED
    from .end import end as end_workshop

    report = end_workshop(
        hub,
        name,
        keep_accounts=keep_accounts,
        archive=archive,
        progress=lambda p: console.print(f"  {p.user}: {p.status} {p.detail}", style="dim"),
    )
    table = Table(title=f"Workshop {name}: archives in {report.destination}")
    for column in ("participant", "result", "files", "bytes", "archive / why"):
        table.add_column(column)
    for p in report.participants:
        colour = "red" if p.status == FAILED else "green"
        table.add_row(
            p.user, f"[{colour}]{p.status}[/]", str(p.files), str(p.bytes), p.archive or p.detail
        )
    console.print(table)
    if report.removed:
        console.print(f"Removed {len(report.removed)} account(s)")
    if report.kept:
        console.print(f"[yellow]Kept {len(report.kept)} account(s)[/]: {', '.join(report.kept)}")
    console.print("Removed the group" if report.group_removed else "Kept the group")
    for leftover in report.leftovers:
        console.print(f"[red]Still there: {leftover}[/]")
    sys.exit(0 if report.ok else 1)


@workshop.command(hidden=True)
@click.option("--interval", type=float, default=60.0, show_default=True)
@hub_options
def service(hub: Any, interval: float) -> None:
    """End workshops at their end time, forever (the hub runs this on one machine)."""
    import logging

    from .service import run

    logging.basicConfig(level=logging.INFO, format="[%(levelname)s %(name)s] %(message)s")
    run(hub, interval=interval)
