"""Mission environments as Jupyter kernels, on every deployment.

``soc-workspace env create`` builds a mission's Python (see :mod:`.environments`) and, with
this module, makes it a notebook kernel:

- the packages a notebook needs beside the mission's (ipykernel, and what soc_workspace's
  readers, catalog and Dask client import) are installed *within* the spec: the spec's pins
  are constraints, so none of the mission's versions moves. The versions of the soc-workspace
  installation are tried first (then the kernel, the hub and the Dask workers agree), and
  resolved anew within the spec only when those conflict with it;
- ``soc_workspace`` itself is linked into the environment from this installation (the same
  code everywhere, nothing copied), with a small ``.dist-info`` so that ``importlib.metadata``
  and xarray's ``engine="soc"`` find it;
- a kernel spec is registered where Jupyter servers of this installation look: the
  installation's own ``share/jupyter`` (what every server of a workspace started from it
  lists, and what the notebook image's ``build-kernels.sh`` uses), or the folder of the
  setting ``calibration.jupyter_data_dir``. When the installation is not writable (a user's
  own environment in multi-user mode), the user's Jupyter data folder.

The display name says what the kernel is: ``HERMES (hermes_eea, swxsoc 0.1.0)``.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from collections.abc import Iterable
from importlib import metadata
from pathlib import Path
from typing import Any

from ..config import Settings, current_settings

# What a notebook in a mission kernel needs besides the mission's own packages: the kernel,
# soc_workspace's readers (CDF, FITS), catalog, store access, settings, Dask client, plots.
KERNEL_PACKAGES = (
    "ipykernel",
    "numpy",
    "pandas",
    "pyarrow",
    "xarray",
    "dask",
    "distributed",
    "dask-gateway",
    "cdflib",
    "pycdfpp",
    "astropy",
    "fsspec",
    "s3fs",
    "intake",
    "pydantic",
    "pydantic-settings",
    "pyyaml",
    "click",
    "rich",
    "tqdm",
    "matplotlib",
)

# The swxsoc mission name (SWXSOC_MISSION) and the title of each mission's kernels.
_TITLES = {"hermes": "HERMES", "padre": "PADRE", "swxsoc_pipeline": "SWxSOC pipeline"}
_LINK_INSTALLER = "soc-workspace-link"


def kernel_requirements(pinned: bool) -> list[str]:
    """The kernel packages, at this installation's versions when ``pinned``."""
    wanted = []
    for name in KERNEL_PACKAGES:
        try:
            version = metadata.version(name)
        except metadata.PackageNotFoundError:
            version = None
        wanted.append(f"{name}=={version}" if pinned and version else name)
    return wanted


def site_packages(python: Path) -> Path:
    """The site-packages folder of a venv's interpreter (without running it)."""
    folder = python.parent.parent
    found = sorted(folder.glob("lib/python3*/site-packages"))
    if not found:
        raise FileNotFoundError(f"no lib/python3.*/site-packages in {folder}")
    return found[-1]


def link_soc_workspace(python: Path) -> Path:
    """Make this installation's ``soc_workspace`` importable by the venv of ``python``."""
    import soc_workspace

    package = Path(soc_workspace.__file__).resolve().parent
    target = site_packages(python)
    link = target / "soc_workspace"
    if link.is_symlink() or link.exists():
        link.unlink() if link.is_symlink() else shutil.rmtree(link)
    link.symlink_to(package, target_is_directory=True)
    version = soc_workspace.__version__
    for old in target.glob("soc_workspace-*.dist-info"):
        shutil.rmtree(old)
    info = target / f"soc_workspace-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: soc-workspace\nVersion: {version}\n"
        f"Summary: linked from {package} by soc-workspace env create\n"
    )
    (info / "INSTALLER").write_text(_LINK_INSTALLER + "\n")
    (info / "direct_url.json").write_text(
        json.dumps({"url": package.as_uri(), "dir_info": {}}) + "\n"
    )
    try:
        entry_points = metadata.distribution("soc-workspace").read_text("entry_points.txt")
    except metadata.PackageNotFoundError:
        entry_points = None
    if entry_points:
        (info / "entry_points.txt").write_text(entry_points)
    files = sorted(p.name for p in info.iterdir())
    (info / "RECORD").write_text(
        "".join(f"{info.name}/{name},," + "\n" for name in [*files, "RECORD"])
    )
    return link


# -- kernel specs ----------------------------------------------------------------------------


def jupyter_data_dir(settings: Settings | None = None) -> Path:
    """Where kernel specs go: the setting, else this installation's ``share/jupyter``, else the
    user's Jupyter data folder when the installation is not writable."""
    settings = settings or current_settings()
    configured = settings.calibration.jupyter_data_dir
    if configured:
        return Path(configured).expanduser().absolute()
    shared = Path(sys.prefix) / "share" / "jupyter"
    probe = shared if shared.exists() else shared.parent
    if os.access(probe, os.W_OK):
        return shared
    from jupyter_core.paths import jupyter_data_dir as users_data_dir

    return Path(users_data_dir())


def kernel_dir(name: str, settings: Settings | None = None) -> Path:
    return jupyter_data_dir(settings) / "kernels" / name.lower()


def missions_of(name: str, settings: Settings) -> list[str]:
    """The routes (``mission`` or ``mission/instrument``) that use environment ``name``."""
    return sorted(k for k, v in settings.calibration.environments.items() if v == name)


def display_name(
    name: str,
    routes: Iterable[str],
    packages: dict[str, str],
    settings: Settings,
    candidate: str | None = None,
) -> str:
    """``HERMES (hermes_eea, swxsoc 0.1.0)``: the mission, its calibration packages installed
    here, and swxsoc's version; the environment's name when it is not the mission's, and
    which package is a ``candidate``."""
    from ..missions import get_mission
    from .single import package_for

    titles, calibration = [], []
    installed = {_normal(k) for k in packages}
    for route in routes:
        mission_name, _, instrument = route.partition("/")
        try:
            mission = get_mission(mission_name)
        except ValueError:
            titles.append(route)
            continue
        if mission.name == "swxsoc_pipeline":
            names = [instrument] if instrument else [i.name for i in mission.instruments]
            title = " ".join(n.upper() for n in names)
        else:
            title = _TITLES.get(mission.name, mission.name.upper())
        titles.append(title)
        instruments = [instrument] if instrument else [i.name for i in mission.instruments]
        for inst in instruments:
            package = package_for(mission.name, inst, settings)
            if _normal(package) in installed and package not in calibration:
                calibration.append(package)
    title = ", ".join(dict.fromkeys(titles)) or name
    if titles and name.lower() not in {t.lower() for t in titles} | set(routes):
        title = f"{title}: {name}"
    if candidate and _normal(candidate) not in {_normal(c) for c in calibration}:
        calibration.append(candidate)
    extras = [
        f"candidate {c}" if candidate and _normal(c) == _normal(candidate) else c
        for c in calibration
    ]
    swxsoc = packages.get("swxsoc")
    if swxsoc:
        extras.append(f"swxsoc {swxsoc.split(' ', 1)[0]}")
    return f"{title} ({', '.join(extras)})" if extras else title


def swxsoc_mission(routes: Iterable[str]) -> str | None:
    """What ``SWXSOC_MISSION`` the kernel sets, as the pipeline sets it for the mission."""
    for route in routes:
        return route.partition("/")[0]
    return None


def register_kernel(
    name: str,
    python: Path,
    *,
    display: str,
    mission: str | None,
    settings: Settings | None = None,
) -> Path:
    """Write the kernel spec of environment ``name`` (replacing an older one); return its folder."""
    folder = kernel_dir(name, settings)
    spec: dict[str, Any] = {
        "argv": [str(python), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": display,
        "language": "python",
        "metadata": {"soc_workspace": {"environment": name, "debugger": True}},
    }
    if mission:
        spec["env"] = {"SWXSOC_MISSION": mission}
    tmp = folder.with_name(f".{folder.name}.tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    (tmp / "kernel.json").write_text(json.dumps(spec, indent=1) + "\n")
    logos = Path(python).parent.parent / "share" / "jupyter" / "kernels" / "python3"
    for logo in ("logo-32x32.png", "logo-64x64.png", "logo-svg.svg"):
        if (logos / logo).is_file():
            shutil.copyfile(logos / logo, tmp / logo)
    if folder.exists():
        shutil.rmtree(folder)
    tmp.rename(folder)
    return folder


def check_kernel_name(name: str, settings: Settings | None = None) -> None:
    """Refuse to replace a kernel of that name that ``env create`` did not make (python3...)."""
    spec = kernel_dir(name, settings) / "kernel.json"
    if not spec.is_file():
        return
    try:
        owner = json.loads(spec.read_text()).get("metadata", {}).get("soc_workspace", {})
    except ValueError:
        owner = {}
    if owner.get("environment") != name:
        raise FileExistsError(
            f"a Jupyter kernel named {name.lower()!r} exists ({spec.parent}) and env create did "
            "not make it: choose another environment name, or build with --no-kernel"
        )


def unregister_kernel(name: str, settings: Settings | None = None) -> Path | None:
    """Remove the kernel spec of environment ``name``; return its folder, or None if absent."""
    folder = kernel_dir(name, settings)
    spec = folder / "kernel.json"
    if not spec.is_file():
        return None
    owner = json.loads(spec.read_text()).get("metadata", {}).get("soc_workspace", {})
    if owner.get("environment") != name:
        return None  # a kernel of the same name that env create did not write
    shutil.rmtree(folder)
    return folder


def _normal(name: str) -> str:
    return name.lower().replace("_", "-").replace(".", "-")
