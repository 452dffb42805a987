"""The extension's URLs, under the server's base URL: ``<base>/soc-workspace-lab/<path>``."""

from __future__ import annotations

from typing import Any

from jupyter_server.utils import url_path_join

from .handlers import (
    AvailabilityHandler,
    DatasetsHandler,
    FilesHandler,
    QuicklookHandler,
    TemplateCopyHandler,
    TemplatesHandler,
)

NAMESPACE = "soc-workspace-lab"

ROUTES: list[tuple[str, type]] = [
    ("datasets", DatasetsHandler),
    ("files", FilesHandler),
    ("availability", AvailabilityHandler),
    ("quicklook", QuicklookHandler),
    ("templates", TemplatesHandler),
    (r"templates/([^/]+)", TemplateCopyHandler),
]


def setup_route_handlers(web_app: Any, settings: Any) -> None:
    """Add the handlers to the server's application, with the extension's settings."""
    web_app.settings["soc_workspace_lab"] = settings
    base_url = web_app.settings["base_url"]
    handlers = [(url_path_join(base_url, NAMESPACE, path), cls) for path, cls in ROUTES]
    web_app.add_handlers(".*$", handlers)
