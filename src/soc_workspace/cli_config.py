"""``soc-workspace config``: the settings in effect."""

from __future__ import annotations

import json

import click
from rich.console import Console
from rich.table import Table

from .config import DEFAULTS_FILE, current_settings, describe_settings, user_config_file


@click.group()
def config() -> None:
    """Show the settings in effect and where each came from."""


@config.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def show(as_json: bool) -> None:
    """Print every setting, its value and its origin (defaults, user file, environment)."""
    settings = current_settings()
    rows = describe_settings(settings)
    if as_json:
        click.echo(json.dumps({r.key: r.value for r in rows}, indent=2))
        return
    table = Table(title="soc-workspace settings")
    table.add_column("setting")
    table.add_column("value")
    table.add_column("from")
    for row in rows:
        table.add_row(row.key, repr(row.value), row.source)
    console = Console()
    console.print(table)
    endpoint = settings.store.resolved_endpoint_url or "AWS S3"
    console.print(f"S3 endpoint in effect: {endpoint}")
    console.print(f"defaults: {DEFAULTS_FILE}")
    console.print(f"user file: {user_config_file() or '(none)'}")


@config.command()
def path() -> None:
    """Print the path of the defaults file (a commented reference of every setting)."""
    click.echo(DEFAULTS_FILE)
