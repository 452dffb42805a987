"""``soc-workspace rerun``, ``soc-workspace compare`` and ``soc-workspace env``."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING

import click
from rich.console import Console
from rich.table import Table

from ..cli_options import (
    instrument_option,
    level_option,
    mission_option,
    stage_option,
    time_range_options,
)

if TYPE_CHECKING:
    import pandas as pd


@click.command("rerun")
@click.argument("files", nargs=-1)
@mission_option()
@instrument_option()
@level_option()
@time_range_options
@stage_option()
@click.option(
    "--list-bucket",
    is_flag=True,
    help="Find the files of the time range by listing the instrument bucket instead of "
    "reading its catalog index (for a bucket not indexed yet; slow for long ranges). The "
    "same files are chosen.",
)
@click.option(
    "--workers", type=int, help="Dask workers [default: one per core, or 2 on the gateway]."
)
@click.option(
    "--environment",
    help="Mission environment (its Python): a name or an interpreter path "
    "[settings: calibration.environments].",
)
@click.option(
    "--compare/--no-compare",
    default=True,
    show_default=True,
    help="Compare every product with the archived product of the same name.",
)
@click.option("--output", help="Run folder [default: <scratch.url>/<user>/reruns/<run-id>].")
@click.option("--timeout", type=float, help="Seconds per file [settings: calibration.timeout].")
@click.option("--json", "as_json", is_flag=True, help="Print the table as JSON lines.")
@click.option("-v", "--verbose", count=True, help="Show the Dask cluster's log (quiet by default).")
def rerun_command(
    files: tuple[str, ...],
    mission: str | None,
    instrument: str | None,
    level: str | None,
    start: pd.Timestamp | None,
    stop: pd.Timestamp | None,
    stage: str | None,
    list_bucket: bool,
    workers: int | None,
    environment: str | None,
    compare: bool,
    output: str | None,
    timeout: float | None,
    as_json: bool,
    verbose: int,
) -> int:
    """Rerun the pipeline's calibration of FILES (URLs, keys, paths) or of a time range.

    A time range's files (--mission, --instrument, --start, --stop; --level defaults to the
    mission's first level, what its calibration reads) are what `soc-workspace catalog search`
    finds with the same options. Each file runs in its mission's environment, isolated, on a
    Dask cluster (the workspace's gateway when configured, else local). Products, logs and
    provenance go to your scratch folder, never to a pipeline bucket. Exit status 1 when any
    file failed.

    \b
    soc-workspace rerun -m hermes -i eea --start 2025-06-01 --stop 2025-06-02
    soc-workspace rerun s3://hermes-eea/l0/2025/06/01/hermes_EEA_l0_2025152-000000_v0.bin
    """
    if not verbose and not logging.getLogger().isEnabledFor(logging.INFO):
        # distributed logs dozens of INFO lines per cluster (here and in its worker
        # processes, which read this variable); keep its errors only.
        os.environ["DASK_LOGGING__DISTRIBUTED"] = "error"
    from ..config import load_settings
    from .batch import rerun
    from .inputs import find_inputs

    settings = load_settings(stage=stage) if stage else None
    inputs = list(files)
    if mission or instrument or start or stop:
        if not (mission and instrument and start and stop):
            raise click.UsageError("a time range needs --mission, --instrument, --start and --stop")
        found = find_inputs(
            mission,
            instrument,
            level=level,
            start=start,
            stop=stop,
            listing=list_bucket,
            settings=settings,
        )
        if not found and not inputs:
            where = "in the bucket" if list_bucket else "in the catalog"
            raise click.UsageError(
                f"no {mission} {instrument} files{f' at level {level}' if level else ''} "
                f"overlapping {start} to {stop} {where}: check the dates "
                "(`soc-workspace catalog search` with the same options), or update the catalog "
                "if the files are new (`soc-workspace catalog update`)"
            )
        inputs += found
    if not inputs:
        raise click.UsageError(
            "nothing to rerun: give FILES, or --mission/--instrument/--start/--stop"
        )
    # One file needs no cluster: run it here (a cluster's start-up would cost more).
    table = rerun(
        inputs,
        cluster=False if len(inputs) == 1 and workers is None else None,
        workers=workers,
        environment=environment,
        compare=compare,
        output=output,
        timeout=timeout,
        settings=settings,
    )
    if as_json:
        for row in table.to_dict(orient="records"):
            click.echo(json.dumps(row, default=str))
    else:
        _print_table(table)
    return 1 if (table["status"] == "failed").any() else 0


def _print_table(table) -> None:
    console = Console()
    view = Table(title=f"rerun {table.attrs['run_id']}")
    compared = "verdict" in table
    columns = ["input", "status", "seconds"]
    columns += ["verdict", "differences"] if compared else []
    columns += ["error"]
    for column in columns:
        view.add_column(column, overflow="fold")
    colours = {"ok": "green", "no product": "yellow", "failed": "red"}
    for row in table.to_dict(orient="records"):
        cells = [
            Path(str(row["input"])).name,
            f"[{colours[row['status']]}]{row['status']}[/]",
            "" if row["seconds"] is None else f"{row['seconds']:.1f}",
        ]
        if compared:
            cells.append(_text(row["verdict"]))
            cells.append(_text(row.get("differences"))[:200])
        cells.append(_text(row["error"]))
        view.add_row(*cells)
    console.print(view)
    counts = table["status"].value_counts().to_dict()
    console.print(", ".join(f"{n} {s}" for s, n in counts.items()))
    if table.attrs.get("note"):
        console.print(f"[yellow]note[/]: {table.attrs['note']}")
    console.print(f"outputs, logs and provenance: {table.attrs['run_url']}")
    if compared:
        console.print(f"review the changes: soc-workspace review {table.attrs['run_id']}")


def _text(value: object) -> str:
    """A table cell: empty for None and NaN (pandas fills missing values with NaN)."""
    return "" if value is None or value != value else str(value)


@click.command("compare")
@click.argument("rerun_output")
@click.argument("archived_product", required=False)
@click.option(
    "--ignore",
    multiple=True,
    help="Also ignore attributes matching this pattern (repeatable), besides the settings' "
    "calibration.ignore_attributes.",
)
@click.option(
    "--ignore-only",
    multiple=True,
    help="Ignore only attributes matching these patterns (repeatable), instead of the settings'.",
)
@click.option("--rtol", type=float, default=0.0, show_default=True, help="Relative tolerance.")
@click.option("--atol", type=float, default=0.0, show_default=True, help="Absolute tolerance.")
@click.option("--json", "as_json", is_flag=True, help="Print the per-variable table as JSON.")
def compare_command(
    rerun_output: str,
    archived_product: str | None,
    ignore: tuple[str, ...],
    ignore_only: tuple[str, ...],
    rtol: float,
    atol: float,
    as_json: bool,
) -> int:
    """Compare RERUN_OUTPUT with ARCHIVED_PRODUCT (CDF or FITS; paths or URLs).

    Without ARCHIVED_PRODUCT, the pipeline's product of the same name is used. Attributes
    that change with every run or release (every *_version, *generat* and *software*
    attribute, FITS DATE and checksums: calibration.ignore_attributes) are listed but not
    counted. Exit status 1 when the verdict is "different" (like diff).
    """
    from .comparison import compare

    report = compare(
        rerun_output,
        archived_product,
        ignore_attributes=list(ignore_only) if ignore_only else None,
        also_ignore=ignore,
        rtol=rtol,
        atol=atol,
    )
    if as_json:
        click.echo(report.to_dataframe().to_json(orient="records", default_handler=str))
    else:
        Console().print(report)
    return 1 if report.verdict == "different" else 0


@click.group("env")
def env() -> None:
    """Mission environments: one Python per mission stack, for reruns and kernels."""


@env.command("create")
@click.argument("name")
@click.option(
    "--spec",
    type=click.Path(exists=True, dir_okay=False),
    help="Pinned requirements file (see soc_workspace/calibration/specs/).",
)
@click.option(
    "--from",
    "base",
    metavar="ENVIRONMENT",
    help="A candidate calibration: start from this environment (or shipped spec) ...",
)
@click.option(
    "--with",
    "replacement",
    metavar="PATH|GIT_URL@REF",
    help="... with one instrument package from this folder or git branch, tag or commit "
    "(NAME=... to say which package it replaces).",
)
@click.option("--python", help="Base interpreter [default: the one running soc-workspace].")
@click.option("--force", is_flag=True, help="Rebuild an environment that exists.")
@click.option("--allow-unpinned", is_flag=True, help="Build from a spec that is not fully pinned.")
@click.option(
    "--kernel/--no-kernel",
    default=True,
    show_default=True,
    help="Also register it as a Jupyter kernel (soc_workspace importable in it).",
)
@click.option("--display-name", help="The kernel's name in JupyterLab's launcher.")
def env_create(
    name: str,
    spec: str | None,
    base: str | None,
    replacement: str | None,
    python: str | None,
    force: bool,
    allow_unpinned: bool,
    kernel: bool,
    display_name: str | None,
) -> None:
    """Build the environment NAME with uv, from a pinned SPEC or as a candidate calibration.

    \b
    soc-workspace env create hermes --spec src/soc_workspace/calibration/specs/hermes.txt
    soc-workspace env create eea-fix --from hermes --with ~/src/hermes_eea
    soc-workspace env create eea-fix --from hermes --with https://github.com/me/hermes_eea@fix

    The environment becomes a Jupyter kernel too ("HERMES (hermes_eea, swxsoc 0.1.0)"),
    listed in the launcher of every server of a workspace on this machine.
    """
    from .environments import create_environment

    if bool(base) != bool(replacement):
        raise click.UsageError("a candidate needs both --from ENVIRONMENT and --with SOURCE")
    if bool(spec) == bool(base):
        raise click.UsageError("give --spec FILE, or --from ENVIRONMENT --with SOURCE")
    console = Console(stderr=True)
    with console.status(f"building {name} ..."):
        if base:
            from .candidates import create_candidate

            built = create_candidate(name, base, replacement or "", force=force, kernel=kernel)
        else:
            built = create_environment(
                name,
                spec or "",
                python=python,
                force=force,
                allow_unpinned=allow_unpinned,
                kernel=kernel,
                display_name=display_name,
            )
    click.echo(f"built {name}: {built.python}")
    if built.candidate:
        click.echo(
            f"  candidate: {built.candidate['package']} from {built.candidate['source']} "
            f"(the rest as {built.candidate['base']})"
        )
    for package, source in built.sources.items():
        if source.get("commit"):
            dirty = ", with uncommitted changes" if source.get("dirty") else ""
            click.echo(f"  {package}: commit {source['commit']}{dirty}")
    if built.kernel:
        click.echo(f"  Jupyter kernel: {built.kernel!r} ({built.name.lower()})")


@env.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.option(
    "--packages", "show_packages", is_flag=True, help="Also list the packages of each spec."
)
@click.option("--all", "show_all", is_flag=True, help="With --packages: every package installed.")
def env_list(as_json: bool, show_packages: bool, show_all: bool) -> None:
    """Show the environments, which missions use them, and their kernels."""
    from .environments import list_environments, spec_names

    rows = []
    for item in list_environments():
        packages = item.packages() if item.exists and (as_json or show_packages) else {}
        wanted = spec_names(item.spec or "")
        shown = (
            packages
            if show_all or not wanted
            else {
                k: v for k, v in packages.items() if k in wanted or v.startswith(("file:", "git+"))
            }
        )
        rows.append(
            {
                "name": item.name,
                "python": str(item.python),
                "exists": item.exists,
                "used_by": list(item.used_by),
                "created": item.created,
                "kernel": item.kernel,
                "candidate": item.candidate,
                "sources": item.sources,
                "packages": shown,
                "n_packages": len(packages),
            }
        )
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    from .environments import SPECS_DIR

    console = Console()
    # Few, narrow columns that fold rather than crop: readable in an 80-column terminal.
    table = Table(title="mission environments", expand=False)
    table.add_column("name", overflow="fold")
    table.add_column("used by", overflow="fold")
    table.add_column("built", no_wrap=True)
    table.add_column("Jupyter kernel", overflow="fold")
    missing = []
    for row in rows:
        if not row["exists"]:
            state, about = "[red]missing[/]", ""
            missing.append(row["name"])
        else:
            state = (row["created"] or "")[:10] or "yes"
            about = row["kernel"] or "(none)"
            candidate = row["candidate"]
            if candidate:
                about += f"\ncandidate {candidate['package']} from {candidate['source']}"
        table.add_row(row["name"], ", ".join(row["used_by"]), state, about)
    console.print(table)
    for name in missing:
        spec = SPECS_DIR / f"{name}.txt"
        console.print(
            f"To build {name}: soc-workspace env create {name} --spec "
            + (str(spec) if spec.is_file() else "FILE"),
            soft_wrap=False,
            overflow="fold",
        )
    if not show_packages:
        console.print("What each holds: soc-workspace env list --packages", style="dim")
        return
    for row in rows:
        if row["exists"]:
            listed = Table(title=f"{row['name']}: {row['n_packages']} packages", expand=False)
            listed.add_column("package", overflow="fold")
            listed.add_column("version or source", overflow="fold")
            for package, version in row["packages"].items():
                commit = (row["sources"].get(package) or {}).get("commit")
                listed.add_row(package, version + (f" @ {commit[:12]}" if commit else ""))
            console.print(listed)


@env.command("remove")
@click.argument("name")
@click.confirmation_option(prompt="Delete this environment?")
def env_remove(name: str) -> None:
    """Delete the environment NAME and its Jupyter kernel."""
    from .environments import remove_environment

    click.echo(f"removed {remove_environment(name)}")
