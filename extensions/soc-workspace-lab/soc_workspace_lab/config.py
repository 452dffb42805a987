"""The extension's settings, read from Jupyter's configuration (``c.LabSettings...``)."""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from traitlets import Bool, Integer, Unicode, default
from traitlets.config import Configurable

from soc_workspace.hub.teams import TEMPLATES_FOLDER


class LabSettings(Configurable):
    """soc-workspace-lab: the SOC data browser and the template launcher."""

    templates_dir = Unicode(
        config=True,
        help="The folder of the notebook templates the launcher offers (default: ~/templates, "
        "where both deployments link the project's templates).",
    )

    @default("templates_dir")
    def _home_templates(self) -> str:
        return str(Path.home() / TEMPLATES_FOLDER)

    quicklook_max_files = Integer(
        48,
        config=True,
        help="The most files a quicklook reads (a longer range is refused with a message).",
    )

    read_catalog_at_start = Bool(
        True,
        config=True,
        help="Read the catalog's dataset list while the server starts, so that the data "
        "browser's first answers do not wait for the store.",
    )

    _warming: Future | None = None

    def warm_up(self) -> None:
        """Start reading the catalog's indexes (the manifests) in a thread of its own."""
        if self.read_catalog_at_start and self._warming is None:
            from .queries import known_datasets

            pool = ThreadPoolExecutor(1, thread_name_prefix="soc-workspace-lab-warm-up")
            self._warming = pool.submit(known_datasets)
            pool.shutdown(wait=False)

    @property
    def warming(self) -> Future | None:
        """The read started by :meth:`warm_up` while it runs, else None."""
        return self._warming if self._warming and not self._warming.done() else None
