"""``soc-workspace repro``: record, check, show and share reproducible notebooks."""

from __future__ import annotations

import json

import click


@click.group("repro")
def repro() -> None:
    """Notebooks anyone can re-check: what they ran in, on which data, with what result."""


@repro.command("record")
@click.argument("notebook", type=click.Path(exists=True, dir_okay=False))
@click.option("-o", "--output", help="Write the executed notebook here [default: in place].")
@click.option("--kernel", help="Kernel to run it in [default: the notebook's].")
@click.option(
    "-p", "--parameter", "parameters", nargs=2, multiple=True, metavar="NAME VALUE",
    help="A papermill parameter (repeatable); VALUE is read as JSON when it parses.",
)  # fmt: skip
def record_command(
    notebook: str, output: str | None, kernel: str | None, parameters: tuple[tuple[str, str], ...]
) -> None:
    """Run NOTEBOOK and record its kernel, environment, settings, inputs and outputs in it."""
    from .recorder import record

    entry = record(notebook, output=output, kernel=kernel, parameters=_parsed(parameters))
    click.echo(
        f"recorded {output or notebook}: kernel {entry['kernel']['name']}, "
        f"{len(entry['inputs'])} input(s), {len(entry['outputs'])} code cell(s)"
    )


@repro.command("check")
@click.argument("notebook", type=click.Path(exists=True, dir_okay=False))
@click.option("--keep", help="Keep the re-executed notebook at this path.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def check_command(notebook: str, keep: str | None, as_json: bool) -> int:
    """Run NOTEBOOK again as recorded; say "same" or what changed (exit 1 when not the same)."""
    from .checker import check

    result = check(notebook, keep=keep)
    if as_json:
        click.echo(
            json.dumps(
                {
                    "same": result.same,
                    "inputs_changed": result.inputs_changed,
                    "outputs_changed": result.outputs_changed,
                    "environment_changed": result.environment_changed,
                    "failed": result.failed,
                },
                indent=2,
                default=str,
            )
        )
    else:
        click.echo(str(result))
    return 0 if result.same else 1


@repro.command("show")
@click.argument("notebook", type=click.Path(exists=True, dir_okay=False))
def show_command(notebook: str) -> None:
    """Print NOTEBOOK's record."""
    from .display import describe

    click.echo(describe(notebook))


@repro.command("share")
@click.argument("notebook", type=click.Path(exists=True, dir_okay=False))
@click.option("--team", required=True, help="The team whose folder gets a copy (~/teams/TEAM).")
@click.option("--replace", is_flag=True, help="Replace a notebook of that name there.")
def share_command(notebook: str, team: str, replace: bool) -> None:
    """Copy NOTEBOOK, with its record, into your team's folder."""
    from .sharing import share

    click.echo(f"shared: {share(notebook, team, replace=replace)}")


def _parsed(parameters: tuple[tuple[str, str], ...]) -> dict[str, object]:
    values: dict[str, object] = {}
    for name, text in parameters:
        try:
            values[name] = json.loads(text)
        except ValueError:
            values[name] = text
    return values
