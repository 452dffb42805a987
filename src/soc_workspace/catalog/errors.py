"""What goes wrong with an index, as exceptions whose messages say what to do."""

from __future__ import annotations


class CatalogError(RuntimeError):
    """An index is missing, damaged or cannot be read; the message says which and what to do."""


class CatalogWarning(UserWarning):
    """Part of a search could not be answered (a bucket without an index, ...)."""


class ConcurrentUpdate(CatalogError):
    """Another writer published a generation while this one was being prepared."""


def repair_hint(bucket: str) -> str:
    """The one command that rebuilds every index file of ``bucket`` from its objects."""
    return f"`soc-workspace catalog build --bucket {bucket}` rebuilds it from the objects"
