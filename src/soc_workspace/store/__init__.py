"""Object stores: the SOC's S3 buckets (or any S3 endpoint) and the embedded local store."""

from .._lazy import lazy_exports
from .access import (
    PipelineBucketError,
    StoreError,
    bucket_of,
    check_reachable,
    check_writable,
    filesystem,
    is_pipeline_bucket,
    storage_options,
)

# The embedded store's server (moto) loads only where it is used: mission kernels, which
# import soc_workspace for reading data, do not carry a store server.
__getattr__ = lazy_exports(__name__, {"EmbeddedStore": "embedded"})[0]

__all__ = [
    "EmbeddedStore",
    "PipelineBucketError",
    "StoreError",
    "bucket_of",
    "check_reachable",
    "check_writable",
    "filesystem",
    "is_pipeline_bucket",
    "storage_options",
]
