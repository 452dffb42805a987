"""The extension's settings, read from Jupyter's configuration (``c.LabSettings...``)."""

from __future__ import annotations

from pathlib import Path

from traitlets import Integer, Unicode, default
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
