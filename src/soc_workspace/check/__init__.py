"""``soc-workspace check``: is a deployed workspace usable, end to end, right now?

Works against any deployment's hub (Kubernetes, or the one-machine workspace by default)
with an admin's API token; see :func:`check`.
"""

from __future__ import annotations

from .._lazy import lazy_exports

_EXPORTS: dict[str, str] = {
    "check": "steps",
    "Report": "steps",
    "Step": "steps",
    "Kernel": "kernel",
    "KernelError": "kernel",
}

__all__ = sorted(_EXPORTS)

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
