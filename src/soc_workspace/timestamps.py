"""Times as users give them (text, datetime, date, pandas Timestamp) made UTC: one rule.

Every function that takes a time (``search``, ``open_catalog_files``, ``find_inputs``, the
command line's ``--start``/``--stop``) reads it with :func:`to_utc`: a value without a zone is
UTC, a value with one is converted.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pandas as pd

TimeLike = str | datetime | date | pd.Timestamp


def to_utc(value: Any, what: str = "time") -> pd.Timestamp:
    """``value`` as a UTC pandas Timestamp (a ``datetime``); ``what`` names it in errors.

    >>> to_utc("2025-06-01T12:00")
    Timestamp('2025-06-01 12:00:00+0000', tz='UTC')
    >>> to_utc("2025-06-01T12:00+02:00")
    Timestamp('2025-06-01 10:00:00+0000', tz='UTC')
    """
    try:
        ts = pd.Timestamp(value)
    except (ValueError, TypeError):
        raise ValueError(
            f"{what}={value!r} is not a time: give e.g. '2025-06-01', '2025-06-01T12:00', "
            "a datetime or a pandas Timestamp (UTC unless a timezone is given)"
        ) from None
    if ts is pd.NaT:
        raise ValueError(f"{what} is NaT: give a time or None")
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
