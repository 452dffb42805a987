"""Names a package exports but imports only on first use (PEP 562).

``import soc_workspace`` and ``soc-workspace --help`` stay fast although the package reaches
xarray, astropy, JupyterHub and Dask.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def lazy_exports(
    package: str, exports: Mapping[str, str]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``__getattr__`` and ``__dir__`` for ``package``.

    ``exports`` maps each public name to the module defining it: a submodule of ``package``
    (``"comparison"``) or a full dotted path (``"soc_workspace.config"``).
    """

    def __getattr__(name: str) -> Any:
        if name in exports:
            module = exports[name]
            module = module if "." in module else f"{package}.{module}"
            return getattr(importlib.import_module(module), name)
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    def __dir__() -> list[str]:
        return sorted(exports)

    return __getattr__, __dir__
