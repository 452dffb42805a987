"""Teams are hub groups: each gets a shared folder that only its members see.

Where the folders live depends on the deployment (a directory on one machine, a volume on
Kubernetes); what users see does not: ``~/teams/<team>`` for each of their teams,
``~/shared`` (read-only, admins write it) and ``~/templates`` (the notebook templates).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from typing import Any

log = logging.getLogger(__name__)

TEAMS_FOLDER = "teams"
"""Folder in each home that holds one folder per team of the user."""

SHARED_FOLDER = "shared"
"""Folder in each home that everyone reads and admins write."""

TEMPLATES_FOLDER = "templates"
"""Folder in each home with the project's notebook templates (read-only)."""

# Team names become folder names and (on one machine) system group names "socws-t-<team>",
# which may have 32 characters at most.
TEAM_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,23}$")


def is_team_name(name: str) -> bool:
    """True when a hub group's name can be a team (see :data:`TEAM_NAME`)."""
    return bool(TEAM_NAME.match(name))


def team_names(groups: Iterable[str]) -> list[str]:
    """The teams among hub group names, sorted; other names are logged and left out."""
    teams = []
    for name in groups:
        if is_team_name(name):
            teams.append(name)
        else:
            log.warning(
                "hub group %r gets no team folder: team names are 1-24 lower-case letters, "
                "digits, '-' or '_', starting with a letter or digit",
                name,
            )
    return sorted(set(teams))


def teams_of(spawner: Any) -> list[str]:
    """The teams of the user a JupyterHub spawner starts a server for.

    A workshop's group is no team: participants get its materials, not a shared folder.
    """
    from .workshops import is_workshop_group

    return team_names(g.name for g in spawner.user.groups if not is_workshop_group(g))


def workshops_of(spawner: Any) -> list[dict[str, Any]]:
    """The records of the workshops the spawner's user takes part in (by group name)."""
    from .workshops import workshop_record

    found = []
    for group in spawner.user.groups:
        record = workshop_record(group.properties)
        if record is not None:
            found.append({**record, "name": group.name})
    return sorted(found, key=lambda r: r["name"])
