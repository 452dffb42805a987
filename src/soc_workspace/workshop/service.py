"""Workshops end on their own at ``--ends``: a loop that runs ``end`` for each that is due.

On one machine the hub runs it as a service (``soc-workspace-workshops``, with the
operator's scopes); elsewhere run ``soc-workspace workshop service --hub URL --token T``.
Every minute it looks at the hub's workshops; one whose end time has passed is ended as
``soc-workspace workshop end`` would (archives to the workshop's destination). When some
archive fails, those participants' accounts stay and the next round tries again, at most
:data:`ATTEMPTS` times; the hub's log says what happened each time.
"""

from __future__ import annotations

import logging
import os
import time
from datetime import UTC, datetime
from pathlib import Path

from .end import EndReport, end
from .hub import LocalWorkspace, WorkshopHub

SERVICE = "soc-workspace-workshops"
ATTEMPTS = 3
HUB_URL_VARIABLE = "SOC_WORKSPACE_HUB_URL"
INTERVAL_VARIABLE = "SOC_WORKSPACE_WORKSHOP_CHECK_INTERVAL"

log = logging.getLogger("soc_workspace.workshop.service")


def end_due(hub: WorkshopHub, now: datetime | None = None) -> list[EndReport]:
    """End every workshop whose end time has passed (and that was not given up on)."""
    now = now or datetime.now(UTC)
    reports = []
    for workshop in hub.workshops():
        if now < datetime.fromisoformat(workshop.ends) or workshop.end_attempts >= ATTEMPTS:
            continue
        workshop.end_attempts += 1
        hub.save(workshop)
        log.info("Workshop %s ended at %s: archiving and removing it", workshop.name, workshop.ends)
        try:
            report = end(hub, workshop.name)
        except Exception as err:
            log.error("Ending workshop %s failed: %s", workshop.name, err)
            continue
        for participant in report.participants:
            log.info("  %s: %s %s", participant.user, participant.status, participant.detail)
        if report.kept:
            log.warning(
                "Workshop %s: kept %s (their archive failed); attempt %d of %d",
                workshop.name,
                ", ".join(report.kept),
                workshop.end_attempts,
                ATTEMPTS,
            )
        reports.append(report)
    return reports


def run(hub: WorkshopHub, *, interval: float = 60.0) -> None:
    """Forever: end what is due, then wait ``interval`` seconds."""
    log.info("Ending workshops at their end time (checked every %.0f s)", interval)
    while True:
        try:
            end_due(hub)
        except Exception as err:  # the hub restarting: try again next round
            log.warning("Could not look at the workshops: %s", err)
        time.sleep(interval)


def hub_from_service_environment() -> WorkshopHub:
    """The hub as a hub-managed service sees it (its token; the workspace's state dir)."""
    from ..local.processes import MARKER
    from ..local.runtime import Runtime

    token = os.environ["JUPYTERHUB_API_TOKEN"]
    hub_url = os.environ[HUB_URL_VARIABLE]
    local = None
    if os.environ.get(MARKER):
        state = Path(os.environ[MARKER])
        from ..local.paths import StatePaths

        run_info = Runtime.read(StatePaths(state).runtime_file)
        local = LocalWorkspace(state, run_info.isolation, run_info.settings)
    return WorkshopHub(hub_url, token, local=local)


if __name__ == "__main__":  # run by the hub: python -m soc_workspace.workshop.service
    logging.basicConfig(level=logging.INFO, format="[%(levelname)s %(name)s] %(message)s")
    run(hub_from_service_environment(), interval=float(os.environ.get(INTERVAL_VARIABLE, "60")))
