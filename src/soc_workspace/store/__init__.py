"""Object stores: the SOC's S3 buckets (or any S3 endpoint) and the embedded local store."""

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
from .embedded import EmbeddedStore

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
