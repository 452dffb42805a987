"""``soc-workspace workshop create``: a hub group, accounts, materials, limits and a sheet.

Everything goes through the hub's REST API: the group, its record (logins, end time,
materials, profile, Dask limits), the accounts. On the workspace of this machine the
materials are also copied beside the hub (``<state>/workshops/<name>/materials``), from which
each server pulls them as it starts; on another hub they must be a git repository, which each
server pulls itself.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from ..hub.workshops import hash_password, new_password
from . import materials
from .hub import WorkshopHub
from .record import Workshop, WorkshopError, check_name, now_iso, parse_limits, parse_time
from .sheet import Sheet, write_sheet


@dataclass
class Created:
    workshop: Workshop
    sheet: Sheet
    passwords: dict[str, str] = field(default_factory=dict)
    """The participants' passwords: on the sheet, nowhere else."""
    shared_password: str | None = None


def participant_names(name: str, count: int) -> list[str]:
    width = max(2, len(str(count)))
    return [f"{name}-{i:0{width}d}" for i in range(1, count + 1)]


def create(
    hub: WorkshopHub,
    name: str,
    *,
    ends: str,
    users: int = 0,
    shared_password: bool = False,
    starts: str | None = None,
    content: str | None = None,
    profile: str | None = None,
    limits: str | None = None,
    archive: str | None = None,
    title: str = "",
    sheet_dir: Path | None = None,
) -> Created:
    """Create workshop ``name`` on ``hub``; see the command's help for the arguments."""
    check_name(name)
    if bool(users) == bool(shared_password):
        raise WorkshopError("give either --users N (accounts with passwords) or --shared-password")
    if users < 0 or users > 999:
        raise WorkshopError(f"--users {users}: between 1 and 999 participants")
    end = parse_time(ends, "--ends")
    start = parse_time(starts, "--starts") if starts else None
    if end <= datetime.now(UTC):
        raise WorkshopError(f"--ends {ends} is in the past")
    if start and start >= end:
        raise WorkshopError(f"--starts {starts} is not before --ends {ends}")
    if hub.group(name) is not None:
        raise WorkshopError(
            f"{hub.public_url} already has a group {name!r}: choose another workshop name, "
            f"or see `soc-workspace workshop status {name}`"
        )
    names = participant_names(name, users) if users else []
    taken = [n for n in names if hub.exists(n)]
    if taken:
        raise WorkshopError(f"users {', '.join(taken[:5])} already exist on {hub.public_url}")
    if profile and hub.local:
        known = hub.local.settings["hub"]["profiles"]
        if profile not in known:
            raise WorkshopError(f"--profile {profile!r}: the hub's profiles are {', '.join(known)}")

    if limits:
        _check_limits(hub, name, parse_limits(limits))
    record = Workshop(
        name=name,
        title=title,
        starts=start.isoformat(timespec="seconds") if start else None,
        ends=end.isoformat(timespec="seconds"),
        participants=names,
        folder=name,
        profile=profile,
        limits=parse_limits(limits) if limits else {},
        archive=archive or _default_archive(hub, name),
        public_url=hub.public_url,
        created=now_iso(),
    )
    if content:
        record.content, record.first_notebook = place_content(hub, name, content)
    passwords = {n: new_password() for n in names}
    record.passwords = {n: hash_password(p) for n, p in passwords.items()}
    shared = new_password() if shared_password else None
    record.shared_password = hash_password(shared) if shared else None

    # The record first, then the accounts: an account exists only as a workshop's, with
    # its workshop password.
    hub.request("POST", f"/groups/{quote(name)}")
    try:
        hub.save(record)
        hub.add_users(name, names)
    except Exception:
        for participant in names:
            hub.delete_user(participant)
        hub.request("DELETE", f"/groups/{quote(name)}")
        raise
    sheet = write_sheet(
        sheet_dir or Path.cwd() / f"{name}-sign-in", record, hub.public_url, passwords, shared
    )
    return Created(record, sheet, passwords, shared)


def _check_limits(hub: WorkshopHub, name: str, limits: dict[str, Any]) -> None:
    """Refuse limits in which no Dask worker fits (the scheduler counts against them)."""
    from ..config import Settings, current_settings
    from ..hub.gateway import limits_for, workers_that_fit

    settings = Settings(**hub.local.settings) if hub.local else current_settings()
    fit = workers_that_fit(settings, limits_for(settings, [name], {name: limits}))
    if fit < 1:
        g = settings.gateway
        raise WorkshopError(
            f"--limits leaves no room for a Dask worker: the scheduler takes 1 core and "
            f"2 GiB of the limits, a worker {g.worker_cores} core(s) and {g.worker_memory}; "
            "e.g. workers=2,cores=3,memory=6G allows two workers"
        )


def _default_archive(hub: WorkshopHub, name: str) -> str:
    if hub.local is None:
        raise WorkshopError(
            "--archive is needed for a hub on another machine: where `end` puts each "
            "participant's archive, e.g. s3://my-bucket/workshops (or a folder here)"
        )
    return str(hub.local.paths.workshops / name / "archive")


def place_content(hub: WorkshopHub, name: str, source: str) -> tuple[dict[str, Any], str | None]:
    """Where servers pull the materials from, and the workshop's first notebook.

    On this machine's workspace: a copy beside the hub, readable by every user. Elsewhere: the
    git repository itself (checked out here once, to know it can be read).
    """
    url, ref = materials.parse_source(source)
    git = materials.is_git_url(source)
    if not git and not Path(url).is_dir():
        raise WorkshopError(f"--content {source!r} is neither a folder nor a git URL[@REF]")
    if hub.local is None:
        if not git:
            raise WorkshopError(
                f"--content {source!r}: a folder can be copied only into the workspace on "
                "this machine; for another hub give a git repository (GIT_URL@REF) that its "
                "servers can reach"
            )
        with materials.checkout(url, ref) as (folder, commit):
            first = materials.first_notebook(folder)
        return {"source": source, "git": url, "ref": ref, "commit": commit}, first
    target = hub.local.paths.workshops / name / "materials"
    if git:
        with materials.checkout(url, ref) as (folder, commit):
            _copy_readable(folder, target)
        content = {"source": source, "path": str(target), "git": url, "ref": ref, "commit": commit}
    else:
        _copy_readable(Path(url), target)
        content = {"source": str(Path(url).absolute()), "path": str(target)}
    return content, materials.first_notebook(target)


def _copy_readable(source: Path, target: Path) -> None:
    """Copy the materials' files (no git or editor files) where every user may read them."""
    files = materials.material_files(source)
    if not files:
        raise WorkshopError(f"{source} holds no materials (no files besides git's)")
    if target.exists():
        shutil.rmtree(target)
    staging = Path(tempfile.mkdtemp(prefix=".materials-", dir=_ensure(target.parent)))
    for relative, path in files.items():
        out = staging / relative
        out.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, out)
        out.chmod(0o644)
    for folder in [staging, *(p for p in staging.rglob("*") if p.is_dir())]:
        folder.chmod(0o755)
    staging.rename(target)


def _ensure(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for path in (folder.parent, folder):  # <state>/workshops/<name>: users reach the copy
        path.chmod(0o755)
    return folder
