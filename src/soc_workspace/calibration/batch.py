"""Rerun many files on a Dask cluster: one task per file, a table of what happened.

Each task runs :func:`~soc_workspace.calibration.single.rerun_file` on a worker (next to the
data when the cluster is the workspace's gateway) and never raises: a file that fails becomes
a row with its error, and the batch goes on. A worker that dies takes no file with it: the
scheduler runs its tasks again elsewhere (outputs land on the same keys, so a repeat is
harmless), and a file that kills workers repeatedly is reported as failed.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import pandas as pd

from ..config import Settings, current_settings
from .comparison import compare as compare_products
from .inputs import input_urls
from .outputs import NotPlaced, archived_for_input, archived_url, put_text, run_location
from .single import rerun_file

COLUMNS = [
    "input",
    "status",
    "products",
    "error",
    "seconds",
    "log",
    "provenance",
    "environment",
    "package",
    "package_version",
    "warnings",
]
COMPARE_COLUMNS = ["archived", "verdict", "differences"]


def rerun(
    files_or_search: Any,
    *,
    cluster: Any = None,
    workers: int | None = None,
    environment: str | None = None,
    run_id: str | None = None,
    output: str | None = None,
    compare: bool = False,
    timeout: float | None = None,
    pass_env: Sequence[str] = (),
    progress: bool = True,
    settings: Settings | None = None,
) -> pd.DataFrame:
    """Rerun the calibration of many files on a Dask cluster; return one row per file.

    Parameters
    ----------
    files_or_search
        Keys, URLs or paths, or a table with a ``url`` column (a catalog search result).
    cluster
        A ``distributed.Client``, a cluster object, or a scheduler address. Default: a new
        cluster from :func:`soc_workspace.compute.dask_cluster` (the dask-gateway when
        ``DASK_GATEWAY__ADDRESS`` is set, else local), closed at the end. ``False``: no
        cluster, the files one after the other in this process.
    workers
        Workers of the cluster started here.
    compare
        Also compare each product with the archived product of the same name
        (columns ``archived``, ``verdict``, ``differences``).
    environment, timeout, pass_env, settings
        As for :func:`rerun_file`; every file of the batch shares the run folder.

    Returns
    -------
    pandas.DataFrame
        Columns ``input``, ``status`` (ok / no product / failed), ``products``, ``error``,
        ``seconds``, ``log``, ``provenance``, ...; ``table.attrs`` holds ``run_id`` and
        ``run_url``. The table is also written to ``<run>/summary.csv``.
    """
    settings = settings or current_settings()
    inputs = input_urls(files_or_search)
    location = run_location(run_id, output=output, settings=settings)
    columns = COLUMNS + (COMPARE_COLUMNS if compare else [])
    rows: list[dict[str, Any] | None] = [None] * len(inputs)
    if inputs:
        with _connect(cluster, workers) as client:
            rows = _run_all(
                client,
                inputs,
                location.url,
                location.run_id,
                compare,
                progress,
                dict(
                    environment=environment,
                    timeout=timeout,
                    pass_env=tuple(pass_env),
                    settings=settings,
                ),
            )
    table = pd.DataFrame([r for r in rows if r is not None], columns=columns)
    table.attrs.update(run_id=location.run_id, run_url=location.url, note=location.note)
    if inputs:
        put_text(_as_csv(table), location.summary_url, settings)
    return table


def _run_all(
    client: Any,
    inputs: list[str],
    run_url: str,
    run_id: str,
    compare: bool,
    progress: bool,
    options: dict[str, Any],
) -> list[dict[str, Any] | None]:
    from tqdm.auto import tqdm

    def task(url: str) -> dict[str, Any]:
        return rerun_one(url, run_id=run_id, output=run_url, compare=compare, **options)

    rows: list[dict[str, Any] | None] = [None] * len(inputs)
    counts = {"ok": 0, "no product": 0, "failed": 0}
    with tqdm(total=len(inputs), desc=f"rerun {run_id}", unit="file", disable=not progress) as bar:
        for i, row in _results(client, task, inputs, run_id):
            rows[i] = row
            counts[row["status"]] += 1
            bar.set_postfix(counts, refresh=False)
            bar.update()
    return rows


def _results(
    client: Any, task: Any, inputs: list[str], run_id: str
) -> Iterator[tuple[int, dict[str, Any]]]:
    """(index, row) as files finish: on the cluster, or here one after the other."""
    if client is None:
        for i, url in enumerate(inputs):
            yield i, task(url)
        return
    from distributed import as_completed

    futures = {
        client.submit(task, url, pure=False, key=f"rerun-{run_id}-{i}"): (i, url)
        for i, url in enumerate(inputs)
    }
    for future in as_completed(futures):
        i, url = futures[future]
        try:
            row = future.result()
        except Exception as err:  # the task itself was lost, e.g. it killed its workers
            row = _failed(url, f"{type(err).__name__}: {err}")
        yield i, row


def rerun_one(url: str, *, compare: bool = False, **options: Any) -> dict[str, Any]:
    """One file, as a table row (what a batch task runs on a worker; never raises)."""
    try:
        result = rerun_file(url, **options)
    except Exception as err:  # before the calibration could run: name, input, environment
        return _failed(url, f"{type(err).__name__}: {err}")
    row = {
        "input": result.input,
        "status": result.status,
        "products": result.products,
        "error": result.error,
        "seconds": round(result.seconds, 3),
        "log": result.log_url,
        "provenance": result.provenance_url,
        "environment": result.environment,
        "package": result.package,
        "package_version": result.package_version,
        "warnings": result.warnings,
    }
    if compare:
        # A comparison that cannot be made never turns a rerun that produced files into a
        # failure: the row says "not compared" and why.
        row.update(_compare_products(result.products, result.input, options.get("settings")))
    return row


def _compare_products(
    products: list[str], input_url: str, settings: Settings | None
) -> dict[str, Any]:
    archived, verdicts, differences = [], [], []
    for product in products:
        try:
            target = archived_url(product, settings)
        except ValueError:  # a name the registry cannot parse: look where the input's went
            try:
                target = archived_for_input(product, input_url, settings)
            except (NotPlaced, ValueError, OSError) as err:
                archived.append(None)
                verdicts.append("not compared")
                differences.append(str(err))
                continue
        archived.append(target)
        try:
            report = compare_products(product, target, settings=settings)
        except FileNotFoundError:
            verdicts.append("no archived product")
            differences.append(f"{target} does not exist")
            continue
        except Exception as err:  # unreadable, or the store failed: this row only
            verdicts.append("not compared")
            differences.append(f"{type(err).__name__}: {err}")
            continue
        verdicts.append(report.verdict)
        differences.append(report.summary())
    order = ["different", "not compared", "no archived product", "equivalent", "identical"]
    worst = min(verdicts, key=order.index) if verdicts else None
    return {"archived": archived, "verdict": worst, "differences": "; ".join(differences)}


def _failed(url: str, error: str) -> dict[str, Any]:
    row: dict[str, Any] = dict.fromkeys(COLUMNS)
    row.update(input=url, status="failed", products=[], error=error, warnings=[])
    return row


@contextmanager
def _connect(cluster: Any, workers: int | None) -> Iterator[Any]:
    """A client for ``cluster``; what is started here is closed on leaving."""
    from distributed import Client

    if cluster is False:  # no Dask: one file after the other in this process
        yield None
    elif isinstance(cluster, Client):
        yield cluster
    elif cluster is None:
        from ..compute import dask_cluster, gateway_configured

        default = 2 if gateway_configured() else os.cpu_count() or 1
        with dask_cluster(workers or default) as client:
            yield client
    else:  # a cluster object or a scheduler address
        with Client(str(cluster) if isinstance(cluster, (str, os.PathLike)) else cluster) as client:
            yield client


def _as_csv(table: pd.DataFrame) -> str:
    flat = table.copy()
    for column in flat.columns:
        if flat[column].map(lambda v: isinstance(v, (list, tuple))).any():
            flat[column] = flat[column].map(
                lambda v: json.dumps(list(v)) if isinstance(v, (list, tuple)) else v
            )
    return flat.to_csv(index=False)
