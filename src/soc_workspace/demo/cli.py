"""``soc-workspace demo-data``: write realistic demo SOC files into a test store or a folder."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import click

from ..cli_options import instrument_option, mission_option, stage_option
from .plan import AVAILABLE
from .runner import DEFAULT_START


@click.command("demo-data")
@click.option("--days", type=click.IntRange(min=1), default=2, show_default=True)
@click.option(
    "--start",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=DEFAULT_START.isoformat(),
    show_default=True,
    help="First day (UTC).",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Same seed, same bytes.")
@mission_option(multiple=True, help=f"Only this mission (repeatable): {', '.join(AVAILABLE)}.")
@instrument_option(
    multiple=True,
    help="Only this instrument (repeatable): "
    + ", ".join(i for insts in AVAILABLE.values() for i in insts)
    + ".",
)
@stage_option(help="prod writes hermes-eea ..., dev writes dev-hermes-eea ... [default: prod]")
@click.option(
    "--store",
    "store_url",
    metavar="URL",
    help="S3 endpoint of a test store, e.g. http://127.0.0.1:9000. Default: the configured "
    "store if it is on this machine, else the embedded store's state dir.",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help="Write a local tree DIR/<bucket>/<key> instead of a store.",
)
@click.option(
    "--allow-remote-store",
    is_flag=True,
    help="Let --store name an endpoint that is not on this machine (a remote test store).",
)
@click.option(
    "--catalog/--no-catalog",
    default=True,
    show_default=True,
    help="Build the catalog index of the buckets written, as the SOC operator would.",
)
@click.option("--progress/--no-progress", default=True, show_default=True)
def demo_data(
    days: int,
    start: datetime,
    seed: int,
    missions: tuple[str, ...],
    instruments: tuple[str, ...],
    stage: str | None,
    store_url: str | None,
    out: Path | None,
    allow_remote_store: bool,
    catalog: bool,
    progress: bool,
) -> None:
    """Write realistic demo SOC files (HERMES CDF, PADRE FITS, raw packets) into a store, and
    their catalog.

    The files take the SOC's real names, instrument buckets and key layout, so every part of
    the workspace finds them as it would find real data. Because of that they are written
    only to a test store on this machine, never to the SOC's buckets. Without a running
    store they go into the embedded store's folder, which `soc-workspace store serve` serves.
    """
    from .runner import generate_files, write_demo_data

    if store_url and out:
        raise click.UsageError("--store and --out exclude each other: choose one target")
    if allow_remote_store and not store_url:
        raise click.UsageError("--allow-remote-store needs --store URL naming the test store")
    selection: dict[str, Any] = dict(
        days=days,
        start=start.date(),
        seed=seed,
        missions=list(missions) or None,
        instruments=list(instruments) or None,
        stage=stage or "prod",
        progress=progress,
    )
    if out is not None:
        began = time.perf_counter()
        paths = generate_files(out, **selection)
        size = sum(p.stat().st_size for p in paths)
        buckets = sorted({p.relative_to(out).parts[0] for p in paths})
        click.echo(
            f"{len(paths)} files, {size / 1e6:.1f} MB in {time.perf_counter() - began:.1f} s "
            f"-> {out}\n  buckets: {', '.join(buckets)}"
        )
        return
    with _target(store_url) as (options, note):
        report = write_demo_data(
            options, allow_remote=allow_remote_store, catalog=catalog, **selection
        )
    click.echo(report.summary())
    if note:
        click.echo(note)


@contextmanager
def _target(store_url: str | None) -> Iterator[tuple[dict[str, Any], str]]:
    """s3fs options of the store to write, and a note for the user about it."""
    from ..config import current_settings
    from ..store import is_loopback, storage_options
    from ..store.process import running_endpoint
    from .target import options_for_endpoint

    if store_url:
        yield options_for_endpoint(store_url), ""
        return
    settings = current_settings()
    configured = settings.store.resolved_endpoint_url
    if configured and is_loopback(configured):
        yield storage_options(settings), ""
        return
    state = settings.embedded_store.resolved_state_dir
    running = running_endpoint(state)
    if running:
        yield options_for_endpoint(running), f"(the embedded store running at {running})"
        return
    # No store runs: fill the embedded store's folder, which `store serve` serves from.
    from ..store.embedded import EmbeddedStore

    with EmbeddedStore(state) as store:
        yield (
            store.storage_options(),
            f"(kept in {state / 'objects'}; `soc-workspace store serve` serves them)",
        )
