"""The options every command shares: what data (mission, instrument, level), when (start,
stop) and which stage of the pipeline (prod, dev). One definition each, so each option has the
same flags, type, time rule and help text in every command.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any, TypeVar

import click

from .missions import STAGES

F = TypeVar("F", bound=Callable[..., Any])

TIME_RULE = "files overlapping [start, stop) are chosen"


class UTCTime(click.ParamType):
    """A time on the command line: ``2025-06-01``, ``2025-06-01T12:00``; UTC unless a zone
    is given (read by :func:`soc_workspace.timestamps.to_utc`, as the Python API reads it)."""

    name = "time"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        from .timestamps import to_utc  # pandas: only when a command reads a time

        try:
            return to_utc(value, f"--{param.name}" if param is not None else "time")
        except ValueError as err:
            self.fail(str(err), param, ctx)


UTC_TIME = UTCTime()


def mission_option(*, multiple: bool = False, help: str | None = None) -> Callable[[F], F]:
    return _name_option("mission", "-m", "hermes, padre", multiple, help)


def instrument_option(*, multiple: bool = False, help: str | None = None) -> Callable[[F], F]:
    return _name_option("instrument", "-i", "eea, meddea", multiple, help)


def _name_option(
    word: str, short: str, examples: str, multiple: bool, help: str | None
) -> Callable[[F], F]:
    return click.option(
        f"--{word}",
        short,
        f"{word}s" if multiple else word,
        multiple=multiple,
        help=help
        or f"{word.capitalize()}, e.g. {examples}" + (" (repeatable)." if multiple else "."),
    )


def level_option(help: str | None = None) -> Callable[[F], F]:
    return click.option("--level", "-l", help=help or "Data level, e.g. l0, l1.")


def time_range_options(f: F) -> F:
    """``--start`` and ``--stop``: UTC times; files overlapping [start, stop) are chosen."""
    f = click.option(
        "--stop",
        type=UTC_TIME,
        help=f"End of the time range (UTC, exclusive); {TIME_RULE}.",
    )(f)
    return click.option(
        "--start",
        type=UTC_TIME,
        help="Start of the time range (UTC), e.g. 2025-06-01 or 2025-06-01T12:00.",
    )(f)


def stage_option(*, multiple: bool = False, help: str | None = None) -> Callable[[F], F]:
    """``--stage prod|dev``: which stage of the SOC's pipeline (its buckets); ``--env``, its
    old name, still works until 0.3, with a warning."""
    name = "stages" if multiple else "stage"

    def decorate(f: F) -> F:
        f = click.option(
            "--env",
            type=click.Choice(STAGES),
            multiple=multiple,
            hidden=True,
            expose_value=False,
            callback=_remember_old_env,
        )(f)
        return click.option(
            "--stage",
            name,
            type=click.Choice(STAGES),
            multiple=multiple,
            callback=_stage_or_old_env,
            help=help
            or "Buckets of the SOC pipeline's prod or dev stage [settings: stage]"
            + (" (repeatable)." if multiple else "."),
        )(f)

    return decorate


# click processes the options given on the command line first, so --env (when given) is seen
# before --stage's default is.
def _remember_old_env(ctx: click.Context, param: click.Parameter, value: Any) -> None:
    if value:
        message = "--env is now --stage (the prod/dev buckets); --env goes away in 0.3"
        warnings.warn(message, FutureWarning, stacklevel=2)
        click.secho(f"warning: {message}", fg="yellow", err=True)
        ctx.meta["soc_workspace.old_env"] = value


def _stage_or_old_env(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
    return value or ctx.meta.get("soc_workspace.old_env") or value
