"""A workshop's materials in a participant's home: placed read-only, updated without losing edits.

As nbgitpuller does it: the first pull puts every file of the materials into the workshop's
folder (``~/<workshop>``), read-only (JupyterLab offers *Save As* to work on a copy). Later
pulls bring new and changed files and restore deleted ones, but never touch a file the
participant changed: it is skipped, and the pull names it (in its report and in
``SKIPPED-UPDATES.txt`` in the folder). ``.workshop-pull.json`` in the folder remembers the
checksum of every file as it was placed, which is how an edit is told from an old version.

The source is a folder (the copy ``soc-workspace workshop create`` made on this machine) or a
git repository at a ref (on Kubernetes, pulled by each server as it starts). Pulls run as the
participant (never as root), so whatever they do with links in their home is their business.

Run as ``python -m soc_workspace.workshop.materials SOURCE DEST [--ref REF]``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

MANIFEST = ".workshop-pull.json"
SKIPPED_NOTE = "SKIPPED-UPDATES.txt"
_OURS = {MANIFEST, SKIPPED_NOTE}
_IGNORED_PARTS = {".git", ".ipynb_checkpoints", "__pycache__"}


@dataclass
class PullReport:
    """What one pull did, by path relative to the workshop's folder."""

    source: str
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    restored: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    """Changed by the participant; the materials' version of these was not applied."""
    kept: list[str] = field(default_factory=list)
    """Gone from the materials but changed by the participant: left in place."""
    commit: str | None = None

    def lines(self) -> list[str]:
        done = [
            f"{len(self.added)} added",
            f"{len(self.updated)} updated",
            f"{len(self.restored)} restored",
            f"{len(self.removed)} removed",
        ]
        lines = [f"Pulled {self.source}: {', '.join(done)}"]
        for path in self.skipped:
            lines.append(f"skipped {path}: you changed it, so the new version was not applied")
        for path in self.kept:
            lines.append(f"kept {path}: gone from the materials, but you changed it")
        return lines


def parse_source(text: str) -> tuple[str, str | None]:
    """``GIT_URL@REF`` (or a plain URL, REF None) -> (url, ref); a folder -> (folder, None).

    ``git@host:org/repo.git@v1`` is understood: a ref never contains ``:``.
    """
    if not is_git_url(text):
        return text, None
    head, at, tail = text.rpartition("@")
    if at and tail and ":" not in tail and ("/" in head or ":" in head):
        return head, tail
    return text, None


def is_git_url(text: str) -> bool:
    return "://" in text or text.startswith("git@") or text.endswith(".git")


def checksum(path: Path) -> str:
    """SHA-256 of a file, in hex."""
    with open(path, "rb") as file:
        return stream_checksum(file)


def stream_checksum(stream: Any) -> str:
    """SHA-256 of what a binary stream holds, read to its end."""
    digest = hashlib.sha256()
    for block in iter(lambda: stream.read(1 << 20), b""):
        digest.update(block)
    return digest.hexdigest()


def material_files(folder: Path) -> dict[str, Path]:
    """The files of the materials in ``folder`` by relative path (no git or editor files)."""
    found = {}
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder)
        if _IGNORED_PARTS & set(relative.parts) or relative.as_posix() in _OURS:
            continue
        if path.is_file() and not path.is_symlink():
            found[relative.as_posix()] = path
    return found


def first_notebook(folder: Path) -> str | None:
    """The notebook a workshop starts with: the first ``*.ipynb`` of its top folder by name."""
    notebooks = sorted(p.name for p in folder.glob("*.ipynb") if p.is_file())
    return notebooks[0] if notebooks else None


def pull(source: Path, dest: Path, *, label: str | None = None) -> PullReport:
    """Bring the materials in folder ``source`` into ``dest`` (see the module's docstring)."""
    report = PullReport(label or str(source))
    dest.mkdir(parents=True, exist_ok=True)
    placed = _read_manifest(dest)
    wanted = material_files(source)
    now: dict[str, str] = {}
    for relative, origin in wanted.items():
        target = dest / relative
        new = checksum(origin)
        before = placed.get(relative)
        if target.is_symlink() or (target.exists() and not target.is_file()):
            report.skipped.append(relative)  # something of the participant's own there
            continue
        if not target.exists():
            _place(origin, target)
            (report.restored if before else report.added).append(relative)
            now[relative] = new
            continue
        current = checksum(target)
        if current == new:
            now[relative] = new  # already this version (or the participant made it so)
        elif before is not None and current == before:
            _place(origin, target)
            report.updated.append(relative)
            now[relative] = new
        else:
            report.skipped.append(relative)
            if before is not None:
                now[relative] = before  # still the participant's: skipped again next time
    for relative, before in placed.items():
        if relative in wanted:
            continue
        target = dest / relative
        if not target.is_file() or target.is_symlink():
            continue
        if checksum(target) == before:
            target.chmod(0o644)
            target.unlink()
            report.removed.append(relative)
        else:
            report.kept.append(relative)
    _write_manifest(dest, now, report)
    _write_note(dest, report)
    return report


def pull_git(url: str, ref: str | None, dest: Path) -> PullReport:
    """:func:`pull` from a git repository at ``ref`` (a branch, tag or commit)."""
    with checkout(url, ref) as (folder, commit):
        report = pull(folder, dest, label=f"{url}@{ref or 'HEAD'}")
    report.commit = commit
    _write_manifest(dest, _read_manifest(dest), report)
    return report


@contextmanager
def checkout(url: str, ref: str | None) -> Iterator[tuple[Path, str]]:
    """A shallow checkout of ``url`` at ``ref`` in a temporary folder, and its commit."""
    with tempfile.TemporaryDirectory(prefix="workshop-pull-") as tmp:
        folder = Path(tmp)

        def git(*args: str) -> str:
            done = subprocess.run(
                ["git", "-C", str(folder), *args],
                capture_output=True,
                text=True,
                env={**os.environ, "GIT_TERMINAL_PROMPT": "0"},
                timeout=300,
            )
            if done.returncode != 0:
                raise RuntimeError(
                    f"git {' '.join(args)} failed for {url} (exit {done.returncode}): "
                    f"{done.stderr.strip().splitlines()[-1] if done.stderr.strip() else ''}"
                )
            return done.stdout.strip()

        git("init", "--quiet")
        git("fetch", "--quiet", "--depth", "1", url, ref or "HEAD")
        git("checkout", "--quiet", "FETCH_HEAD")
        yield folder, git("rev-parse", "HEAD")


def _place(origin: Path, target: Path) -> None:
    """Copy ``origin`` to ``target`` read-only, replacing it in one step."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".pull-", dir=target.parent)
    os.close(fd)
    try:
        shutil.copyfile(origin, tmp)
        os.chmod(tmp, 0o444)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _read_manifest(dest: Path) -> dict[str, str]:
    try:
        data = json.loads((dest / MANIFEST).read_text())
    except (OSError, ValueError):
        return {}
    files = data.get("files", {}) if isinstance(data, dict) else {}
    return {k: v for k, v in files.items() if isinstance(k, str) and isinstance(v, str)}


def _write_manifest(dest: Path, files: dict[str, str], report: PullReport) -> None:
    data = {"source": report.source, "commit": report.commit, "files": files}
    data["last_pull"] = {k: v for k, v in asdict(report).items() if k not in ("source", "commit")}
    tmp = dest / (MANIFEST + ".tmp")
    tmp.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")
    os.replace(tmp, dest / MANIFEST)


def _write_note(dest: Path, report: PullReport) -> None:
    note = dest / SKIPPED_NOTE
    if not report.skipped:
        note.unlink(missing_ok=True)
        return
    note.write_text(
        "The workshop's materials were updated, but these files were left as you changed "
        "them (the new version was not applied):\n\n"
        + "".join(f"  {path}\n" for path in report.skipped)
        + "\nTo get a file's new version: rename or delete yours; the next pull (your "
        "server's next start) brings it.\n"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Pull a workshop's materials into a folder.")
    parser.add_argument("source", help="a folder, or a git URL (optionally URL@REF)")
    parser.add_argument("dest", type=Path, help="the workshop's folder in the home")
    parser.add_argument("--ref", help="git branch, tag or commit (default: from SOURCE)")
    args = parser.parse_args(argv)
    url, ref = parse_source(args.source)
    try:
        if is_git_url(args.source):
            report = pull_git(url, args.ref or ref, args.dest)
        else:
            report = pull(Path(url), args.dest)
    except (OSError, RuntimeError) as err:
        print(f"workshop pull failed: {err}", file=sys.stderr)
        return 1
    print("\n".join(report.lines()))
    print(json.dumps(asdict(report)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
