"""The SOC's missions: instruments, file names, buckets and object keys.

>>> from soc_workspace.missions import parse_filename, key_for, bucket_for
>>> info = parse_filename("padre_meddea_l0_photon_20240916T122901_v1.0.0.fits")
>>> bucket_for(info.mission, info.instrument), key_for(info)
('padre-meddea', 'l0/photon/2024/09/16/padre_meddea_l0_photon_20240916T122901_v1.0.0.fits')
"""

from .filenames import FileInfo, make_filename, parse_filename
from .keys import (
    STAGES,
    BucketInfo,
    KeyInfo,
    Stage,
    archive_key_for,
    bucket_for,
    bucket_of,
    is_pipeline_bucket,
    key_for,
    parse_bucket,
    parse_key,
)
from .registry import HERMES, MISSIONS, PADRE, REACH, Instrument, Mission, get_mission

__all__ = [
    "HERMES",
    "MISSIONS",
    "PADRE",
    "REACH",
    "STAGES",
    "BucketInfo",
    "FileInfo",
    "Instrument",
    "KeyInfo",
    "Mission",
    "Stage",
    "archive_key_for",
    "bucket_for",
    "bucket_of",
    "get_mission",
    "is_pipeline_bucket",
    "key_for",
    "make_filename",
    "parse_bucket",
    "parse_filename",
    "parse_key",
]
