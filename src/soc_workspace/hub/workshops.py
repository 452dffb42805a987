"""Workshops inside the hub: their groups, participants' logins, and Dask limits per group.

A workshop is a hub group whose properties (set through the REST API by
``soc-workspace workshop create``) hold its record under :data:`WORKSHOP_KEY`: participants,
password hashes, end time, materials. Because the record lives in the hub's own database,
every deployment's hub reads the same thing, and nothing else has to be shared.

- :class:`WorkshopLogins` (mixed into the workspace's authenticators) lets participants log in
  with their workshop password until the workshop ends, and only with it.
- :data:`LIMITS_KEY` in any group's properties sets its members' Dask limits (the gateway
  reads them through the hub, see :mod:`soc_workspace.hub.gateway`).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import secrets
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from jupyterhub import orm
from jupyterhub.handlers.login import LoginHandler
from jupyterhub.utils import maybe_future
from tornado.escape import url_escape
from tornado.httputil import url_concat
from traitlets.config import Configurable

WORKSHOP_KEY = "soc-workspace.workshop"
"""Key of a workshop's record in its hub group's properties."""

LIMITS_KEY = "soc-workspace.gateway-limits"
"""Key of the Dask limits of a group's members in its properties (any group)."""

WORKSHOP_LOGIN_PATH = "/workshop-login"
"""Participants' login page under the hub's base URL: a password form on every hub, also one
that otherwise logs people in through OAuth."""

_ITERATIONS = 120_000  # pbkdf2-sha256: ~0.1 s per check here, done off the hub's event loop
_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i: read from a printed sheet


def workshop_record(properties: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The workshop record in a group's properties, or None for a group that is no workshop."""
    record = (properties or {}).get(WORKSHOP_KEY)
    return record if isinstance(record, dict) else None


def is_workshop_group(group: Any) -> bool:
    """True for a hub group (ORM object or API model) that holds a workshop."""
    properties = group.get("properties") if isinstance(group, Mapping) else group.properties
    return workshop_record(properties) is not None


def has_ended(record: Mapping[str, Any], now: datetime | None = None) -> bool:
    ends = record.get("ends")
    if not ends:
        return False
    return (now or datetime.now(UTC)) >= datetime.fromisoformat(ends)


# -- passwords --------------------------------------------------------------------------------


def new_password(groups: int = 3, size: int = 4) -> str:
    """A password people can copy from paper, e.g. ``k7tp-3mxa-q9zc`` (~60 bits)."""
    return "-".join("".join(secrets.choice(_ALPHABET) for _ in range(size)) for _ in range(groups))


def hash_password(password: str, *, iterations: int = _ITERATIONS) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    encode = base64.b64encode
    return f"pbkdf2_sha256${iterations}${encode(salt).decode()}${encode(digest).decode()}"


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, iterations, salt, digest = stored.split("$")
        if scheme != "pbkdf2_sha256":
            return False
        again = hashlib.pbkdf2_hmac(
            "sha256", password.encode(), base64.b64decode(salt), int(iterations)
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(again, base64.b64decode(digest))


# -- logins -----------------------------------------------------------------------------------


class _Refused:
    """A workshop account that did not give its workshop's password (never falls through)."""


REFUSED = _Refused()


class WorkshopLogins(Configurable):
    """Mix into an authenticator: workshop participants log in with their workshop password.

    - A participant of a workshop with accounts logs in with the password of the sign-in
      sheet, and with nothing else (not the hub's shared password, not a native sign-up made
      under their name), until the workshop ends.
    - In a shared-password workshop, a new name with the workshop's password becomes a
      participant (user and group membership made at that login).
    - Anyone else goes on to the authenticator's own check.

    Also serves :data:`WORKSHOP_LOGIN_PATH`, a password form for hubs whose own login page is
    an OAuth button.
    """

    async def authenticate(self, handler: Any, data: dict[str, Any]) -> Any:
        verdict = await self.workshop_login(handler, data)
        if verdict is REFUSED:
            return None
        if verdict is not None:
            return verdict
        return await maybe_future(super().authenticate(handler, data))  # type: ignore[misc]

    async def workshop_login(self, handler: Any, data: Mapping[str, Any]) -> Any:
        """``{"name": ...}`` for a participant, :data:`REFUSED`, or None (not a workshop's)."""
        if not isinstance(data, Mapping):  # an OAuth callback: nothing of ours
            return None
        name = self.normalize_username(str(data.get("username", "")))  # type: ignore[attr-defined]
        password = str(data.get("password", ""))
        if not name or not password:
            return None
        db = handler.db
        user = orm.User.find(db, name)
        if user is not None:
            records = [r for g in user.groups if (r := workshop_record(g.properties))]
            if not records:
                return None
            for record in records:
                stored = _stored_password(record, name)
                if (
                    stored
                    and not has_ended(record)
                    and await asyncio.to_thread(verify_password, password, stored)
                ):
                    return {"name": name}
            self.log.warning("Refused login of workshop participant %s", name)  # type: ignore[attr-defined]
            return REFUSED
        for group in db.query(orm.Group):
            record = workshop_record(group.properties)
            if record is None or not record.get("shared_password") or has_ended(record):
                continue
            if await asyncio.to_thread(verify_password, password, record["shared_password"]):
                problem = getattr(self, "username_problem", lambda _: None)(name)
                if problem:
                    self.log.warning("Refused workshop name %r: %s", name, problem)  # type: ignore[attr-defined]
                    return REFUSED
                joined = handler.user_from_username(name)
                group.users.append(joined.orm_user)
                db.commit()
                self.log.info("%s joined workshop %s", name, group.name)  # type: ignore[attr-defined]
                return {"name": name}
        return None

    def get_handlers(self, app: Any) -> list[tuple[str, Any]]:
        return [*super().get_handlers(app), (WORKSHOP_LOGIN_PATH, WorkshopLoginHandler)]  # type: ignore[misc]


def _stored_password(record: Mapping[str, Any], name: str) -> str | None:
    if record.get("shared_password"):
        return record["shared_password"]
    return (record.get("passwords") or {}).get(name)


class WorkshopLoginHandler(LoginHandler):
    """A user name and password form for workshop participants, whatever the hub's login."""

    def _render(self, login_error: str | None = None, username: str | None = None, **ns: Any):  # type: ignore[no-untyped-def]
        action = url_concat(
            self.hub.base_url.rstrip("/") + WORKSHOP_LOGIN_PATH,
            {"next": self.get_argument("next", "")},
        )
        return self.render_template(
            "login.html",
            next=url_escape(self.get_argument("next", default="")),
            username=username,
            login_error=login_error,
            login_url=action,
            authenticator_login_url=action,
            authenticator=self.authenticator,
            xsrf=self.xsrf_token.decode("ascii"),
            custom_html="",
            login_service=None,
            **ns,
        )

    async def get(self) -> None:
        user = self.current_user
        if user:
            self.redirect(self.get_next_url(user), permanent=False)
            return
        self.finish(await self._render(username=self.get_argument("username", default="")))

    async def post(self) -> None:
        data = {
            "username": self.get_argument("username", "", strip=True),
            "password": self.get_argument("password", "", strip=False),
        }
        verdict = await self.authenticator.workshop_login(self, data)
        if verdict is None or verdict is REFUSED:
            self.set_status(403)
            self.finish(
                await self._render(
                    login_error="Invalid workshop user name or password",
                    username=data["username"][:32],
                )
            )
            return
        user = await self.auth_to_user(verdict)
        self.set_login_cookie(user)
        self._jupyterhub_user = user
        self.log.info("Workshop participant logged in: %s", user.name)
        self.redirect(self.get_next_url(user))


def with_workshop_logins(authenticator_class: type) -> type:
    """A subclass of any JupyterHub authenticator class that also logs participants in."""
    if issubclass(authenticator_class, WorkshopLogins):
        return authenticator_class
    return type(
        f"Workshop{authenticator_class.__name__}", (WorkshopLogins, authenticator_class), {}
    )


def authenticator_class_of(value: Any) -> type | None:
    """The class ``JupyterHub.authenticator_class`` names: a class, an import string or an
    entry-point name (``github``, ``shared-password``); None for an unknown name."""
    if isinstance(value, type):
        return value
    if not isinstance(value, str) or not value:
        return None
    from importlib.metadata import entry_points

    from traitlets.utils.importstring import import_item

    # A class that cannot be imported fails here as it would in JupyterHub, naming the module.
    if "." in value:
        return import_item(value)
    for point in entry_points(group="jupyterhub.authenticators"):
        if point.name == value:
            return point.load()
    return None


def login_url(hub_url: str, username: str = "", next_path: str = "") -> str:
    """The page a participant opens: the workshop login, their name filled in."""
    query = {}
    if username:
        query["username"] = username
    if next_path:
        query["next"] = next_path
    url = hub_url.rstrip("/") + "/hub" + WORKSHOP_LOGIN_PATH
    return url_concat(url, query) if query else url


def lab_path(folder: str, notebook: str | None) -> str:
    """Where a participant lands after logging in: the first notebook of the workshop."""
    target = f"{folder}/{notebook}" if notebook else folder
    return f"/hub/user-redirect/lab/tree/{quote(target)}"


# -- limits -----------------------------------------------------------------------------------


def group_limits(groups: Iterable[Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """``{group name: limits}`` from hub group models (REST API) that set :data:`LIMITS_KEY`."""
    found = {}
    for group in groups:
        limits = (group.get("properties") or {}).get(LIMITS_KEY)
        if isinstance(limits, dict):
            found[group["name"]] = limits
    return found
