"""Catalogs: index files beside the data, millisecond time-range queries, intake catalogs.

>>> from soc_workspace.catalog import search  # doctest: +SKIP
>>> files = search("hermes", "eea", "l1", start="2025-06-01", stop="2025-06-02")  # doctest: +SKIP

``build``/``update`` write a bucket's index (CloudCatalog ``catalog.json`` + yearly CSV files,
and a parquet copy that ``search`` reads); ``search`` finds files without listing buckets;
``availability`` says what exists per period; ``open_catalog_files`` reads a search result
into xarray; ``watch`` keeps indexes current from the buckets' event notifications. See
docs/catalogs.md.
"""

from .build import BuildReport, build, update
from .cloudcatalog import IndexFormatWarning
from .coverage import Availability, availability
from .datasets import Dataset, dataset_for
from .discover import keys_from_text
from .errors import CatalogError, CatalogWarning
from .location import IndexLocation, locate
from .opening import open_catalog_files
from .query import RESULT_COLUMNS, list_datasets, search
from .sources import clear_cache

__all__ = [
    "RESULT_COLUMNS",
    "Availability",
    "BuildReport",
    "CatalogError",
    "CatalogWarning",
    "Dataset",
    "IndexFormatWarning",
    "IndexLocation",
    "availability",
    "build",
    "clear_cache",
    "dataset_for",
    "keys_from_text",
    "list_datasets",
    "locate",
    "open_catalog_files",
    "search",
    "update",
]
