"""SWxSOC file names: parse every name the pipeline handles, make standard product names.

Standard products::

    {mission}_{inst}_{mode}_{level}{test}_{descriptor}_{YYYYMMDDThhmmss}_v{X.Y.Z}.{ext}

with empty parts dropped. Raw names differ per instrument (see ``RAW_NAME_RULES``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from .registry import MISSIONS, Mission, get_mission

STANDARD_TIME_FORMAT = "%Y%m%dT%H%M%S"
_VERSION = re.compile(r"^\d+\.\d+\.\d+$")
_PART = re.compile(r"^[A-Za-z0-9-]+$")  # a mode or descriptor: no "_" (it separates fields)


@dataclass(frozen=True)
class FileInfo:
    """What a SWxSOC file name says about the file.

    ``instrument`` is the registry name (``nemisis``, not the short name ``nem``), ``time`` is
    UTC and timezone-aware, ``version`` is ``"X.Y.Z"`` for products, the raw version string
    (``"0"``, ``"01"``) or None for raw files, and ``extension`` has no dot.
    """

    mission: str
    instrument: str
    level: str
    time: datetime
    version: str | None = None
    descriptor: str | None = None
    mode: str | None = None
    test: bool = False
    extension: str = "cdf"
    name: str | None = None  # the file name this was parsed from, if any

    @property
    def is_raw(self) -> bool:
        """True for telemetry in the instrument's own format (not a standard product name)."""
        return self.name is not None and not _is_standard(self.name)

    def with_version(self, version: str) -> FileInfo:
        return replace(self, version=version, name=None)


def parse_filename(name: str) -> FileInfo:
    """Parse a SWxSOC file name (product or raw) into a :class:`FileInfo`.

    Directories in ``name`` are ignored. Raises ``ValueError`` naming the file and what was
    expected when the name follows none of the conventions.

    >>> parse_filename("hermes_eea_l1_20240406T120621_v1.0.0.cdf").instrument
    'eea'
    """
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    if not base:
        raise ValueError(f"{name!r}: not a file name")
    if _is_standard(base):
        return _parse_standard(base)
    for rule in RAW_NAME_RULES:
        match = rule.pattern.match(base)
        if match:
            try:
                return rule.parse(match, base)
            except ValueError:
                # strptime's own words ("unconverted data remains: 9") name neither.
                times = [v for k, v in match.groupdict().items() if k in ("time", "start") and v]
                raise ValueError(
                    f"{base!r} is named like raw telemetry, but its time "
                    f"{times[0] if times else ''!r} is not a valid date and time"
                ) from None
    m = _mission_of(base)
    if m is not None:
        raise ValueError(
            f"{base!r} is not a valid {m.name} file name: products end in .{m.extension} and "
            f"follow '{m.name}_{{inst}}_[{{mode}}_]{{level}}[test]_[{{descriptor}}_]"
            "{YYYYMMDDThhmmss}_v{X.Y.Z}', and no raw telemetry name matches"
        )
    raise ValueError(
        f"{base!r} is not a SWxSOC file name: expected "
        "'{mission}_{inst}_[{mode}_]{level}[test]_[{descriptor}_]{YYYYMMDDThhmmss}_v{X.Y.Z}.{ext}' "
        f"for {', '.join(MISSIONS)} products, or a raw telemetry name "
        "(hermes_EEA_l0_YYYYDDD-hhmmss_vN.bin, PADREMDA0_YYMMDDhhmmss.DAT, ...)"
    )


def make_filename(
    info: FileInfo | None = None,
    /,
    *,
    mission: str | None = None,
    instrument: str | None = None,
    level: str | None = None,
    time: datetime | None = None,
    version: str | None = None,
    mode: str | None = None,
    descriptor: str | None = None,
    test: bool = False,
) -> str:
    """Make a standard product file name, from a :class:`FileInfo` or from keyword fields.

    ``make_filename(parse_filename(n)) == n`` for every standard product name ``n`` in the
    form the pipeline writes (REACH: ``reach_...``, without the mission name).
    Naive times are taken as UTC; sub-second parts are dropped, as the pipeline does.

    >>> from datetime import datetime
    >>> make_filename(mission="hermes", instrument="nemisis", level="l1",
    ...               time=datetime(2024, 4, 6, 12, 6, 21), version="1.0.0")
    'hermes_nem_l1_20240406T120621_v1.0.0.cdf'
    """
    if info is not None:
        mission, instrument, level = info.mission, info.instrument, info.level
        time, version, mode, descriptor, test = (
            info.time,
            info.version,
            info.mode,
            info.descriptor,
            info.test,
        )
    if mission is None or instrument is None or level is None or time is None:
        raise ValueError("make_filename needs mission, instrument, level and time")
    m = get_mission(mission)
    inst = m.instrument(instrument)
    if level not in m.levels:
        raise ValueError(
            f"level {level!r} is not a level of {m.name}: expected one of {', '.join(m.levels)}"
        )
    if version is None or not _VERSION.match(version):
        raise ValueError(f"version {version!r} is not formatted as X.Y.Z with three integers")
    for what, part in (("mode", mode), ("descriptor", descriptor)):
        if part and not _PART.match(part):
            raise ValueError(f"{what} {part!r} may hold only letters, digits and '-' (no '_')")
    if time.tzinfo is not None:
        time = time.astimezone(UTC)
    parts = [
        m.name if m.names_start_with_mission else "",
        inst.short_name,
        mode or "",
        f"{level}{'test' if test else ''}",
        descriptor or "",
        time.strftime(STANDARD_TIME_FORMAT),
        f"v{version}",
    ]
    return "_".join(p for p in parts if p) + f".{m.extension}"


# -- standard product names ----------------------------------------------------------------


def _mission_of(base: str) -> Mission | None:
    # Longest name first: "swxsoc_pipeline" contains an underscore.
    for m in sorted(MISSIONS.values(), key=lambda m: -len(m.name)):
        if base.startswith(m.name + "_"):
            return m
    for m in MISSIONS.values():  # names that start with the instrument (REACH)
        if not m.names_start_with_mission and any(
            base.startswith(i.short_name + "_") for i in m.instruments
        ):
            return m
    return None


def _is_standard(base: str) -> bool:
    m = _mission_of(base)
    return m is not None and base.lower().endswith("." + m.extension)


def _parse_standard(base: str) -> FileInfo:
    m = _mission_of(base)
    assert m is not None
    prefix = len(m.name) + 1 if base.startswith(m.name + "_") else 0
    stem = base[prefix : -(len(m.extension) + 1)]
    parts = stem.split("_")

    def bad(why: str) -> ValueError:
        return ValueError(f"{base!r} is not a valid {m.name} product name: {why}")

    if len(parts) < 4 or len(parts) > 6:
        raise bad(
            "expected {inst}_[{mode}_]{level}[test]_[{descriptor}_]{YYYYMMDDThhmmss}_v{X.Y.Z}"
        )
    short, *middle, time_part, version_part = parts
    inst = next((i for i in m.instruments if i.short_name == short), None)
    if inst is None:
        valid = ", ".join(i.short_name for i in m.instruments)
        raise bad(f"unknown instrument short name {short!r} (expected one of {valid})")
    if not version_part.startswith("v") or not _VERSION.match(version_part[1:]):
        raise bad(f"version {version_part!r} should be v followed by X.Y.Z")
    try:
        if not re.fullmatch(r"\d{8}T\d{6}", time_part):
            raise ValueError
        time = datetime.strptime(time_part, STANDARD_TIME_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        raise bad(f"time {time_part!r} should be a valid YYYYMMDDThhmmss") from None

    level_re = re.compile(rf"^({'|'.join(map(re.escape, m.levels))})(test)?$")
    mode = descriptor = None
    if level_re.match(middle[0]):
        level_part, rest = middle[0], middle[1:]
    elif len(middle) >= 2 and level_re.match(middle[1]):
        mode, level_part, rest = middle[0], middle[1], middle[2:]
    else:
        raise bad(f"no data level among {middle} (expected one of {', '.join(m.levels)})")
    if len(rest) > 1:
        raise bad(f"too many fields between level and time: {rest}")
    descriptor = rest[0] if rest else None
    level_match = level_re.match(level_part)
    assert level_match is not None
    return FileInfo(
        mission=m.name,
        instrument=inst.name,
        level=level_match.group(1),
        time=time,
        version=version_part[1:],
        descriptor=descriptor,
        mode=mode,
        test=bool(level_match.group(2)),
        extension=m.extension,
        name=base,
    )


# -- raw telemetry names -------------------------------------------------------------------


@dataclass(frozen=True)
class _RawRule:
    pattern: re.Pattern[str]
    parse: Callable[[re.Match[str], str], FileInfo]


def _doy_time(text: str) -> datetime:
    return datetime.strptime(text, "%Y%j-%H%M%S").replace(tzinfo=UTC)


def _yymmdd_time(text: str) -> datetime:
    return datetime.strptime(text, "%y%m%d%H%M%S").replace(tzinfo=UTC)


def _unix_ms_time(text: str) -> datetime:
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=int(text))


def _moc_level0(match: re.Match[str], base: str) -> FileInfo:
    # hermes_EEA_l0_2023042-000000_v0.bin, hermes_MERIT_VC_l0_..., padre_MEDDEA_l0_..._v3.bin
    m = get_mission(match["mission"])
    inst = m.instrument(match["target"])
    level = "l0" if match["level"] else m.first_level
    return FileInfo(
        mission=m.name,
        instrument=inst.name,
        level=level,
        time=_doy_time(match["time"]),
        version=match["version"],
        mode=match["mode"],
        extension=match["ext"].lower(),
        name=base,
    )


# MeDDEA packet files: the APID code says which product the calibration makes of them.
MEDDEA_PACKETS = {"MDA0": "photon", "MDA2": "spectrum", "MDU8": "housekeeping"}


def _padre_packets(match: re.Match[str], base: str) -> FileInfo:
    code = match["code"].upper()
    instrument = "sharp" if code.startswith("SP") else "meddea"
    return FileInfo(
        mission="padre",
        instrument=instrument,
        level="raw",
        time=_yymmdd_time(match["time"]),
        descriptor=MEDDEA_PACKETS.get(code),
        extension=match["ext"].lower(),
        name=base,
    )


def _padre_craft(match: re.Match[str], base: str) -> FileInfo:
    return FileInfo(
        mission="padre",
        instrument="craft",
        level="raw",
        time=_unix_ms_time(match["start"]),
        descriptor=match["tlm"],
        extension="csv",
        name=base,
    )


def _reach_raw(match: re.Match[str], base: str) -> FileInfo:
    return FileInfo(
        mission="swxsoc_pipeline",
        instrument="reach",
        level="raw",
        time=datetime.strptime(match["start"], STANDARD_TIME_FORMAT).replace(tzinfo=UTC),
        mode=match["mode"].lower(),
        extension=match["ext"].lower(),
        name=base,
    )


RAW_NAME_RULES: tuple[_RawRule, ...] = (
    _RawRule(
        re.compile(
            r"^(?P<mission>hermes|padre)_(?P<target>EEA|NEM|MERIT|SPANI|MEDDEA|SHARP)"
            r"(?:_(?P<mode>(?!l0_)[A-Za-z0-9]+))?_(?:(?P<level>l0)|apid\d+)_(?P<time>\d{7}-\d{6})"
            r"(?:_v(?P<version>\d+))?\.(?P<ext>bin)$",
            re.IGNORECASE,
        ),
        _moc_level0,
    ),
    _RawRule(
        re.compile(
            r"^padre(?P<code>MD[AU]\d|SP\d+)_(?P<time>\d{12})\.(?P<ext>dat|idx)$", re.IGNORECASE
        ),
        _padre_packets,
    ),
    _RawRule(
        re.compile(r"^padre_get_(?P<tlm>.+)_Data_(?P<start>\d{13})_(?P<stop>\d{13})\.csv$"),
        _padre_craft,
    ),
    _RawRule(
        re.compile(
            r"^REACH-(?P<mode>[A-Za-z0-9]+)_(?P<start>\d{8}T\d{6})_(?P<stop>\d{8}T\d{6})"
            r"\.(?P<ext>csv|json)$"
        ),
        _reach_raw,
    ),
)
