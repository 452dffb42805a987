"""The ``soc-workspace check`` command."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table


@click.command()
@click.option("--hub", "hub_url", help="The hub's URL. Default: the workspace on this machine.")
@click.option("--token", help="An API token of a hub admin (needed with --hub).")
@click.option(
    "--state-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Without --hub: the state directory of the workspace `up` started "
    "[settings: workspace.state_dir].",
)
@click.option("--dataset", help="Search this catalog dataset (default: the first with files).")
@click.option(
    "--timeout",
    type=float,
    default=300.0,
    show_default=True,
    help="Seconds each step may take.",
)
def check(
    hub_url: str | None,
    token: str | None,
    state_dir: Path | None,
    dataset: str | None,
    timeout: float,
) -> None:
    """Check a deployed workspace end to end, as a scientist would use it.

    Creates a temporary user, starts their server, searches the catalog, opens a file,
    computes on a 2-worker Dask Gateway cluster, then stops everything and removes the user.
    Prints each step with its time; exits 0 only when every step passed.
    """
    from .steps import FAILED, PASSED, check

    if hub_url is None:
        if token is not None:
            raise click.UsageError("--token needs --hub (the local workspace has its own)")
        hub_url, token = _local_workspace(state_dir)
    elif token is None:
        raise click.UsageError("--hub needs --token: an API token of one of the hub's admins")
    console = Console(highlight=False, soft_wrap=True)
    console.print(f"Checking {hub_url} ...")
    report = check(
        hub_url,
        token,
        dataset=dataset,
        timeout=timeout,
        progress=lambda step: console.print(f"  {step.name}: {step.status}", style="dim"),
    )
    table = Table(title=f"soc-workspace check of {report.hub_url} (user {report.user})")
    for column in ("step", "result", "seconds", "detail"):
        table.add_column(column, justify="right" if column == "seconds" else "left")
    colours = {PASSED: "green", FAILED: "red"}
    for step in report.steps:
        table.add_row(
            step.name,
            f"[{colours.get(step.status, 'dim')}]{step.status}[/]",
            f"{step.seconds:.1f}" if step.status != "skipped" else "",
            step.detail,
        )
    console.print(table)
    failed = report.failed
    if failed is None and report.ok:
        console.print("[bold green]All steps passed.[/]")
        return
    console.print(f"[bold red]FAILED: {failed.name}[/]: {failed.detail}" if failed else "")
    sys.exit(1)


def _local_workspace(state_dir: Path | None) -> tuple[str, str]:
    """The hub URL and operator token of the workspace `soc-workspace up` runs here."""
    from ..config import current_settings
    from ..local.workspace import Connection, state_paths

    paths = state_paths(state_dir, current_settings())
    if not paths.connection_file.is_file():
        raise click.ClickException(
            f"no workspace runs from {paths.root} ({paths.connection_file} is missing): start "
            "one with `soc-workspace up`, or check another with --hub URL --token T"
        )
    connection = Connection.read(paths.root)
    return connection.hub_url, connection.api_token
