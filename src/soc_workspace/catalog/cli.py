"""``soc-workspace catalog``: build, update and search the indexes; generate intake catalogs."""

from __future__ import annotations

import sys
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from ..cli_options import (
    instrument_option,
    level_option,
    mission_option,
    stage_option,
    time_range_options,
)


@contextmanager
def _warnings_as_lines() -> Iterator[None]:
    """Show our warnings as plain 'warning: ...' lines, not as Python source locations."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            yield
        finally:
            for warning in caught:
                click.secho(f"warning: {warning.message}", fg="yellow", err=True)


_OPERATOR_HELP = (
    "I am the SOC operator: allow writing the index (catalog.json, catalog/...) into SOC "
    "instrument buckets on a store that is not on this machine."
)


@click.group()
def catalog() -> None:
    """Build, update and search the file catalogs kept beside the data.

    Each instrument bucket holds its index: s3://<bucket>/catalog.json (CloudCatalog) and
    s3://<bucket>/catalog/ (yearly CSV files and the parquet copy that searches read).
    """


@catalog.command()
@click.option("--bucket", "-b", "buckets", multiple=True, help="Bucket to index (repeatable).")
@mission_option(multiple=True, help="Index every instrument bucket of this mission (repeatable).")
@stage_option(help="Buckets of --mission: the SOC pipeline's prod or dev stage [settings: stage].")
@click.option("--operator", is_flag=True, help=_OPERATOR_HELP)
@click.option("--quiet", "-q", is_flag=True, help="No progress bars.")
def build(
    buckets: tuple[str, ...],
    missions: tuple[str, ...],
    stage: str | None,
    operator: bool,
    quiet: bool,
) -> None:
    """Scan buckets once and write their index beside the data.

    After seeding a local store with demo data: soc-workspace catalog build -m hermes -m padre
    """
    from ..config import current_settings
    from . import build as build_index
    from .build import instrument_buckets

    if not buckets and not missions:
        raise click.UsageError("give --bucket B or --mission M (both repeatable)")
    reports = []
    for bucket in buckets:
        reports += build_index(bucket, operator=operator, progress=not quiet)
    for mission in missions:
        found = build_index(mission=mission, stage=stage, operator=operator, progress=not quiet)
        absent = sorted(
            set(instrument_buckets(mission, stage or current_settings().stage))
            - {r.bucket for r in found}
        )
        if absent:
            click.echo(f"{mission}: no bucket {', '.join(absent)} at this store: nothing to index")
        reports += found
    if not reports:
        click.echo("no bucket to index (the mission's buckets do not exist at this store)")
    for report in reports:
        click.echo(report.summary())


@catalog.command()
@click.option("--bucket", "-b", required=True, help="The bucket whose index to update.")
@click.option(
    "--keys",
    "keys_file",
    type=click.File("r"),
    help="Keys to add: one key or s3:// URL per line, or S3 event JSON; '-' reads stdin.",
)
@click.option("--since", help="Without --keys: list date folders from this day (YYYY-MM-DD) on.")
@click.option("--operator", is_flag=True, help=_OPERATOR_HELP)
@click.option("--quiet", "-q", is_flag=True, help="No progress bars.")
def update(
    bucket: str,
    keys_file: click.utils.LazyFile | None,
    since: str | None,
    operator: bool,
    quiet: bool,
) -> None:
    """Add new objects to a bucket's index without rescanning it.

    With --keys, only those objects are looked up (e.g. the pipeline's upload events).
    Otherwise only date folders from the newest indexed day on are listed.
    """
    from . import keys_from_text
    from . import update as update_index

    if keys_file is not None and since is not None:
        raise click.UsageError("--keys and --since do not go together")
    keys = keys_from_text(keys_file.read()) if keys_file is not None else None
    report = update_index(bucket, keys, since=since, operator=operator, progress=not quiet)
    click.echo(report.summary())


@catalog.command()
@click.option(
    "--queue",
    help="SQS queue URL or name receiving the buckets' S3 event notifications "
    "(default: setting catalog.events_queue).",
)
@click.option(
    "--subscribe",
    is_flag=True,
    help="Embedded store: create the queue and send it the events of every indexed "
    "instrument bucket (on AWS the SOC's infrastructure configures notifications).",
)
@click.option(
    "--max-batch", default=100, show_default=True, help="At most this many events per update."
)
@click.option("--operator", is_flag=True, help=_OPERATOR_HELP)
@click.option("--quiet", "-q", is_flag=True, help="No line per batch.")
def watch(queue: str | None, subscribe: bool, max_batch: int, operator: bool, quiet: bool) -> None:
    """Keep the indexes current: apply the buckets' object-created and -removed events.

    Runs until stopped (Ctrl-C, SIGTERM). Events of the same moment are applied together, one
    update per bucket; a batch that fails stays on the queue and is delivered again.
    """
    import signal
    import threading

    from ..config import current_settings
    from .watch import watch as watch_queue

    queue = queue or current_settings().catalog.events_queue
    if not queue:
        raise click.UsageError(
            "no queue: pass --queue or set catalog.events_queue "
            "(SOC_WORKSPACE__CATALOG__EVENTS_QUEUE)"
        )
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())

    def said(batch) -> None:  # type: ignore[no-untyped-def]
        if not (batch.keys or batch.ignored or batch.failed):
            return  # only the catalog's own writes: nothing to say
        if not quiet or batch.failed:
            click.echo(batch.summary(), err=bool(batch.failed))

    click.echo(f"watching {queue} for object events (Ctrl-C stops)")
    watch_queue(
        queue, operator=operator, subscribe_buckets=subscribe, max_batch=max_batch,
        stop=stop, on_batch=said,
    )  # fmt: skip


_FORMATS = ["table", "csv", "json", "urls"]


@catalog.command()
@mission_option()
@instrument_option()
@level_option()
@click.option("--descriptor", "-d", help="Descriptor, e.g. photon, spectrum.")
@time_range_options
@click.option(
    "--version",
    "version",
    default="latest",
    show_default=True,
    help="'latest', 'all' or one version (1.0.0).",
)
@click.option("--dataset", help="One dataset id, e.g. padre_meddea_l0_photon.")
@click.option("--bucket", help="Search this bucket's index (any CloudCatalog bucket).")
@stage_option()
@click.option("--format", "fmt", type=click.Choice(_FORMATS), default="table", show_default=True)
@click.option(
    "--limit", type=int, default=50, show_default=True, help="Rows shown in the table (0: all)."
)
def search(
    mission: str | None,
    instrument: str | None,
    level: str | None,
    descriptor: str | None,
    start: Any,
    stop: Any,
    version: str,
    dataset: str | None,
    bucket: str | None,
    stage: str | None,
    fmt: str,
    limit: int,
) -> None:
    """Find files by mission, instrument, level and time range."""
    from . import search as search_files

    with _warnings_as_lines():
        found = search_files(
            mission,
            instrument,
            level,
            start,
            stop,
            descriptor,
            version,
            dataset=dataset,
            bucket=bucket,
            stage=stage,
        )
    if fmt == "csv":
        found.to_csv(sys.stdout, index=False)
    elif fmt == "json":
        click.echo(found.to_json(orient="records", date_format="iso", indent=1))
    elif fmt == "urls":
        for url in found["url"]:
            click.echo(url)
    else:
        _table(found, limit)


def _table(found, limit: int) -> None:  # type: ignore[no-untyped-def]
    from rich.console import Console
    from rich.table import Table

    console = Console()
    if found.empty:
        console.print("no files found")
        return
    shown = found if limit <= 0 else found.head(limit)
    several = found["dataset"].nunique() > 1
    table = Table(show_lines=False, header_style="bold")
    for column in ("dataset", "start", "stop", "version", "size")[0 if several else 1 :]:
        table.add_column(column, justify="right" if column == "size" else "left", no_wrap=True)
    table.add_column("filename", overflow="fold")  # never cut a name short
    for row in shown.itertuples():
        table.add_row(
            *([row.dataset] if several else []),
            f"{row.start:%Y-%m-%d %H:%M:%S}",
            f"{row.stop:%Y-%m-%d %H:%M:%S}",
            row.version or "",
            _size(row.filesize),
            row.filename,
        )
    console.print(table)
    more = f" (first {len(shown)} shown; --limit 0 for all)" if len(shown) < len(found) else ""
    datasets = found["dataset"].nunique()
    where = f"{datasets} datasets" if several else found["dataset"].iloc[0]
    console.print(
        f"{len(found)} file(s) of {where}, {_size(int(found['filesize'].sum()))}"
        f"{more}; --format urls for their URLs"
    )


def _size(n: int) -> str:
    from .coverage_text import human_size

    return human_size(n)


@catalog.command("datasets")
@mission_option()
@instrument_option()
@level_option()
@click.option("--bucket", help="List this bucket's datasets (any CloudCatalog bucket).")
@stage_option()
def datasets(
    mission: str | None,
    instrument: str | None,
    level: str | None,
    bucket: str | None,
    stage: str | None,
) -> None:
    """List the datasets in the catalogs, with their time spans."""
    import pandas as pd
    from rich.console import Console
    from rich.table import Table

    from . import list_datasets

    with _warnings_as_lines():
        found = list_datasets(mission, instrument, level, bucket=bucket, stage=stage)
    console = Console()
    if found.empty:
        console.print("no datasets found")
        return
    table = Table(header_style="bold")
    for column in ("dataset", "first file", "last file ends", "files", "bucket"):
        table.add_column(column, justify="right" if column == "files" else "left")
    for row in found.itertuples():
        files = "" if pd.isna(row.files) else f"{int(row.files):,}"
        table.add_row(row.dataset, _day(row.start), _day(row.stop), files, row.bucket)
    console.print(table)


def _day(value) -> str:  # type: ignore[no-untyped-def]
    return "" if value is None or value != value else f"{value:%Y-%m-%d %H:%M}"


@catalog.command()
@mission_option()
@instrument_option()
@level_option()
@click.option("--descriptor", "-d", help="Descriptor, e.g. photon, spectrum.")
@time_range_options
@click.option(
    "--freq",
    default="1D",
    show_default=True,
    help="Length of a period: 1h, 1D, 7D, MS (calendar months), any pandas frequency.",
)
@click.option("--dataset", help="One dataset id, e.g. padre_meddea_l0_photon.")
@click.option("--bucket", help="This bucket's index (any CloudCatalog bucket).")
@stage_option()
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "csv", "json"]),
    default="table",
    show_default=True,
    help="table: one line per dataset with a strip of its periods; csv/json: every period.",
)
def availability(
    mission: str | None,
    instrument: str | None,
    level: str | None,
    descriptor: str | None,
    start: Any,
    stop: Any,
    freq: str,
    dataset: str | None,
    bucket: str | None,
    stage: str | None,
    fmt: str,
) -> None:
    """What data exist: files, size and time covered per dataset and period, from the catalog.

    The table shows one strip per dataset, one character per period (or per few periods
    when they do not fit): █ covered, ▓ mostly, ▒ half, ░ a little, · no files.
    """
    from .coverage import availability as find_availability

    with _warnings_as_lines():
        table = find_availability(
            mission,
            instrument,
            level,
            start,
            stop,
            freq,
            descriptor=descriptor,
            dataset=dataset,
            bucket=bucket,
            stage=stage,
        )
    if fmt == "csv":
        table.to_csv(sys.stdout, index=False, date_format="%Y-%m-%dT%H:%M:%SZ")
    elif fmt == "json":
        click.echo(table.to_json(orient="records", date_format="iso", indent=1))
    else:
        from .coverage_text import print_strips

        print_strips(table)


@catalog.command()
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("catalogs"),
    show_default=True,
    help="Folder for the YAML files.",
)
@stage_option(multiple=True, help="Stages whose buckets to describe (repeatable; default both).")
def intake(out: Path, stages: tuple[str, ...]) -> None:
    """Generate intake (v2) catalogs of the SOC's datasets into a folder.

    Reads the datasets from the indexes of the SOC buckets at the configured store; writes a
    top catalog (soc.yaml) and one per mission.
    """
    from .intake import write_catalogs

    written = write_catalogs(out, stages=stages or ("prod", "dev"))
    for path in written:
        click.echo(f"wrote {path}")
