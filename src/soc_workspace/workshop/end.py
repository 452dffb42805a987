"""``soc-workspace workshop end``: archive every participant's home, then remove the workshop.

For each participant (a few at a time): their server is started if it is not running, a
kernel of theirs packs their home (:mod:`.inkernel`: tar.gz plus a manifest of files and
SHA-256 checksums), the archive is downloaded through their server and checked file by file
against the manifest, and both are written to the destination (a folder, or an s3:// prefix):
``<dest>/<user>.tar.gz`` and ``<dest>/<user>.manifest.json``, with ``<dest>/index.json`` for
the whole workshop. Only then are servers and Dask clusters stopped and the accounts and the
group removed (``--keep-accounts``: kept). A participant whose archive failed keeps their
account, and the report says why: nobody's work is lost.
"""

from __future__ import annotations

import json
import tarfile
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import requests

from ..check.kernel import Kernel, call
from .hub import WorkshopHub
from .inkernel import ARCHIVE_PREFIX
from .materials import checksum, stream_checksum
from .record import WorkshopError, now_iso

ARCHIVED, NOT_USED, GONE, FAILED = "archived", "not used", "gone", "FAILED"
INKERNEL = "soc_workspace.workshop.inkernel"


class ArchiveError(RuntimeError):
    """An archive does not hold what its manifest lists; the message says what differs."""


@dataclass
class Participant:
    """What ``end`` did with one participant."""

    user: str
    status: str = ""
    files: int = 0
    bytes: int = 0
    archive: str = ""
    sha256: str = ""
    detail: str = ""
    clusters: list[str] = field(default_factory=list)


@dataclass
class EndReport:
    workshop: str
    destination: str
    participants: list[Participant] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    group_removed: bool = False
    leftovers: list[str] = field(default_factory=list)
    """Servers, clusters or processes of participants still found at the end."""

    @property
    def ok(self) -> bool:
        return not self.leftovers and all(p.status != FAILED for p in self.participants)


def end(
    hub: WorkshopHub,
    name: str,
    *,
    keep_accounts: bool = False,
    archive: str | None = None,
    parallel: int = 4,
    timeout: float = 600.0,
    progress: Callable[[Participant], None] | None = None,
) -> EndReport:
    """End workshop ``name``: archive, stop, remove (see the module's docstring)."""
    workshop, members = hub.workshop(name)
    destination = archive or workshop.archive
    if not destination:
        raise WorkshopError(f"workshop {name!r} has no archive destination: give --archive")
    store = Destination(destination, hub)
    report = EndReport(name, destination)
    everyone = workshop.everyone(members)

    def one(user: str) -> Participant:
        result = archive_home(hub, name, user, store, timeout=timeout)
        if progress:
            progress(result)
        return result

    with ThreadPoolExecutor(max_workers=max(1, parallel)) as pool:
        report.participants = list(pool.map(one, everyone))
    store.write_json(
        "index.json",
        {
            "workshop": name,
            "title": workshop.title,
            "ended": now_iso(),
            "participants": [asdict(p) for p in report.participants],
        },
    )

    # Stop everyone's server (their clusters stop with it) and check nothing runs on.
    uids = _local_uids(hub, everyone)
    for participant in report.participants:
        if participant.status == GONE:
            continue
        try:
            hub.stop_server(participant.user, timeout=timeout)
            left = hub.gateway_clusters(participant.user)
        except Exception as err:
            report.leftovers.append(f"{participant.user}: {err}")
            continue
        if left:
            report.leftovers.append(f"{participant.user}: Dask cluster(s) {', '.join(left)}")
    clusters = {c for p in report.participants for c in p.clusters}
    report.leftovers += _local_leftovers(hub, everyone, uids, clusters)

    if keep_accounts:
        workshop.archived.append(now_iso())
        hub.save(workshop)
        report.kept = [p.user for p in report.participants if p.status != GONE]
        return report
    for participant in report.participants:
        if participant.status in (ARCHIVED, NOT_USED):
            hub.delete_user(participant.user)
            report.removed.append(participant.user)
        elif participant.status == FAILED:
            report.kept.append(participant.user)
    if not report.kept:
        hub.request("DELETE", f"/groups/{quote(name)}")
        report.group_removed = True
        if hub.local is not None:
            _remove_materials(hub, name)
    if uids:  # the system accounts went with the hub users (the spawner's delete_forever)
        report.leftovers += _local_accounts_left(report.removed)
    return report


def archive_home(
    hub: WorkshopHub, workshop: str, user: str, store: Destination, *, timeout: float
) -> Participant:
    """Pack ``user``'s home in their kernel, check it, store it; never raises."""
    result = Participant(user)
    try:
        model = hub.user(user)
    except Exception:
        result.status, result.detail = GONE, "no such user"
        return result
    if not model.get("servers") and not model.get("last_activity"):
        result.status, result.detail = NOT_USED, "never logged in: no home to archive"
        return result
    try:
        hub.start_server(user, timeout=timeout)
        result.clusters = hub.gateway_clusters(user)
        token = hub.server_token(user)
        kernel = Kernel.start(hub.url, user, token)
        try:
            code = call(INKERNEL, "pack_home", workshop)
            packed = json.loads(kernel.run(code, timeout=timeout).strip().splitlines()[-1])
            with tempfile.TemporaryDirectory(prefix="workshop-end-") as tmp:
                tar_path = Path(tmp) / "home.tar.gz"
                _download(kernel, packed["archive"], tar_path, timeout)
                manifest_path = Path(tmp) / "manifest.json"
                _download(kernel, packed["manifest"], manifest_path, timeout)
                manifest = json.loads(manifest_path.read_text())
                verify_archive(tar_path, manifest)
                if manifest.get("unreadable"):
                    raise ArchiveError(
                        f"files that could not be read: {', '.join(manifest['unreadable'][:5])}"
                    )
                result.sha256 = checksum(tar_path)
                result.archive = store.put(f"{user}.tar.gz", tar_path)
                store.put(f"{user}.manifest.json", manifest_path)
            kernel.run(call(INKERNEL, "remove_packed", workshop), timeout=60)
        finally:
            kernel.shutdown()
        result.files, result.bytes = packed["files"], packed["bytes"]
        result.status = ARCHIVED
    except Exception as err:  # reported; the others go on, this account is kept
        result.status, result.detail = FAILED, str(err) or type(err).__name__
    return result


def _download(kernel: Kernel, name: str, out: Path, timeout: float) -> None:
    """A file of the participant's home, through their server (``/files/``)."""
    if not name.startswith(ARCHIVE_PREFIX) or "/" in name:
        raise ArchiveError(f"unexpected archive name from the kernel: {name!r}")
    with requests.get(
        f"{kernel.server_url}/files/{quote(name)}",
        headers={"Authorization": f"token {kernel.token}"},
        stream=True,
        timeout=timeout,
    ) as response:
        if response.status_code != 200:
            raise ArchiveError(f"downloading {name} answered HTTP {response.status_code}")
        with open(out, "wb") as file:
            for block in response.iter_content(1 << 20):
                file.write(block)


def verify_archive(tar_path: Path, manifest: dict[str, Any]) -> int:
    """Check every file of ``manifest`` is in the archive with its size and SHA-256, and
    nothing else is; return how many files. Raises :class:`ArchiveError`."""
    expected = {entry["path"]: entry for entry in manifest["files"]}
    found: dict[str, tuple[int, str]] = {}
    with tarfile.open(tar_path, "r:gz") as tar:
        for member in tar:
            if not member.isreg():
                continue
            stream = tar.extractfile(member)
            assert stream is not None
            found[member.name] = (member.size, stream_checksum(stream))
    missing = sorted(set(expected) - set(found))
    extra = sorted(set(found) - set(expected))
    wrong = sorted(
        path
        for path in set(expected) & set(found)
        if found[path] != (expected[path]["size"], expected[path]["sha256"])
    )
    if missing or extra or wrong:
        parts = [
            f"{label}: {', '.join(paths[:5])}"
            for label, paths in (("missing", missing), ("not listed", extra), ("differ", wrong))
            if paths
        ]
        raise ArchiveError(f"the archive does not match its manifest ({'; '.join(parts)})")
    return len(found)


class Destination:
    """Where archives go: a folder (made private) or an s3:// prefix."""

    def __init__(self, url: str, hub: WorkshopHub) -> None:
        self.url = url.rstrip("/")
        from ..store import url_to_fs

        if url.startswith("s3://"):
            from ..store import check_writable

            check_writable(url)  # never a pipeline bucket
            self.fs, self.root = url_to_fs(self.url, **_operator_options(hub))
            self.root = self.root.rstrip("/")
        elif "://" in url:
            raise WorkshopError(f"archive destination {url!r}: a folder or an s3:// prefix")
        else:
            self.fs, self.root = url_to_fs(str(Path(url).absolute()))
            Path(self.root).mkdir(parents=True, exist_ok=True)
            Path(self.root).chmod(0o700)  # participants' homes: for the trainer only

    def put(self, name: str, path: Path) -> str:
        target = f"{self.root}/{name}"
        self.fs.put_file(str(path), target)
        if not self.url.startswith("s3://"):
            Path(target).chmod(0o600)
        return f"{self.url}/{name}"

    def write_json(self, name: str, data: Any) -> None:
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as tmp:
            json.dump(data, tmp, indent=1)
        try:
            self.put(name, Path(tmp.name))
        finally:
            Path(tmp.name).unlink(missing_ok=True)


def _operator_options(hub: WorkshopHub) -> dict[str, Any]:
    """The store's operator on this machine's embedded store; else the settings' credentials
    (no overrides)."""
    if hub.local is not None:
        from ..local.storekeys import operator_storage_options

        try:
            return operator_storage_options(hub.local.paths)
        except RuntimeError:
            pass
    return {}


# -- what is left (this machine) ---------------------------------------------------------------


def _local_uids(hub: WorkshopHub, users: list[str]) -> dict[str, int]:
    if hub.local is None or hub.local.isolation != "multi-user":
        return {}
    import pwd

    from ..local.accounts import is_workspace_account

    return {u: pwd.getpwnam(u).pw_uid for u in users if is_workspace_account(u)}


def _local_leftovers(
    hub: WorkshopHub, users: list[str], uids: dict[str, int], clusters: set[str]
) -> list[str]:
    """Processes on this machine still running for participants (servers, kernels, Dask)."""
    if hub.local is None:
        return []
    from ..local import processes

    wanted_uids = set(uids.values())
    found = []
    deadline = time.monotonic() + 15  # stopped processes take a moment to go
    while True:
        found = []
        for pid in processes.workspace_processes(hub.local.state_dir):
            environ = _environ(pid)
            owner = _owner(pid)
            if (
                environ.get("JUPYTERHUB_USER") in users
                or environ.get("DASK_GATEWAY_CLUSTER_NAME") in clusters
                or owner in wanted_uids
            ):
                found.append(processes.describe(pid))
        if not found or time.monotonic() > deadline:
            return [f"process {p}" for p in found]
        time.sleep(0.5)


def _local_accounts_left(users: list[str]) -> list[str]:
    import pwd

    left = []
    for user in users:
        try:
            pwd.getpwnam(user)
            left.append(f"system account {user}")
        except KeyError:
            pass
    return left


def _environ(pid: int) -> dict[str, str]:
    try:
        raw = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    except OSError:
        return {}
    pairs = (item.decode(errors="replace").partition("=") for item in raw if b"=" in item)
    return {key: value for key, _, value in pairs}


def _owner(pid: int) -> int | None:
    try:
        return Path(f"/proc/{pid}").stat().st_uid
    except OSError:
        return None


def _remove_materials(hub: WorkshopHub, name: str) -> None:
    import shutil

    assert hub.local is not None
    shutil.rmtree(hub.local.paths.workshops / name / "materials", ignore_errors=True)
