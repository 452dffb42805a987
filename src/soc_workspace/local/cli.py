"""``soc-workspace up | down | status | setup``: the workspace on this machine."""

from __future__ import annotations

import json
import os
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

_state_dir = click.option(
    "--state-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="The workspace's state directory [settings: workspace.state_dir; "
    "default $XDG_DATA_HOME/soc-workspace].",
)
_config = click.option(
    "--config",
    "config_file",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="A settings file (TOML) to use instead of the user's (like SOC_WORKSPACE_CONFIG).",
)


def _settings(config_file: Path | None):  # type: ignore[no-untyped-def]
    from ..config import CONFIG_FILE_VARIABLE, current_settings

    if config_file is not None:
        # The hub and the gateway are started from this process and read it too.
        os.environ[CONFIG_FILE_VARIABLE] = str(config_file.absolute())
    return current_settings()


@click.command()
@_state_dir
@_config
def up(state_dir: Path | None, config_file: Path | None) -> None:
    """Start the workspace on this machine and print how to log in.

    Starts the object store (the embedded one, with demo data on the first start, unless
    store.endpoint_url names another), JupyterHub with its proxy, dask-gateway and, as people
    log in, their JupyterLab servers. Returns once all of it answers; it keeps running in the
    background until `soc-workspace down`.
    """
    from .workspace import login_instructions
    from .workspace import up as start

    console = Console(stderr=True, highlight=False, soft_wrap=True)
    report = start(state_dir, settings=_settings(config_file), console=console)
    if report.already_running:
        console.print(f"The workspace in {report.connection.state_dir} is already running.")
    elif report.restarted:
        console.print(
            f"[bold green]Restarted[/] {', '.join(report.restarted)} in {report.seconds:.1f} s; "
            "users' servers and Dask clusters kept running."
        )
    else:
        console.print(f"[bold green]Ready[/] in {report.seconds:.1f} s.")
    for line in login_instructions(report.connection):
        console.print("  " + line)
    # The URL on stdout alone, for scripts: URL=$(soc-workspace up)
    click.echo(report.connection.public_url)


@click.command()
@_state_dir
@_config
def down(state_dir: Path | None, config_file: Path | None) -> None:
    """Stop everything the workspace runs (users' servers, Dask clusters, hub, store).

    Users, groups, passwords, homes, team folders and the store's objects stay in the state
    directory for the next `soc-workspace up`.
    """
    from .workspace import down as stop

    report = stop(state_dir, settings=_settings(config_file))
    if not report.stopped and not report.leftovers:
        click.echo("Nothing was running.")
        return
    if report.stopped:
        click.echo(f"Stopped: {', '.join(report.stopped)} ({report.seconds:.1f} s).")
    if report.leftovers:
        click.echo(f"Also stopped {len(report.leftovers)} process(es) left behind:")
        for line in report.leftovers:
            click.echo(f"  {line}")


@click.command()
@_state_dir
@_config
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def status(state_dir: Path | None, config_file: Path | None, as_json: bool) -> int:
    """Say what runs: store, hub, proxy, gateway, users' servers.

    Exit code 0 when every part runs, 1 when a part is down (`soc-workspace up` restarts
    it), 3 when the workspace is stopped.
    """
    from .workspace import status as inspect

    result = inspect(state_dir, settings=_settings(config_file))
    if as_json:
        click.echo(json.dumps({**result.__dict__, "exit_code": result.exit_code}, indent=2))
    else:
        table = Table(title=f"soc-workspace in {result.state_dir}")
        table.add_column("part")
        table.add_column("state")
        for name, state in result.components.items():
            table.add_row(name, state)
        table.add_row("users' servers", ", ".join(result.servers) or "none")
        table.add_row("processes", str(result.processes))
        Console(highlight=False).print(table)
        if result.exit_code == 1:
            click.echo(
                f"Down: {', '.join(result.down)}. Run `soc-workspace up` (with the same "
                "--state-dir) to restart it; users' servers keep running.",
                err=True,
            )
    return result.exit_code


@click.command()
def setup() -> None:
    """Install what `up` needs besides Python: configurable-http-proxy (npm)."""
    from .proxy import PROXY_PACKAGE, PROXY_VERSION, find_proxy, install_proxy

    found = find_proxy()
    if found is not None:
        click.echo(f"{PROXY_PACKAGE} is installed: {found}")
        return
    click.echo(f"Installing {PROXY_PACKAGE}@{PROXY_VERSION} with npm…")
    click.echo(f"Installed: {install_proxy()}")
