"""Object stores: the SOC's S3 buckets (or any S3 endpoint) and the embedded local store.

Everything that reaches a store goes through :mod:`.access` (``url_to_fs``,
``storage_options``). :class:`EmbeddedStore` (a moto server) needs the ``workspace`` extra:
it is imported on first use (mission kernels, which import soc_workspace for reading data,
carry no store server).
"""

from .._lazy import lazy_exports
from .access import (
    PipelineBucketError,
    StoreError,
    bucket_of,
    check_reachable,
    check_writable,
    endpoint_of,
    filesystem,
    is_loopback,
    is_pipeline_bucket,
    s3fs_options,
    storage_options,
    url_to_fs,
)

__all__ = [
    "EmbeddedStore",
    "PipelineBucketError",
    "StoreError",
    "bucket_of",
    "check_reachable",
    "check_writable",
    "endpoint_of",
    "filesystem",
    "is_loopback",
    "is_pipeline_bucket",
    "s3fs_options",
    "storage_options",
    "url_to_fs",
]

__getattr__, _dir = lazy_exports(__name__, {"EmbeddedStore": "embedded"})


def __dir__() -> list[str]:
    return sorted(__all__)
