"""Whether users' servers get the workspace's JupyterLab extension (extensions/soc-workspace-lab).

Users' servers run from this environment, so they load the extension when it is installed
here: its prebuilt frontend under share/jupyter/labextensions and the file under
etc/jupyter/jupyter_server_config.d that enables its server part (`uv sync` installs both).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

EXTENSION = "soc-workspace-lab"
SERVER_EXTENSION = "soc_workspace_lab"


def installed_lab_extension(prefix: Path | None = None) -> str | None:
    """The version of the extension users' servers load, or None when it is not installed
    and enabled in the environment at ``prefix`` (default: this one)."""
    prefix = Path(sys.prefix) if prefix is None else prefix
    frontend = prefix / "share" / "jupyter" / "labextensions" / EXTENSION / "package.json"
    config = prefix / "etc" / "jupyter" / "jupyter_server_config.d" / f"{SERVER_EXTENSION}.json"
    try:
        version = json.loads(frontend.read_text())["version"]
        enabled = json.loads(config.read_text())["ServerApp"]["jpserver_extensions"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return str(version) if enabled.get(SERVER_EXTENSION) is True else None
