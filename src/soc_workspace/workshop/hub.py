"""The hub a workshop runs on: any hub's REST API with an admin's token.

By default the workspace ``soc-workspace up`` runs on this machine (its connection.json);
then a few things are also done on this machine's disk: the materials are copied beside the
hub, archives go to its state directory, and ``status`` adds the CPU and memory each
participant's processes use.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from ..local.client import HubAPI, HubError
from .record import Workshop, WorkshopError


@dataclass(frozen=True)
class LocalWorkspace:
    """The workspace on this machine behind the hub (``soc-workspace up``)."""

    state_dir: Path
    isolation: str
    settings: dict[str, Any]

    @property
    def paths(self) -> Any:
        from ..local.paths import StatePaths

        return StatePaths(self.state_dir)


class WorkshopHub(HubAPI):
    """The hub's REST API with an admin's (or the operator's) token."""

    def __init__(
        self,
        hub_url: str,
        token: str,
        *,
        public_url: str | None = None,
        local: LocalWorkspace | None = None,
    ) -> None:
        self.url = hub_url.rstrip("/")
        self.public_url = (public_url or hub_url).rstrip("/")
        self.local = local
        super().__init__(f"{self.url}/hub/api", token)

    @classmethod
    def connect(
        cls,
        hub_url: str | None = None,
        token: str | None = None,
        *,
        state_dir: str | Path | None = None,
    ) -> WorkshopHub:
        """``hub_url`` with ``token``, or the workspace on this machine (its connection.json)."""
        if hub_url:
            if not token:
                raise WorkshopError("--hub needs --token: an API token of one of the hub's admins")
            return cls(hub_url, token)
        from ..config import current_settings
        from ..local.runtime import Runtime
        from ..local.workspace import Connection, state_paths

        paths = state_paths(state_dir, current_settings())
        if not paths.connection_file.is_file():
            raise WorkshopError(
                f"no workspace runs from {paths.root} ({paths.connection_file} is missing): "
                "start one with `soc-workspace up`, or use another hub with --hub URL --token T"
            )
        connection = Connection.read(paths.root)
        run = Runtime.read(paths.runtime_file)
        local = LocalWorkspace(paths.root, connection.isolation, run.settings)
        return cls(
            connection.hub_url, connection.api_token, public_url=connection.public_url, local=local
        )

    # -- groups and workshops -----------------------------------------------------------------

    def group(self, name: str) -> dict[str, Any] | None:
        try:
            return self.request("GET", f"/groups/{quote(name)}")
        except HubError as err:
            if "HTTP 404" in str(err):
                return None
            raise

    def workshop(self, name: str) -> tuple[Workshop, list[str]]:
        """The workshop ``name`` and the names in its group."""
        group = self.group(name)
        if group is None:
            raise WorkshopError(f"there is no workshop {name!r} on {self.public_url}")
        return Workshop.from_group(group), list(group.get("users", []))

    def workshops(self) -> list[Workshop]:
        found = []
        for group in self.request("GET", "/groups"):
            try:
                found.append(Workshop.from_group(group))
            except WorkshopError:
                continue
        return found

    def save(self, workshop: Workshop) -> None:
        """Write the workshop's record into its group's properties (the group must exist)."""
        group = self.group(workshop.name) or {}
        self.request(
            "PUT",
            f"/groups/{quote(workshop.name)}/properties",
            json=workshop.properties(group.get("properties")),
        )

    # -- participants -------------------------------------------------------------------------

    def add_users(self, group: str, names: list[str]) -> None:
        """Create the users that do not exist yet and put all of them in ``group``."""
        existing = {u["name"] for u in self.request("GET", "/users")}
        new = [n for n in names if n not in existing]
        if new:
            self.request("POST", "/users", json={"usernames": new})
        if names:
            self.request("POST", f"/groups/{quote(group)}/users", json={"users": names})

    def delete_user(self, name: str) -> bool:
        try:
            self.request("DELETE", f"/users/{quote(name)}")
        except HubError as err:
            if "HTTP 404" in str(err):
                return False
            raise
        return True

    def exists(self, name: str) -> bool:
        try:
            self.user(name)
        except HubError as err:
            if "HTTP 404" in str(err):
                return False
            raise
        return True

    def gateway_clusters(self, user: str) -> list[str]:
        """Names of ``user``'s pending or running Dask clusters (asked with a token of theirs)."""
        import requests

        token = self.request(
            "POST",
            f"/users/{quote(user)}/tokens",
            json={"scopes": ["access:services!service=dask-gateway"], "expires_in": 120},
        )["token"]
        response = requests.get(
            f"{self.url}/services/dask-gateway/api/v1/clusters/?status=pending,running",
            headers={"Authorization": f"jupyterhub {token}"},
            timeout=30,
        )
        response.raise_for_status()
        return sorted(response.json())
