"""The version guard: a Dask cluster must run the kernel's versions of what matters.

A cluster whose scheduler or workers run other versions of Python, dask, distributed, numpy,
pandas, xarray or the mission's packages than the notebook's kernel fails mid-analysis with a
warning nobody reads (pickled functions that do not load, arrays that do not concatenate), or
worse computes with other code. :func:`check_versions` compares them, through distributed's own
version report (``Client.get_versions``), and names every mismatch.

``dask_cluster()`` calls it on every new cluster; the setting ``dask.version_check`` says
whether a mismatch refuses the cluster (``refuse``, the default), only warns (``warn``) or is
not looked for (``off``).
"""

from __future__ import annotations

import json
import sys
import warnings
from importlib import metadata
from pathlib import Path
from typing import Any, Literal

# What the guard always compares (besides Python itself).
CORE_PACKAGES = ("dask", "distributed", "numpy", "pandas", "xarray")
# Calibration stacks: compared when the kernel has them.
MISSION_PACKAGES = ("swxsoc", "hermes-core", "hermes-eea", "padre-meddea", "swxsoc-reach")
_MARKER = "soc-workspace-env.json"  # what env create writes into an environment

Mode = Literal["refuse", "warn", "off"]


class VersionMismatchError(RuntimeError):
    """A Dask cluster runs other versions than the kernel; the message names each one."""


class VersionMismatchWarning(UserWarning):
    """A Dask cluster runs other versions than the kernel (dask.version_check = "warn")."""


def kernel_environment() -> str | None:
    """The name of the mission environment this Python is (``env create``), or None."""
    marker = Path(sys.prefix) / _MARKER
    if not marker.is_file():
        return None
    try:
        return json.loads(marker.read_text()).get("name")
    except ValueError:
        return None


def guarded_packages() -> list[str]:
    """The distributions compared: the core ones, and the mission packages of this kernel.

    Mission packages are the calibration stacks' (swxsoc, hermes_core, ...), every package
    of a mission environment installed from a folder or from git (its instrument packages),
    and the settings' ``calibration.packages``.
    """
    names = [*CORE_PACKAGES, *MISSION_PACKAGES]
    marker = Path(sys.prefix) / _MARKER
    if marker.is_file():
        try:
            sources = json.loads(marker.read_text()).get("sources", {})
        except ValueError:
            sources = {}
        names += [name for name in sources if name != "soc-workspace"]
    try:
        from .config import current_settings

        names += list(current_settings().calibration.packages.values())
    except Exception:  # settings that do not load must not stop a cluster from starting
        pass
    wanted = []
    for name in dict.fromkeys(n.lower().replace("_", "-") for n in names):
        if name in CORE_PACKAGES or _installed(name):
            wanted.append(name)
    return wanted


def _installed(name: str) -> bool:
    try:
        metadata.version(name)
    except metadata.PackageNotFoundError:
        return False
    return True


def mismatches(versions: dict[str, Any], packages: list[str]) -> list[str]:
    """One line per package whose version differs between the client and the cluster.

    ``versions`` is what ``Client.get_versions(packages=...)`` returns.
    """
    client = _packages(versions.get("client"))
    others = {"scheduler": _packages(versions.get("scheduler"))}
    for address, info in sorted((versions.get("workers") or {}).items()):
        others[f"worker {address}"] = _packages(info)
    lines = []
    for package in ["python", *packages]:
        mine = _normal(package, client.get(package))
        differing: dict[str, list[str]] = {}
        for where, found in others.items():
            theirs = _normal(package, found.get(package))
            if theirs != mine:
                differing.setdefault(theirs or "missing", []).append(where)
        if differing:
            described = "; ".join(
                f"{version} on {_where(places)}" for version, places in sorted(differing.items())
            )
            lines.append(f"{package}: {mine or 'missing'} in this kernel, {described}")
    return lines


def check_versions(
    client: Any, mode: Mode | None = None, *, packages: list[str] | None = None
) -> list[str]:
    """Compare the kernel's versions with the cluster's; refuse or warn per ``mode``.

    ``mode`` defaults to the setting ``dask.version_check``. Returns the mismatches found
    (empty when all agree, or when ``mode`` is ``off``). Raises
    :class:`VersionMismatchError` in ``refuse`` mode when there is any.
    """
    if mode is None:
        from .config import current_settings

        mode = current_settings().dask.version_check
    if mode == "off":
        return []
    packages = guarded_packages() if packages is None else packages
    found = mismatches(client.get_versions(check=False, packages=packages), packages)
    if not found:
        return []
    text = (
        "the Dask cluster runs other versions than this kernel:\n  "
        + "\n  ".join(found)
        + "\nStart the cluster from a kernel of the same environment (dask_cluster() asks the "
        "workspace's gateway for workers in the kernel's environment), or set "
        "dask.version_check = 'warn' (SOC_WORKSPACE__DASK__VERSION_CHECK=warn) to go on anyway."
    )
    if mode == "refuse":
        raise VersionMismatchError(text)
    warnings.warn(text, VersionMismatchWarning, stacklevel=2)
    return found


def _packages(info: Any) -> dict[str, Any]:
    if not isinstance(info, dict):
        return {}
    packages = dict(info.get("packages") or {})
    python = (info.get("host") or {}).get("python") or packages.get("python")
    packages["python"] = python
    return packages


def _normal(package: str, version: Any) -> str | None:
    if version is None:
        return None
    text = str(version)
    if package == "python":  # "3.11.7.final.0" and "3.11.7" are the same Python
        return ".".join(text.split(".")[:3])
    return text


def _where(places: list[str]) -> str:
    if len(places) <= 2:
        return " and ".join(places)
    workers = [p for p in places if p.startswith("worker ")]
    rest = [p for p in places if not p.startswith("worker ")]
    return " and ".join([*rest, f"{len(workers)} workers"])
