"""soc-workspace's JupyterLab extension: the SOC data browser and the template launcher.

The frontend (``labextension/``, built from ``src/`` by the JupyterLab builder) talks to the
server extension registered here: authenticated REST handlers over ``soc_workspace.catalog``.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from typing import Any

try:
    __version__ = version("soc-workspace-lab")
except PackageNotFoundError:  # a source tree that was not installed
    __version__ = "0+unknown"


def _jupyter_labextension_paths() -> list[dict[str, str]]:
    return [{"src": "labextension", "dest": "soc-workspace-lab"}]


def _jupyter_server_extension_points() -> list[dict[str, str]]:
    return [{"module": "soc_workspace_lab"}]


def _load_jupyter_server_extension(server_app: Any) -> None:
    """Register the REST handlers (Jupyter calls this when the extension is enabled)."""
    from .config import LabSettings
    from .routes import setup_route_handlers

    settings = LabSettings(parent=server_app)
    setup_route_handlers(server_app.web_app, settings)
    settings.warm_up()
    server_app.log.info(
        "soc-workspace-lab: data browser and templates at %s (templates from %s)",
        server_app.web_app.settings["base_url"] + "soc-workspace-lab/",
        settings.templates_dir,
    )
