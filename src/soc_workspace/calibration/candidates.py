"""Candidate calibrations: a mission's environment with one instrument package replaced.

An instrument scientist with a change to ``hermes_eea`` (a working copy, or a branch) builds

    soc-workspace env create eea-new --from hermes --with ~/src/hermes_eea
    soc-workspace env create eea-new --from hermes --with https://github.com/me/hermes_eea@fix

which is the ``hermes`` environment's spec with that one package taken from the candidate,
everything else at the mission's pins; then reruns a month in it
(``soc-workspace rerun --environment eea-new --compare ...``) and reviews what changed
(``soc-workspace review RUN_ID``).

A branch or tag is resolved to its commit when the environment is built (``git ls-remote``),
so the environment's spec is pinned and says exactly which code ran; a folder that is a git
checkout has its commit (and whether it had uncommitted changes) recorded as well.
"""

from __future__ import annotations

import re
import subprocess
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..config import Settings, current_settings
from .environments import (
    MARKER,
    SPECS_DIR,
    MissionEnvironmentError,
    _is_local_path,
    environments_dir,
    overrides_for,
)

_HEX40 = re.compile(r"^[0-9a-f]{40}$")
_NAME_AT = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(\[[^\]]*\])?\s*(==|===|@|;|$)")


@dataclass(frozen=True)
class CandidateSpec:
    """The spec of a candidate environment, ready for :func:`create_environment`."""

    text: str
    overrides: str
    package: str  # the distribution replaced
    source: str  # the requirement that replaces it
    base: str
    routes: list[str]

    def record(self) -> dict[str, Any]:
        return {"base": self.base, "package": self.package, "source": self.source}


def candidate_spec(base: str, replacement: str, settings: Settings | None = None) -> CandidateSpec:
    """The spec of ``base`` with one package taken from ``replacement``.

    ``base`` is an environment built by ``env create`` (its recorded spec), the name of a
    shipped spec (``hermes``, ``padre``, ``reach``) or a spec file. ``replacement`` is a folder,
    or a git URL ending in ``@REF``, optionally preceded by the package's name
    (``hermes_eea=~/src/hermes_eea``).
    """
    settings = settings or current_settings()
    text, folder, overrides, routes = _base_spec(base, settings)
    name, _, source = replacement.rpartition("=") if _named(replacement) else ("", "", replacement)
    requirement, guessed = _requirement(source.strip())
    package = _normal(name or guessed or "")
    lines = text.splitlines()
    matches = [i for i, line in enumerate(lines) if _normal(_line_name(line, folder)) == package]
    if not package or not matches:
        named = sorted(
            _line_name(line, folder)
            for line in lines
            if " @ " in line or _is_local_path(line.split(" #", 1)[0].strip().removeprefix("-e "))
        )
        raise ValueError(
            f"which package of {base!r} does {source!r} replace? "
            + (f"{package!r} is not in its spec; " if package else "")
            + f"its packages from git or folders are {', '.join(n for n in named if n) or 'none'}"
            f": name it, e.g. --with {named[0] if named else 'NAME'}={source}"
        )
    display = _line_name(lines[matches[0]], folder)
    replaced = f"{display} @ {requirement}"
    new_lines = []
    for i, line in enumerate(lines):
        if i in matches:
            new_lines.append(f"{replaced}  # candidate (was: {line.strip()})")
        else:
            new_lines.append(_absolute(line, folder))
    kept_overrides = [
        _absolute(line, folder)
        for line in overrides.splitlines()
        if _normal(_line_name(line, folder)) != package
    ]
    return CandidateSpec(
        text="# candidate calibration: "
        + f"{base} with {replaced}\n"
        + "\n".join(new_lines)
        + "\n",
        overrides="\n".join(kept_overrides) + "\n",
        package=display,
        source=requirement,
        base=base,
        routes=routes,
    )


def _base_spec(base: str, settings: Settings) -> tuple[str, Path, str, list[str]]:
    """Spec text, the folder its relative paths start from, overrides text, routes."""
    from .kernels import missions_of

    marker = environments_dir(settings) / base / MARKER
    if marker.is_file():
        import json

        meta = json.loads(marker.read_text())
        spec_file = Path(meta.get("spec_file") or marker.parent)
        overrides = "".join(p.read_text() for p in overrides_for(spec_file))
        if meta.get("candidate"):
            raise ValueError(
                f"{base!r} is itself a candidate environment; build from its base "
                f"{meta['candidate'].get('base')!r} instead"
            )
        routes = meta.get("routes") or missions_of(base, settings)
        return meta["spec"], spec_file.parent, overrides, routes
    for spec_file in (SPECS_DIR / f"{base}.txt", Path(base).expanduser()):
        if spec_file.is_file():
            spec_file = spec_file.resolve()
            overrides = "".join(p.read_text() for p in overrides_for(spec_file))
            return spec_file.read_text(), spec_file.parent, overrides, missions_of(base, settings)
    raise MissionEnvironmentError(
        f"no environment or spec {base!r} to start from: give the name of an environment "
        f"(soc-workspace env list), of a shipped spec ({', '.join(_shipped())}) or a spec file"
    )


def _requirement(source: str) -> tuple[str, str | None]:
    """The pinned requirement for a candidate source, and the package name it suggests."""
    folder = Path(source).expanduser()
    if folder.is_dir():
        folder = folder.resolve()
        return folder.as_uri(), _project_name(folder)
    url = source.removeprefix("git+")
    if "@" not in url.rsplit("/", 1)[-1]:
        raise ValueError(
            f"--with {source!r}: give a folder, or a git URL with the branch, tag or commit to "
            "use after '@' (https://github.com/org/hermes_eea@my-branch)"
        )
    url, ref = url.rsplit("@", 1)
    commit = ref if _HEX40.match(ref) else _resolve(url, ref)
    guess = url.rstrip("/").rsplit("/", 1)[-1].removesuffix(".git")
    return f"git+{url}@{commit}", guess


def _resolve(url: str, ref: str) -> str:
    """The commit a branch or tag points at (so the environment records what ran)."""
    done = subprocess.run(
        ["git", "ls-remote", url, ref, f"refs/heads/{ref}", f"refs/tags/{ref}^{{}}"],
        capture_output=True,
        text=True,
        timeout=120,
        env={"GIT_TERMINAL_PROMPT": "0", "PATH": "/usr/bin:/bin:/usr/local/bin"},
    )
    commits = [line.split()[0] for line in done.stdout.splitlines() if line.strip()]
    if done.returncode != 0 or not commits:
        raise MissionEnvironmentError(
            f"cannot find {ref!r} in {url}: {done.stderr.strip() or 'no such branch or tag'} "
            "(give a branch, a tag, or a full 40-character commit)"
        )
    return commits[-1]  # a tag's peeled commit comes last


def _project_name(folder: Path) -> str | None:
    pyproject = folder / "pyproject.toml"
    if pyproject.is_file():
        return tomllib.loads(pyproject.read_text()).get("project", {}).get("name")
    return None


def _line_name(line: str, folder: Path | None = None) -> str:
    """The distribution a spec line installs (a local folder's: from its pyproject.toml)."""
    body = line.split(" #", 1)[0].strip()
    for option in ("-e ", "--editable "):
        body = body.removeprefix(option).strip()
    if folder is not None and _is_local_path(body):
        return _project_name((folder / body).expanduser()) or ""
    match = _NAME_AT.match(body)
    if not match or body.startswith(("-", "#")):
        return ""
    return match[1]


def _absolute(line: str, folder: Path) -> str:
    """A spec line with its relative path made absolute (the candidate's spec lives elsewhere)."""
    body = line.split(" #", 1)[0].strip()
    prefix = ""
    if body.startswith(("-e ", "--editable ")):
        prefix, body = body.split(None, 1)[0] + " ", body.split(None, 1)[1].strip()
    if _is_local_path(body):
        return prefix + str((folder / body).expanduser().resolve())
    return line


def _named(text: str) -> bool:
    head = text.split("=", 1)[0]
    return "=" in text and bool(re.match(r"^[A-Za-z0-9][A-Za-z0-9._-]*$", head))


def _normal(name: str) -> str:
    return re.sub(r"[._-]+", "-", name).lower()


def _shipped() -> list[str]:
    return sorted(p.stem for p in SPECS_DIR.glob("*.txt") if not p.stem.endswith(".overrides"))


def create_candidate(
    name: str,
    base: str,
    replacement: str,
    *,
    force: bool = False,
    kernel: bool = True,
    settings: Settings | None = None,
) -> Any:
    """Build environment ``name``: ``base`` with one package from ``replacement``."""
    import tempfile

    from .environments import create_environment

    settings = settings or current_settings()
    spec = candidate_spec(base, replacement, settings)
    with tempfile.TemporaryDirectory(prefix="soc-candidate-") as tmp:
        spec_file = Path(tmp) / f"{name}.txt"
        spec_file.write_text(spec.text)
        overrides = Path(tmp) / f"{name}.overrides.txt"
        overrides.write_text(spec.overrides)
        return create_environment(
            name,
            spec_file,
            force=force,
            kernel=kernel,
            routes=spec.routes,
            overrides=[overrides],
            candidate=spec.record(),
            settings=settings,
        )
