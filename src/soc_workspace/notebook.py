"""What notebook templates share: a wrong parameter shown as one clear message in its cell.

A template wraps the steps that read its parameters in :func:`one_message`; an unknown
instrument, an empty time range or a time range without data then ends the cell with one line
saying what was wrong and what to try, not a traceback through the catalog's internals.
IPython shows an exception through its ``_render_traceback_`` method when it has one (the hook
IPython offers for this); papermill records the same message as the cell's error.

>>> with one_message():  # doctest: +SKIP
...     files = require_files(search(mission, instrument, level, start=start, stop=stop))
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pandas as pd


class TemplateParameterError(Exception):
    """A template's parameter that does not fit the data; shown as one line."""

    def _render_traceback_(self) -> list[str]:
        return [f"{type(self).__name__}: {self}"]


@contextmanager
def one_message() -> Iterator[None]:
    """Turn the errors a wrong parameter causes (unknown names, bad times, nothing to plot)
    into a :class:`TemplateParameterError` with the same message and no traceback."""
    from .catalog.errors import CatalogError
    from .io import SOCDataError
    from .quicklook import QuicklookError

    try:
        yield
    except TemplateParameterError:
        raise
    except (
        ValueError,
        KeyError,
        FileNotFoundError,
        CatalogError,
        SOCDataError,
        QuicklookError,
    ) as err:
        message = err.args[0] if isinstance(err, KeyError) and err.args else err
        raise TemplateParameterError(str(message)) from None


def require_files(files: pd.DataFrame, what: str, start: object, stop: object) -> pd.DataFrame:
    """The files of a search, or a :class:`TemplateParameterError` saying none were found."""
    from .timestamps import to_utc

    if to_utc(stop, "stop") <= to_utc(start, "start"):
        raise TemplateParameterError(
            f"the time range is empty: start={start!r} must be before stop={stop!r}"
        )
    if files.empty:
        raise TemplateParameterError(
            f"no {what} files between {start} and {stop} in the catalog: choose another time "
            "range (`soc-workspace catalog search` shows which files exist)"
        )
    return files
