"""A Python environment that other system users can run (multi-user mode).

Users' servers, kernels and Dask workers run as their system users, so the interpreter and
the packages must be readable by them. The project's environment often is not: a venv made
from a Python under /root (pyenv, uv's managed Pythons) points at an interpreter only root
can reach. Then we build a small environment under the state directory on a system
interpreter of the same version (e.g. /usr/bin/python3.11) that imports the project
environment's packages: nothing is copied or installed, it takes a fraction of a second.
"""

from __future__ import annotations

import os
import shutil
import stat
import sys
import sysconfig
from pathlib import Path

_VERSION = f"{sys.version_info.major}.{sys.version_info.minor}"
_CANDIDATES = (f"/usr/bin/python{_VERSION}", f"/usr/local/bin/python{_VERSION}")


def reachable_by_others(path: Path) -> bool:
    """True when users other than the owner can read ``path`` (and search every folder to it)."""
    try:
        real = path.resolve(strict=True)
    except OSError:
        return False
    for folder in real.parents:
        if not folder.stat().st_mode & stat.S_IXOTH:
            return False
    mode = real.stat().st_mode
    need = stat.S_IROTH | (stat.S_IXOTH if real.is_dir() or os.access(real, os.X_OK) else 0)
    return mode & need == need


def project_bin() -> Path:
    """The bin folder of the environment soc-workspace runs in."""
    return Path(sys.executable).parent


def user_bin(state_python: Path) -> Path:
    """A bin folder whose ``python``, ``jupyterhub-singleuser`` and ``dask`` any user can run.

    The project's own when others can reach its interpreter and packages; else an
    environment built at ``state_python`` (see the module's docstring).
    """
    site_packages = Path(sysconfig.get_paths()["purelib"])
    if reachable_by_others(Path(sys.executable)) and reachable_by_others(site_packages):
        return project_bin()
    if not reachable_by_others(site_packages):
        raise PermissionError(
            f"multi-user mode: other users cannot read this environment's packages in "
            f"{site_packages}; install soc-workspace where every user can read it "
            "(e.g. under /opt or /srv)"
        )
    base = next((Path(p) for p in _CANDIDATES if reachable_by_others(Path(p))), None)
    if base is None:
        raise PermissionError(
            f"multi-user mode: other users cannot run this environment's Python "
            f"({Path(sys.executable).resolve()}), and no system Python {_VERSION} was found "
            f"({', '.join(_CANDIDATES)}). Install one (`apt-get install python{_VERSION}`) "
            "or create the environment from a Python every user can run."
        )
    build_environment(state_python, base, site_packages)
    return state_python / "bin"


def build_environment(target: Path, interpreter: Path, site_packages: Path) -> None:
    """A venv on ``interpreter`` that imports ``site_packages`` and has its commands."""
    if target.exists():
        shutil.rmtree(target)
    bin_dir = target / "bin"
    own_site = target / "lib" / f"python{_VERSION}" / "site-packages"
    bin_dir.mkdir(parents=True)
    own_site.mkdir(parents=True)
    (target / "pyvenv.cfg").write_text(
        f"home = {interpreter.parent}\ninclude-system-site-packages = false\n"
        f"version = {sys.version_info.major}.{sys.version_info.minor}."
        f"{sys.version_info.micro}\n"
    )
    for name in ("python", "python3", f"python{_VERSION}"):
        (bin_dir / name).symlink_to(interpreter)
    # addsitedir (not a plain path line) so the project's own .pth files, such as the
    # editable install of soc_workspace, are read as well.
    (own_site / "_soc_workspace_project.pth").write_text(
        f"import site; site.addsitedir({str(site_packages)!r})\n"
    )
    # Jupyter finds its data (JupyterLab's assets, kernels) and config under sys.prefix.
    project = Path(sys.prefix)
    for name in ("share", "etc"):
        if (project / name).is_dir():
            (target / name).symlink_to(project / name, target_is_directory=True)
    # The project's commands, pointed at this interpreter.
    own_python = f"#!{bin_dir / 'python'}\n".encode()
    for script in sorted(project_bin().iterdir()):
        if not script.is_file() or script.name.startswith(("python", "activate")):
            continue
        head = script.read_bytes()[:256]
        if head.startswith(b"#!") and b"python" in head.split(b"\n", 1)[0]:
            body = script.read_bytes().split(b"\n", 1)[1]
            out = bin_dir / script.name
            out.write_bytes(own_python + body)
            out.chmod(0o755)
    for path in [target, *target.rglob("*")]:
        if not path.is_symlink():
            path.chmod(0o755 if path.is_dir() or os.access(path, os.X_OK) else 0o644)
