"""Mission environments: one Python per mission stack, because the stacks conflict.

HERMES's packages only work with swxsoc 0.1.0, PADRE's pin astropy 6.1 and sunpy 6, so each
mission's calibration runs in an interpreter of its own. The settings map a mission (or one
instrument) to an environment, either by NAME (a venv that ``soc-workspace env create NAME``
built from a pinned spec under ``calibration.environments_dir``) or by the path of any Python
interpreter that has the packages (a mission kernel of the notebook image, say).

>>> env = environment_for("hermes", "eea")  # doctest: +SKIP
>>> env.python  # doctest: +SKIP
PosixPath('/home/me/.local/share/soc-workspace/environments/hermes/bin/python')
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..config import Settings, current_settings

# Written last into an environment that `create_environment` finished building.
MARKER = "soc-workspace-env.json"
SPECS_DIR = Path(__file__).with_name("specs")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


class MissionEnvironmentError(RuntimeError):
    """A mission environment is missing, broken, or could not be built; the message says why."""


@dataclass(frozen=True)
class MissionEnvironment:
    """An interpreter that runs calibrations.

    ``name`` is the environment's name (or the interpreter path when the settings name a path),
    ``path`` the venv folder when ``soc-workspace env create`` built it, ``spec`` the text of
    the requirements it was built from.
    """

    name: str
    python: Path
    path: Path | None = None
    spec: str | None = None
    created: str | None = None
    used_by: tuple[str, ...] = field(default=(), compare=False)
    sources: dict[str, dict[str, Any]] = field(default_factory=dict, compare=False)
    """Packages installed from folders or git: where from, the commit, uncommitted changes."""
    kernel: str | None = None
    """The display name of its Jupyter kernel, when ``env create`` registered one."""
    candidate: dict[str, Any] | None = field(default=None, compare=False)
    """For a candidate calibration: the base environment, the package replaced and by what."""

    @property
    def exists(self) -> bool:
        return self.python.exists()

    def packages(self) -> dict[str, str]:
        """Installed distributions -> version, or the exact requirement for git/path installs."""
        return installed_packages(self.python)


def environments_dir(settings: Settings | None = None) -> Path:
    return (settings or current_settings()).calibration.resolved_environments_dir


def _python_in(folder: Path) -> Path:
    return folder / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def resolve_environment(value: str, settings: Settings | None = None) -> MissionEnvironment:
    """The environment named ``value`` (in environments_dir), or the interpreter at that path."""
    settings = settings or current_settings()
    if "/" in value or os.sep in value:
        python = Path(value).expanduser()
        if not python.exists():
            raise MissionEnvironmentError(
                f"calibration environment {value!r}: no Python interpreter at that path "
                "(settings: calibration.environments)"
            )
        return MissionEnvironment(name=value, python=python)
    folder = environments_dir(settings) / value
    marker = folder / MARKER
    if not marker.is_file():
        spec = SPECS_DIR / f"{value}.txt"
        how = f"--spec {spec}" if spec.is_file() else "--spec FILE"
        state = "was not finished" if folder.exists() else "does not exist"
        raise MissionEnvironmentError(
            f"calibration environment {value!r} {state} (looked in {folder}): build it with "
            f"`soc-workspace env create {value} {how}`, or point calibration.environments at "
            "an interpreter that has the instrument packages"
        )
    meta = json.loads(marker.read_text())
    return MissionEnvironment(
        name=value,
        python=_python_in(folder),
        path=folder,
        spec=meta.get("spec"),
        created=meta.get("created"),
        sources=meta.get("sources", {}),
        kernel=(meta.get("kernel") or {}).get("display_name"),
        candidate=meta.get("candidate"),
    )


def environment_record(name: str, settings: Settings | None = None) -> dict[str, Any]:
    """What ``env create`` wrote about environment ``name`` (its marker file)."""
    marker = environments_dir(settings) / name / MARKER
    if not _NAME.match(name) or not marker.is_file():
        raise MissionEnvironmentError(f"no environment {name!r} in {marker.parent.parent}")
    return json.loads(marker.read_text())


def environment_name_for(mission: str, instrument: str, settings: Settings | None = None) -> str:
    """The registered environment of an instrument: ``mission/instrument`` first, then mission."""
    settings = settings or current_settings()
    table = {k.lower(): v for k, v in settings.calibration.environments.items()}
    for key in (f"{mission}/{instrument}".lower(), mission.lower()):
        if key in table:
            return table[key]
    raise MissionEnvironmentError(
        f"no calibration environment is registered for {mission}/{instrument}: set "
        f'calibration.environments."{mission}" (or "{mission}/{instrument}") to an environment '
        "name or a Python interpreter"
    )


def environment_for(
    mission: str, instrument: str, settings: Settings | None = None
) -> MissionEnvironment:
    """The environment that runs this instrument's calibration, per the settings."""
    settings = settings or current_settings()
    return resolve_environment(environment_name_for(mission, instrument, settings), settings)


# -- specs -----------------------------------------------------------------------------------

_PIN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*(\[[^\]]*\])?\s*===?\s*[^\s,;*]+\s*(;.*)?$")
_DIRECT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*(\[[^\]]*\])?\s*@\s*(?P<url>\S+)\s*(;.*)?$")
_GIT_COMMIT = re.compile(r"@[0-9a-f]{7,40}(#.*)?$")


def check_spec(text: str) -> list[str]:
    """Problems that keep a requirements spec from being pinned (empty list: none).

    Pinned means: ``name==version`` from PyPI, ``name @ git+URL@<commit>``, an archive URL with
    a ``#sha256=`` hash, or a local path (``./pkg``, ``/abs/pkg``, ``name @ file:///...``).
    """
    problems = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.split(" #", 1)[0].strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith(("-e ", "--editable ")):
            line = line.split(None, 1)[1].strip()
        if line.startswith("-"):
            if line.split()[0] in ("--index-url", "--extra-index-url", "--find-links", "-f"):
                continue
            problems.append(f"line {number}: option {line.split()[0]!r} is not supported here")
            continue
        if _is_local_path(line) or _PIN.match(line):
            continue
        direct = _DIRECT.match(line)
        if direct:
            url = direct["url"]
            if url.startswith("file:") or _is_local_path(url):
                continue
            if url.startswith("git+"):
                if _GIT_COMMIT.search(url):
                    continue
                problems.append(
                    f"line {number}: {line!r} is not pinned to a commit: end the URL with "
                    "@<commit hash> (branches and tags move)"
                )
                continue
            if "#sha256=" in url:
                continue
            problems.append(f"line {number}: {line!r}: a URL needs a #sha256=<hash> to be pinned")
            continue
        problems.append(
            f"line {number}: {line!r} is not pinned: use name==version, "
            "name @ git+URL@<commit>, or a local path"
        )
    return problems


def spec_names(text: str) -> set[str]:
    """The distribution names a spec asks for by name (lower case; local paths have none)."""
    names = set()
    for raw in text.splitlines():
        line = raw.split(" #", 1)[0].strip()
        match = re.match(r"^([A-Za-z0-9][A-Za-z0-9._-]*)\s*(\[|==|===|@|;|$)", line)
        if match and not line.startswith("-"):
            names.add(re.sub(r"[._]+", "-", match[1]).lower())
    return names


def overrides_for(spec: Path) -> list[Path]:
    """The ``<name>.overrides.txt`` beside a spec ``<name>.txt``, if there is one."""
    candidate = spec.with_name(f"{spec.stem}.overrides.txt")
    return [candidate] if candidate.is_file() else []


def _local_packages(text: str, base: Path) -> list[str]:
    """Names of the packages a spec installs from local folders (from their pyproject.toml)."""
    import tomllib

    names = []
    for raw in text.splitlines():
        line = raw.split(" #", 1)[0].strip().removeprefix("-e ").strip()
        if " @ " in line:
            line = line.split(" @ ", 1)[1].strip()
        line = line.removeprefix("file://")
        if not _is_local_path(line):
            continue
        pyproject = (base / line).expanduser() / "pyproject.toml"
        if pyproject.is_file():
            name = tomllib.loads(pyproject.read_text()).get("project", {}).get("name")
            if name:
                names.append(name)
    return names


def _is_local_path(text: str) -> bool:
    return text.startswith(("./", "../", "/", "~/")) or text in (".", "..")


# -- building --------------------------------------------------------------------------------


def uv_binary() -> str:
    try:
        from uv import find_uv_bin

        return find_uv_bin()
    except (ImportError, FileNotFoundError):
        found = shutil.which("uv")
        if found:
            return found
    raise MissionEnvironmentError("uv is needed to build environments: pip install uv")


def _uv(*args: str | os.PathLike[str], cwd: Path | None = None) -> str:
    command = [uv_binary(), *map(str, args)]
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True)
    if done.returncode != 0:
        raise MissionEnvironmentError(
            f"`uv {' '.join(map(str, args[:2]))} ...` failed:\n{done.stderr.strip()[-4000:]}"
        )
    return done.stdout


def create_environment(
    name: str,
    spec: str | os.PathLike[str],
    *,
    python: str | None = None,
    force: bool = False,
    allow_unpinned: bool = False,
    kernel: bool = True,
    display_name: str | None = None,
    routes: list[str] | None = None,
    overrides: list[Path] | None = None,
    candidate: dict[str, Any] | None = None,
    settings: Settings | None = None,
) -> MissionEnvironment:
    """Build the environment ``name`` with uv from the requirements file ``spec``.

    Relative paths in the spec are taken from the spec's folder. The environment is built
    beside its final place and moved there only when complete, so a failed build never
    breaks an environment that worked. ``python`` is the base interpreter (default: this one).

    With ``kernel`` (the default) it also becomes a Jupyter kernel with ``soc_workspace``
    importable in it (:mod:`.kernels`); ``display_name`` overrides the kernel's name in the
    launcher, ``routes`` the missions it says it is for (default: those the settings'
    ``calibration.environments`` send to ``name``). ``overrides`` replaces the overrides
    files (default: the spec itself and ``<spec>.overrides.txt``). The environment's
    ``freeze.txt`` lists every package installed, its marker records the commit of every
    package installed from a git checkout.
    """
    from . import kernels

    settings = settings or current_settings()
    if not _NAME.match(name):
        raise ValueError(f"environment name {name!r}: use letters, digits, '.', '_' and '-'")
    spec_path = Path(spec).expanduser().resolve()
    if not spec_path.is_file():
        raise FileNotFoundError(f"spec file {spec_path} does not exist")
    text = spec_path.read_text()
    problems = check_spec(text)
    if problems and not allow_unpinned:
        raise ValueError(
            f"{spec_path} is not a pinned spec:\n  "
            + "\n  ".join(problems)
            + "\n(pass allow_unpinned / --allow-unpinned to build it anyway)"
        )
    root = environments_dir(settings)
    target = root / name
    if (target / MARKER).exists() and not force:
        raise FileExistsError(
            f"environment {name!r} exists at {target}: pass force / --force to rebuild it"
        )
    if kernel:
        kernels.check_kernel_name(name, settings)
    root.mkdir(parents=True, exist_ok=True)
    building = root / f".{name}.building-{os.getpid()}"
    shutil.rmtree(building, ignore_errors=True)
    extra_overrides = overrides_for(spec_path) if overrides is None else overrides
    try:
        # --relocatable: the finished venv is moved into place, its scripts must not care.
        _uv("venv", "--quiet", "--relocatable", "--python", python or sys.executable, building)
        # The spec is also its own override: its pins win over what packages ask for
        # (hermes_core asks for swxsoc@main, HERMES runs on swxsoc 0.1.0); so does a
        # <name>.overrides.txt beside it. uv would reuse its cached build of a local folder
        # whose code changed since: refresh those.
        fresh = [f"--refresh-package={n}" for n in _local_packages(text, spec_path.parent)]
        _uv(
            "pip",
            "install",
            "--quiet",
            "--python",
            _python_in(building),
            "-r",
            spec_path,
            *(f"--override={o}" for o in [spec_path, *extra_overrides]),
            *fresh,
            cwd=spec_path.parent,
        )
        kernel_packages = None
        if kernel:
            kernel_packages = _install_kernel_packages(
                _python_in(building), spec_path, extra_overrides
            )
            kernels.link_soc_workspace(_python_in(building))
        version = subprocess.run(
            [_python_in(building), "-c", "import platform; print(platform.python_version())"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        freeze = _uv("pip", "freeze", "--python", _python_in(building))
        (building / "freeze.txt").write_text(freeze)
        packages = _parse_freeze(freeze)
        routes = routes if routes is not None else kernels.missions_of(name, settings)
        meta: dict[str, Any] = {
            "name": name,
            "spec": text,
            "spec_file": str(spec_path),
            "python_version": version,
            "created": datetime.now(UTC).isoformat(timespec="seconds"),
            "uv": _uv("--version").strip(),
            "lock_sha256": hashlib.sha256(freeze.encode()).hexdigest(),
            "sources": source_commits(packages),
            "routes": routes,
        }
        if candidate:
            meta["candidate"] = candidate
        if kernel:
            meta["kernel"] = {
                "name": name.lower(),
                "display_name": display_name
                or kernels.display_name(
                    name,
                    routes,
                    packages,
                    settings,
                    candidate=(candidate or {}).get("package"),
                ),
                "packages": kernel_packages,
            }
        (building / MARKER).write_text(json.dumps(meta, indent=2))
        old = root / f".{name}.old-{os.getpid()}"
        if target.exists():
            target.rename(old)
        building.rename(target)
        shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(building, ignore_errors=True)
    if kernel:
        kernels.register_kernel(
            name,
            _python_in(target),
            display=meta["kernel"]["display_name"],
            mission=kernels.swxsoc_mission(routes),
            settings=settings,
        )
    else:
        kernels.unregister_kernel(name, settings)
    return resolve_environment(name, settings)


def _install_kernel_packages(python: Path, spec: Path, overrides: list[Path]) -> str:
    """Install the kernel's packages within the spec; say which versions were taken."""
    from .kernels import kernel_requirements

    # What the spec installed, exactly (named, so that uv takes it as constraints).
    pinned = python.parent.parent / ".spec-constraints.txt"
    pinned.write_text(_uv("pip", "freeze", "--python", python))

    def install(requirements: list[str]) -> None:
        _uv(
            "pip",
            "install",
            "--quiet",
            "--python",
            python,
            *requirements,
            f"--constraint={pinned}",
            *(f"--override={o}" for o in overrides),
            cwd=spec.parent,
        )

    try:
        install(kernel_requirements(pinned=True))
        return "the soc-workspace installation's versions"
    except MissionEnvironmentError:
        # The mission's pins exclude some of them (an older numpy, say): resolve anew.
        install(kernel_requirements(pinned=False))
        return "resolved within the spec (the installation's versions conflict with it)"
    finally:
        pinned.unlink()


def source_commits(packages: dict[str, str]) -> dict[str, dict[str, Any]]:
    """Packages installed from a folder or from git: where from and at which commit.

    A folder that is (inside) a git checkout gets its ``HEAD`` commit and whether it had
    uncommitted changes when the environment was built (the installed code is a copy).
    """
    from urllib.parse import unquote, urlparse

    found: dict[str, dict[str, Any]] = {}
    for name, where in packages.items():
        if where.startswith("git+"):
            commit = where.rsplit("@", 1)[-1].split("#", 1)[0]
            found[name] = {"url": where, "commit": commit if _HEX.match(commit) else None}
        elif where.startswith("file://"):
            folder = Path(unquote(urlparse(where).path))
            record: dict[str, Any] = {"url": where, "path": str(folder), "commit": None}
            head = _git(folder, "rev-parse", "HEAD")
            if head:
                record["commit"] = head
                record["dirty"] = bool(_git(folder, "status", "--porcelain", "--", "."))
            found[name] = record
    return found


_HEX = re.compile(r"^[0-9a-f]{7,40}$")


def _git(folder: Path, *args: str) -> str | None:
    if not folder.is_dir() or not shutil.which("git"):
        return None
    done = subprocess.run(
        ["git", "-C", str(folder), *args], capture_output=True, text=True, timeout=30
    )
    return done.stdout.strip() if done.returncode == 0 else None


def remove_environment(name: str, settings: Settings | None = None) -> Path:
    """Delete the environment ``name`` and its Jupyter kernel; return the folder removed."""
    from .kernels import unregister_kernel

    target = environments_dir(settings) / name
    if not _NAME.match(name) or not target.is_dir():
        raise FileNotFoundError(f"no environment {name!r} in {target.parent}")
    unregister_kernel(name, settings)
    shutil.rmtree(target)
    return target


def installed_packages(python: Path) -> dict[str, str]:
    """Distribution name -> version (or ``name @ url`` for git and path installs)."""
    return _parse_freeze(_uv("pip", "freeze", "--python", python))


def _parse_freeze(text: str) -> dict[str, str]:
    lines = text.splitlines()
    packages = {}
    for line in lines:
        if " @ " in line:
            name, _, where = line.partition(" @ ")
            packages[name.strip().lower()] = where.strip()
        elif "==" in line:
            name, _, version = line.partition("==")
            packages[name.strip().lower()] = version.strip()
    return packages


def list_environments(settings: Settings | None = None) -> list[MissionEnvironment]:
    """Every environment in environments_dir and every one the settings name, with users."""
    settings = settings or current_settings()
    users: dict[str, list[str]] = {}
    for route, value in settings.calibration.environments.items():
        users.setdefault(value, []).append(route)
    names = set(users)
    root = environments_dir(settings)
    if root.is_dir():
        names |= {p.name for p in root.iterdir() if (p / MARKER).is_file()}
    found = []
    for value in sorted(names):
        try:
            env = resolve_environment(value, settings)
        except MissionEnvironmentError:
            python = Path(value) if "/" in value else _python_in(root / value)
            env = MissionEnvironment(name=value, python=python)
        found.append(replace(env, used_by=tuple(sorted(users.get(value, ())))))
    return found
