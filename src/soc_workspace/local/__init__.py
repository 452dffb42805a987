"""The workspace on one machine: ``soc-workspace up``, ``down`` and ``status``.

Names are imported on first use, so the hub's and the gateway's config files (which import
:mod:`soc_workspace.local.runtime`) load only what they need.
"""

from __future__ import annotations

import importlib
from typing import Any

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


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(f"{__name__}.{_EXPORTS[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return __all__
