"""``soc-workspace review RUN``: what a rerun changed against the archive."""

from __future__ import annotations

import json

import click
from rich.console import Console


@click.command("review")
@click.argument("run")
@click.option("--json", "as_json", is_flag=True, help="Print the review as JSON.")
def review_command(run: str, as_json: bool) -> int:
    """Review RUN (a run id of yours, or a run folder's URL) against the archive.

    For a rerun with a candidate calibration (`env create NAME --from hermes --with ...`,
    then `rerun --environment NAME --compare ...`): files processed, verdicts, and for each
    variable that changed, in how many files, records and values, by how much (max absolute
    and relative difference, a histogram), and where the largest change is. The notebook
    template review-candidate-calibration.ipynb shows the same with plots. Exit status 1 when
    any variable changed or any file failed.
    """
    from .review import review

    result = review(run, progress=not as_json)
    if as_json:
        click.echo(json.dumps(result.to_dict(), indent=2, default=str))
    else:
        Console().print(result)
    return 1 if result.changed or result.verdicts.get("failed") else 0
