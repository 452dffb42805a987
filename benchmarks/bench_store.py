"""The embedded store for a benchmark: a real `soc-workspace store serve` process in a
scratch folder, this process pointed at it as its operator, everything removed afterwards."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from soc_workspace.store.process import serve_in_subprocess


@contextmanager
def embedded_store(prefix: str, **environment: str) -> Iterator[Path]:
    """Yield the scratch folder (the store's state in ``store/``, the catalog cache in
    ``cache/``); ``environment`` adds variables, e.g. ``SOC_WORKSPACE__CATALOG__MAX_AGE``."""
    work = Path(tempfile.mkdtemp(prefix=prefix))
    store = serve_in_subprocess(work / "store")
    os.environ.update(
        store.environment(), SOC_WORKSPACE__CATALOG__CACHE_DIR=str(work / "cache"), **environment
    )
    try:
        yield work
    finally:
        store.stop()
        shutil.rmtree(work, ignore_errors=True)
