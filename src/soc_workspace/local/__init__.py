"""The workspace on one machine: ``soc-workspace up``, ``down`` and ``status``.

Names are imported on first use, so the hub's and the gateway's config files (which import
:mod:`soc_workspace.local.runtime`) load only what they need.
"""

from __future__ import annotations

from .._lazy import lazy_exports

_EXPORTS: dict[str, str] = {
    "StatePaths": "paths",
    "Connection": "workspace",
    "WorkspaceError": "workspace",
    "up": "workspace",
    "down": "workspace",
    "status": "workspace",
    "BrowserSession": "client",
    "HubAPI": "client",
}

__all__ = sorted(_EXPORTS)

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
