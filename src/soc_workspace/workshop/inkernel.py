"""What ``end`` runs inside each participant's kernel: pack their home, with a manifest.

Run as the participant, in their own server (on any deployment), so it reads exactly what
they can read, and follows no link out of their home. Every regular file goes into a
tar.gz, with its size and SHA-256 (computed while it is packed) in a manifest; links are
kept as links. ``end`` then downloads both and checks the archive against the manifest, file
by file, before anything is removed.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import tarfile
import time
from pathlib import Path
from typing import IO, Any

ARCHIVE_PREFIX = "workshop-archive-"


class _Hashing:
    """A file being read into the archive, hashed on the way."""

    def __init__(self, file: IO[bytes]) -> None:
        self.file = file
        self.sha256 = hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        data = self.file.read(size)
        self.sha256.update(data)
        return data


def _skipped_folders(home: Path) -> set[Path]:
    """Jupyter's runtime folder (kernels' connection files and sockets), if in the home."""
    try:
        from jupyter_core.paths import jupyter_runtime_dir

        return {Path(jupyter_runtime_dir()).resolve()}
    except Exception:
        return set()


def pack_home(workshop: str) -> None:
    """Write ``~/workshop-archive-<workshop>.tar.gz`` and its ``.manifest.json``; print
    ``{"archive", "manifest", "files", "bytes"}`` as one JSON line."""
    home = Path.home()
    archive = home / f"{ARCHIVE_PREFIX}{workshop}.tar.gz"
    manifest_path = home / f"{ARCHIVE_PREFIX}{workshop}.manifest.json"
    ours = {archive.name, manifest_path.name}
    skipped = _skipped_folders(home)
    files: list[dict[str, Any]] = []
    links: list[dict[str, str]] = []
    unreadable: list[str] = []
    total = 0
    with tarfile.open(archive, "w:gz", format=tarfile.PAX_FORMAT) as tar:
        for folder, dirs, names in os.walk(home):
            here = Path(folder)
            dirs[:] = sorted(d for d in dirs if (here / d).resolve() not in skipped)
            for name in sorted(dirs):
                path = here / name
                if path.is_symlink():  # os.walk lists links to folders with the folders
                    links.append(_link(tar, home, path))
            for name in sorted(names):
                path = here / name
                relative = path.relative_to(home).as_posix()
                if relative in ours:
                    continue
                info = path.lstat()
                if stat.S_ISLNK(info.st_mode):
                    links.append(_link(tar, home, path))
                elif stat.S_ISREG(info.st_mode):
                    try:
                        files.append(_file(tar, path, relative))
                    except OSError:  # made unreadable, or changed while packed: reported
                        unreadable.append(relative)
                        continue
                    total += files[-1]["size"]
    manifest = {
        "user": os.environ.get("JUPYTERHUB_USER") or os.environ.get("USER", ""),
        "workshop": workshop,
        "home": str(home),
        "packed": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "files": files,
        "links": links,
        "unreadable": unreadable,
    }
    manifest_path.write_text(json.dumps(manifest, indent=1) + "\n")
    print(
        json.dumps(
            {
                "archive": archive.name,
                "manifest": manifest_path.name,
                "files": len(files),
                "bytes": total,
                "unreadable": unreadable,
            }
        )
    )


def _file(tar: tarfile.TarFile, path: Path, relative: str) -> dict[str, Any]:
    with open(path, "rb", buffering=0) as raw:
        info = tar.gettarinfo(fileobj=raw, arcname=relative)
        reader = _Hashing(raw)
        tar.addfile(info, reader)  # type: ignore[arg-type]
    return {
        "path": relative,
        "size": info.size,
        "sha256": reader.sha256.hexdigest(),
        "mode": oct(info.mode),
        "mtime": info.mtime,
    }


def _link(tar: tarfile.TarFile, home: Path, path: Path) -> dict[str, str]:
    relative = path.relative_to(home).as_posix()
    tar.add(path, arcname=relative, recursive=False)
    return {"path": relative, "target": os.readlink(path)}


def remove_packed(workshop: str) -> None:
    """Remove the archive and manifest from the home once ``end`` has them."""
    for suffix in (".tar.gz", ".manifest.json"):
        (Path.home() / f"{ARCHIVE_PREFIX}{workshop}{suffix}").unlink(missing_ok=True)
    print("removed")
