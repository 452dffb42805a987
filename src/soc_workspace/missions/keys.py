"""Where the SOC keeps a file: instrument buckets and object keys.

Current layout (since mid-2025), as the SWxSOC sorting function writes it:

- the mission's first level (``l0`` for HERMES, ``raw`` for PADRE and REACH):
  ``{level}/{YYYY}/{MM}/{DD}/{file}``
- every other level: ``{level}/{descriptor}/{YYYY}/{MM}/{DD}/{file}``, descriptor ``unknown``
  when the name has none, ``spec`` -> ``spectrum`` and ``hk`` -> ``housekeeping``.

Older data used ``{level}/{YYYY}/{MM}/{file}`` (and ``{level}/{descriptor}/{YYYY}/{MM}/{file}``);
:func:`parse_key` accepts every one of these, and REACH's public archive layout
(:func:`archive_key_for`): ``reach/dosimeter/{level}/all_satellites/{descriptor}/{YYYY}/{file}``
for all satellites, ``reach/dosimeter/{level}/vid-{id}_nc/{YYYY}/{file}`` for one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from .filenames import FileInfo, make_filename, parse_filename
from .registry import MISSIONS, get_mission

# Which of the SOC's pipelines wrote the buckets: production or development.
Stage = Literal["prod", "dev"]
STAGES: tuple[Stage, ...] = ("prod", "dev")
UNKNOWN_DESCRIPTOR = "unknown"


def bucket_for(mission: str, instrument: str, stage: Stage | str = "prod") -> str:
    """The instrument bucket: ``{mission}-{instrument}``, ``dev-`` prefixed for the dev stage.

    >>> bucket_for("swxsoc_pipeline", "reach", "dev")
    'dev-swxsoc-pipeline-reach'
    """
    if stage not in STAGES:
        raise ValueError(f"stage {stage!r} is not one of 'prod', 'dev'")
    m = get_mission(mission)
    inst = m.instrument(instrument)
    name = f"{m.name}-{inst.name}".replace("_", "-")
    return f"dev-{name}" if stage == "dev" else name


@dataclass(frozen=True)
class BucketInfo:
    mission: str
    instrument: str
    stage: Stage


def parse_bucket(bucket: str) -> BucketInfo:
    """The mission, instrument and stage of an instrument bucket name."""
    stage: Stage = "dev" if bucket.startswith("dev-") else "prod"
    name = bucket.removeprefix("dev-")
    for m in MISSIONS.values():
        for inst in m.instruments:
            if name == f"{m.name}-{inst.name}".replace("_", "-"):
                return BucketInfo(m.name, inst.name, stage)
    valid = sorted(bucket_for(m.name, i.name) for m in MISSIONS.values() for i in m.instruments)
    raise ValueError(
        f"{bucket!r} is not a SOC instrument bucket: expected one of {', '.join(valid)} "
        "(or the same with a 'dev-' prefix)"
    )


def bucket_of(url: str) -> str:
    """The bucket of ``s3://bucket/key`` or ``bucket/key``.

    >>> bucket_of("s3://hermes-eea/l1/x.cdf")
    'hermes-eea'
    """
    return url.removeprefix("s3://").split("/", 1)[0]


def is_pipeline_bucket(bucket: str) -> bool:
    """True for the SOC's instrument buckets (either stage), where only the pipeline writes."""
    try:
        parse_bucket(bucket)
    except ValueError:
        return False
    return True


def descriptor_path(info: FileInfo) -> str:
    """The descriptor segment of a non-raw key."""
    if not info.descriptor:
        return UNKNOWN_DESCRIPTOR
    return get_mission(info.mission).descriptor_paths.get(info.descriptor, info.descriptor)


def key_for(info: FileInfo, *, name: str | None = None) -> str:
    """The object key of a file in its instrument bucket (current layout).

    ``name`` defaults to the name ``info`` was parsed from, or the standard product name.

    >>> key_for(parse_filename("hermes_eea_l1_20240406T120621_v1.0.0.cdf"))
    'l1/unknown/2024/04/06/hermes_eea_l1_20240406T120621_v1.0.0.cdf'
    """
    name = name or info.name or make_filename(info)
    date = info.time.strftime("%Y/%m/%d")
    if info.level == get_mission(info.mission).first_level:
        return f"{info.level}/{date}/{name}"
    return f"{info.level}/{descriptor_path(info)}/{date}/{name}"


def archive_key_for(info: FileInfo) -> str:
    """REACH products' path in the public archive, as swxsoc_reach's client searches it
    (``reach/dosimeter/l1c/all_satellites/prelim/2025/...``; one satellite:
    ``reach/dosimeter/l1c/vid-136_nc/2019/...``)."""
    if info.mission != "swxsoc_pipeline" or info.instrument != "reach":
        raise ValueError(f"{info.name or info}: only REACH products have an archive path")
    name = info.name or make_filename(info)
    if info.mode in (None, "all"):
        folder = f"all_satellites/{info.descriptor or 'prelim'}"
    else:
        folder = f"vid-{info.mode}_nc"
    return f"reach/dosimeter/{info.level}/{folder}/{info.time:%Y}/{name}"


_ARCHIVE = re.compile(
    r"^reach/dosimeter/(?P<level>[a-z0-9]+)/(?:all_satellites/(?P<desc>[A-Za-z0-9-]+)|"
    r"vid-(?P<vid>\d+)_nc)/(?P<y>\d{4})/(?P<file>[^/]+)$"
)


@dataclass(frozen=True)
class KeyInfo:
    """What an object key says: the file, and where the layout put it."""

    key: str
    file: FileInfo
    layout: Literal["current", "legacy", "archive"]
    level: str
    descriptor_path: str | None


_DATE_DAY = re.compile(r"^(?P<y>\d{4})/(?P<m>\d{2})/(?P<d>\d{2})$")
_DATE_MONTH = re.compile(r"^(?P<y>\d{4})/(?P<m>\d{2})$")


def parse_key(key: str) -> KeyInfo:
    """Parse an object key in the current or the legacy layout.

    Raises ``ValueError`` naming the key when neither layout fits, or when the folders disagree
    with the file name (another level, another date).
    """
    archive = _ARCHIVE.match(key.strip("/"))
    if archive:
        info = parse_filename(archive["file"])
        if (archive["level"], int(archive["y"])) != (info.level, info.time.year):
            raise ValueError(
                f"object key {key!r} is under {archive['level']}/{archive['y']} but its file is "
                f"level {info.level!r} of {info.time:%Y}"
            )
        return KeyInfo(key=key, file=info, layout="archive", level=info.level,
                       descriptor_path=archive["desc"])  # fmt: skip
    parts = key.strip("/").split("/")
    name = parts[-1]
    info = parse_filename(name)
    folders = parts[:-1]
    expected = (
        "{level}/[{descriptor}/]{YYYY}/{MM}/{DD}/{file} (current) or "
        "{level}/[{descriptor}/]{YYYY}/{MM}/{file} (legacy)"
    )
    if len(folders) < 3 or len(folders) > 5:
        raise ValueError(f"object key {key!r} does not follow the SOC layout: expected {expected}")
    level = folders[0]
    rest = folders[1:]
    layout: Literal["current", "legacy", "archive"]
    match = None
    descriptor = None
    for n_desc in (0, 1):
        date = "/".join(rest[n_desc:])
        if match := _DATE_DAY.match(date):
            layout = "current"
        elif match := _DATE_MONTH.match(date):
            layout = "legacy"
        if match:
            descriptor = rest[0] if n_desc else None
            break
    if match is None:
        raise ValueError(f"object key {key!r} does not follow the SOC layout: expected {expected}")
    if level != info.level:
        raise ValueError(
            f"object key {key!r} is under level {level!r} but its file is level {info.level!r}"
        )
    year, month = int(match["y"]), int(match["m"])
    day = int(match["d"]) if layout == "current" else None
    if (year, month) != (info.time.year, info.time.month) or (
        day is not None and day != info.time.day
    ):
        raise ValueError(
            f"object key {key!r} is dated {match.group(0)} but its file starts {info.time:%Y-%m-%d}"
        )
    return KeyInfo(key=key, file=info, layout=layout, level=level, descriptor_path=descriptor)
