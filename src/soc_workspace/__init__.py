"""soc-workspace: an analysis workspace next to a Science Operations Center's data.

The names users call most are importable from here; each is loaded on first use so that
``import soc_workspace`` stays fast. To export another, add it to ``_EXPORTS``.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from soc_workspace._lazy import lazy_exports

try:
    __version__ = version("soc-workspace")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0+unknown"

# public name -> module that defines it
_EXPORTS: dict[str, str] = {
    "load_settings": "soc_workspace.config",
    "current_settings": "soc_workspace.config",
    "parse_filename": "soc_workspace.missions",
    "make_filename": "soc_workspace.missions",
    "bucket_for": "soc_workspace.missions",
    "key_for": "soc_workspace.missions",
    "write_demo_data": "soc_workspace.demo",
    "search": "soc_workspace.catalog",
    "availability": "soc_workspace.catalog",
    "open_catalog_files": "soc_workspace.catalog.opening",
    "open_dataset": "soc_workspace.io",
    "open_mfdataset": "soc_workspace.io",
    "SOCDataError": "soc_workspace.io",
    "rerun": "soc_workspace.calibration",
    "rerun_file": "soc_workspace.calibration",
    "compare": "soc_workspace.calibration",
}

__all__ = ["__version__", *_EXPORTS]

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
