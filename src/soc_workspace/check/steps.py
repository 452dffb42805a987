"""``soc-workspace check``: a scientist's path through a deployed workspace, step by step.

A temporary user is created through the hub's REST API (an admin's token), their server is
started (the default profile), and code runs in their kernel as a scientist's would: search
the catalog, open a file, compute on a 2-worker Dask Gateway cluster whose workers read that
file from the store. Then the server stops and the user is removed, whatever happened. Each
step is timed; the first that fails stops the ones after it (cleanup still runs).
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from ..local.client import HubAPI, HubError
from .kernel import Kernel, call

PASSED, FAILED, SKIPPED = "passed", "FAILED", "skipped"


@dataclass
class Step:
    name: str
    status: str = SKIPPED
    seconds: float = 0.0
    detail: str = ""


@dataclass
class Report:
    hub_url: str
    user: str
    steps: list[Step] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(step.status == PASSED for step in self.steps)

    @property
    def failed(self) -> Step | None:
        return next((s for s in self.steps if s.status == FAILED), None)


class CheckError(RuntimeError):
    """A step failed; the message says what was found."""


class Hub(HubAPI):
    """The hub's REST API with an admin's token."""

    def __init__(self, hub_url: str, token: str) -> None:
        self.url = hub_url.rstrip("/")
        super().__init__(f"{self.url}/hub/api", token)


def _call(function: str, *args: Any) -> str:
    """Kernel code calling one of :mod:`soc_workspace.check.inkernel`'s functions."""
    return call("soc_workspace.check.inkernel", function, *args)


def check(
    hub_url: str,
    token: str,
    *,
    dataset: str | None = None,
    workers: int = 2,
    timeout: float = 300.0,
    progress: Callable[[Step], None] | None = None,
) -> Report:
    """Run every step against the hub at ``hub_url`` with an admin's API ``token``."""
    hub = Hub(hub_url, token)
    user = f"soc-check-{secrets.token_hex(3)}"
    report = Report(hub.url, user)
    found: dict[str, Any] = {}
    kernel: list[Kernel] = []

    def run(name: str, action: Callable[[], str], *, always: bool = False) -> None:
        """Time one step; after a failure, only the ``always`` ones (cleanup) still run."""
        step = Step(name)
        if always or report.failed is None:
            started = time.monotonic()
            try:
                step.detail = action()
                step.status = PASSED
            except Exception as err:  # reported; the cleanup runs all the same
                step.status, step.detail = FAILED, str(err) or type(err).__name__
            step.seconds = time.monotonic() - started
        report.steps.append(step)
        if progress:
            progress(step)

    def reach_hub() -> str:
        info = hub.request("GET", "/")
        me = hub.request("GET", "/user")
        return f"JupyterHub {info.get('version')}, as {me.get('name')}"

    def create_user() -> str:
        hub.request("POST", f"/users/{quote(user)}")
        return user

    def start_server() -> str:
        hub.start_server(user, timeout=timeout)
        kernel.append(Kernel.start(hub.url, user, hub.server_token(user)))
        return "ready"

    def search() -> str:
        out = json.loads(kernel[0].run(_call("search_catalog", dataset or ""), timeout=timeout))
        found.update(out)
        return f"{out['files']} file(s) of {out['dataset']} in its last day"

    def open_file() -> str:
        out = json.loads(kernel[0].run(_call("open_file", found["url"]), timeout=timeout))
        return f"{found['url']}: {out['variables']} variables, {out['sizes']}"

    def compute() -> str:
        code = _call("compute_on_gateway", found["url"], workers, timeout)
        out = json.loads(kernel[0].run(code, timeout=timeout))
        if out["workers"] != workers:
            raise CheckError(f"{out['workers']} worker(s) answered, not {workers}")
        return f"{out['workers']} workers read the file ({out['variables']} variables)"

    def stop_server() -> str:
        return "stopped" if hub.stop_server(user, timeout=timeout) else "not running"

    def remove_user() -> str:
        try:
            hub.user(user)
        except HubError:
            return "not there"
        hub.request("DELETE", f"/users/{quote(user)}")
        return f"{user} removed"

    run("hub API", reach_hub)
    run("create a temporary user", create_user)
    run("start their server", start_server)
    run("search the catalog", search)
    run("open a file", open_file)
    run(f"gateway cluster ({workers} workers)", compute)
    created = report.steps[1].status == PASSED
    # the workspace is left as it was found, whatever failed
    run("stop the server (and its clusters)", stop_server, always=created)
    run("remove the user", remove_user, always=created)
    return report
