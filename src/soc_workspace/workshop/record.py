"""A workshop as the hub keeps it: a record in its group's properties.

``create`` writes it, the hub's authenticator and spawner read it (logins, materials,
profile), the gateway reads its Dask limits, ``status``/``end``/``rehearse`` and the end
service read it again. Only hashes of passwords are kept; the passwords themselves exist only
on the sign-in sheet.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from ..hub.workshops import LIMITS_KEY, WORKSHOP_KEY, has_ended

WORKSHOP_NAME = re.compile(r"^[a-z][a-z0-9-]{0,23}$")
"""Workshop names: also the hub group's name, the home folder's and the accounts' prefix."""


class WorkshopError(ValueError):
    """A workshop cannot be created, found or ended as asked; the message says why."""


def check_name(name: str) -> str:
    if not WORKSHOP_NAME.match(name):
        raise WorkshopError(
            f"workshop name {name!r}: use 1-24 lower-case letters, digits and '-', starting "
            "with a letter (it names the hub group, the folder in each home and the accounts)"
        )
    return name


def parse_time(text: str, option: str) -> datetime:
    """An ISO 8601 date and time (this machine's time zone when none is given), in UTC."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise WorkshopError(
            f"{option} {text!r} is not a date and time: expected ISO 8601, e.g. "
            "2026-05-04T09:00 or 2026-05-04T09:00+02:00"
        ) from None
    if moment.tzinfo is None:
        moment = moment.astimezone()  # the trainer's local time
    return moment.astimezone(UTC)


_LIMIT_NAMES = {"workers": "max_workers", "cores": "max_cores", "memory": "max_memory"}


def parse_limits(text: str) -> dict[str, Any]:
    """``workers=2,cores=2,memory=4G`` -> the gateway's per-group limits."""
    limits: dict[str, Any] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        key, _, value = part.partition("=")
        name = _LIMIT_NAMES.get(key.strip())
        if name is None or not value.strip():
            raise WorkshopError(
                f"--limits {text!r}: expected workers=N,cores=N,memory=SIZE (any of them), "
                f"not {part!r}"
            )
        value = value.strip()
        try:
            limits[name] = (
                int(value)
                if name == "max_workers"
                else float(value)
                if name == "max_cores"
                else value
            )
        except ValueError:
            raise WorkshopError(f"--limits: {key} must be a number, not {value!r}") from None
    from ..config import GroupLimits

    try:
        GroupLimits(**limits)
    except Exception as err:
        raise WorkshopError(f"--limits {text!r}: {err}") from None
    return limits


@dataclass
class Workshop:
    """What the hub keeps of a workshop (in the properties of the group ``name``)."""

    name: str
    ends: str
    """When it ends (ISO 8601, UTC): logins stop, and the end service ends it."""
    starts: str | None = None
    title: str = ""
    participants: list[str] = field(default_factory=list)
    passwords: dict[str, str] = field(default_factory=dict)
    """Participant -> password hash (accounts mode)."""
    shared_password: str | None = None
    """Hash of the one password of a shared-password workshop (participants choose names)."""
    rehearsal: list[str] = field(default_factory=list)
    """Synthetic participants of a rehearsal in progress."""
    content: dict[str, Any] = field(default_factory=dict)
    """``source`` as given; ``path`` (a copy on this machine) or ``git`` and ``ref``."""
    folder: str = ""
    """The folder of the materials in each home (default: the workshop's name)."""
    first_notebook: str | None = None
    profile: str | None = None
    limits: dict[str, Any] = field(default_factory=dict)
    archive: str = ""
    """Where ``end`` puts each participant's archive (a folder or an s3:// prefix)."""
    public_url: str = ""
    created: str = ""
    archived: list[str] = field(default_factory=list)
    """Times ``end --keep-accounts`` archived the homes."""
    end_attempts: int = 0
    """Times the end service tried to end it (it gives up after a few)."""

    @property
    def mode(self) -> str:
        return "shared-password" if self.shared_password else "accounts"

    @property
    def ended(self) -> bool:
        return has_ended(asdict(self))

    def properties(self, existing: dict[str, Any] | None = None) -> dict[str, Any]:
        """The group's properties with this record (and its Dask limits) in them."""
        properties = dict(existing or {})
        record = asdict(self)
        record.pop("limits")
        record.pop("name")
        properties[WORKSHOP_KEY] = record
        if self.limits:
            properties[LIMITS_KEY] = dict(self.limits)
        else:
            properties.pop(LIMITS_KEY, None)
        return properties

    @classmethod
    def from_group(cls, group: dict[str, Any]) -> Workshop:
        properties = group.get("properties") or {}
        record = properties.get(WORKSHOP_KEY)
        if not isinstance(record, dict):
            raise WorkshopError(f"hub group {group.get('name')!r} is no workshop")
        known = {k: v for k, v in record.items() if k in cls.__dataclass_fields__}
        return cls(name=group["name"], limits=dict(properties.get(LIMITS_KEY) or {}), **known)

    def everyone(self, group_users: list[str]) -> list[str]:
        """Every participant: the accounts made for it and whoever joined the group."""
        return sorted(set(self.participants) | set(group_users) | set(self.rehearsal))


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
