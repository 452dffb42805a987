"""configurable-http-proxy, JupyterHub's proxy: an npm package, installed beside the venv."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

PROXY_PACKAGE = "configurable-http-proxy"
PROXY_VERSION = "5.3.0"


def proxy_prefix() -> Path:
    """Where ``soc-workspace setup`` installs it: inside this Python environment, so every
    workspace and test run of this environment finds the same copy."""
    return Path(sys.prefix) / "share" / "soc-workspace" / "node"


def find_proxy() -> Path | None:
    """The configurable-http-proxy command: ours, else one on PATH."""
    ours = proxy_prefix() / "node_modules" / ".bin" / PROXY_PACKAGE
    if ours.exists():
        return ours
    found = shutil.which(PROXY_PACKAGE)
    return Path(found) if found else None


def install_proxy(*, quiet: bool = True) -> Path:
    """Install the pinned configurable-http-proxy with npm (a few seconds); return its path."""
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError(
            "JupyterHub needs configurable-http-proxy, an npm package, and npm is not installed: "
            "install Node.js 18 or newer with npm (e.g. `apt-get install nodejs npm`), then run "
            "`soc-workspace setup` (or install it yourself: "
            f"`npm install -g {PROXY_PACKAGE}@{PROXY_VERSION}`)"
        )
    prefix = proxy_prefix()
    prefix.mkdir(parents=True, exist_ok=True)
    command = [npm, "install", "--prefix", str(prefix), "--no-audit", "--no-fund"]
    command += ["--loglevel=error"] if quiet else []
    result = subprocess.run(
        [*command, f"{PROXY_PACKAGE}@{PROXY_VERSION}"], capture_output=quiet, text=True
    )
    proxy = prefix / "node_modules" / ".bin" / PROXY_PACKAGE
    if result.returncode != 0 or not proxy.exists():
        detail = (result.stderr or result.stdout or "").strip()[-2000:] if quiet else ""
        raise RuntimeError(
            f"npm could not install {PROXY_PACKAGE}@{PROXY_VERSION} into {prefix} "
            f"(exit {result.returncode}). {detail}"
        )
    return proxy


def ensure_proxy(*, install: bool = True) -> Path:
    """The proxy's path, installing it first when missing and ``install`` is true."""
    found = find_proxy()
    if found is not None:
        return found
    if not install:
        raise RuntimeError(
            f"{PROXY_PACKAGE} is not installed: run `soc-workspace setup` to install it"
        )
    return install_proxy()
