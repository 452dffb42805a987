"""Saying so when the object store stops answering in the middle of a command.

botocore reports a store that is down (refused connections, connections closed mid-request,
timeouts) with its own exception types, which are neither ``OSError`` nor ``RuntimeError``: a
command would end in a raw traceback. Commands that talk to the store for a while wrap their
work in :func:`store_outage`, which turns those errors into a :class:`StoreError` naming the
endpoint and what to do.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

import aiohttp
import botocore.exceptions

from .access import StoreError

# What a store that is down or went away looks like through botocore and aiobotocore.
UNREACHABLE = (botocore.exceptions.ConnectionError, botocore.exceptions.HTTPClientError)
ENDPOINT_SETTING = "store.endpoint_url (SOC_WORKSPACE__STORE__ENDPOINT_URL or AWS_ENDPOINT_URL_S3)"


@contextmanager
def store_outage(
    endpoint: str | None, doing: str, again: str, setting: str = ENDPOINT_SETTING
) -> Iterator[None]:
    """Turn "the store does not answer" during ``doing`` into a :class:`StoreError`.

    ``endpoint``: the store's URL (None: AWS S3); ``again``: what to do once it answers;
    ``setting``: where the endpoint was configured.
    """
    try:
        yield
    except UNREACHABLE as err:
        where = endpoint or "AWS S3"
        raise StoreError(
            f"the object store at {where} did not answer while {doing} "
            f"({type(err).__name__}: {err}). Check that it is running (`soc-workspace status`; "
            f"the embedded store alone: `soc-workspace store serve`) and that {setting} names "
            f"it; then {again}"
        ) from err


class _ClosedConnectionNoise(logging.Filter):
    """Drop asyncio's "Task exception was never retrieved" for aiohttp's request-writing task
    when the store closed the connection under it: the request itself fails too and is
    reported (by :func:`store_outage`); this second report would be a raw traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        return not isinstance(error, aiohttp.ClientConnectionError)


logging.getLogger("asyncio").addFilter(_ClosedConnectionNoise())
