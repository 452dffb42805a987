"""How people log in: native accounts approved by an admin, or one shared password (workshops)."""

from __future__ import annotations

from typing import Any

from nativeauthenticator import NativeAuthenticator
from nativeauthenticator import handlers as native_handlers
from tornado.escape import url_escape
from tornado.httputil import url_concat
from traitlets import Unicode, default
from traitlets.config import Config

from ..config import Settings

# User names that are also valid system user names (multi-user mode makes one per hub user)
# and Kubernetes-friendly: lower-case letters, digits, "-" and "_", starting with a letter.
USERNAME_PATTERN = r"^[a-z][a-z0-9_-]{0,31}$"

# SharedPasswordAuthenticator refuses admin passwords shorter than this.
ADMIN_PASSWORD_LENGTH = 32


def configure_authenticator(
    c: Config,
    settings: Settings,
    *,
    admin_password: str | None = None,
    user_password: str | None = None,
) -> None:
    """Choose the authenticator from ``hub.authenticator`` and name the admin.

    Parameters
    ----------
    admin_password
        Native accounts: the password the admin account gets when it does not exist yet (it
        is created at hub start; later changes at /hub/change-password are kept).
        Shared password: the password admins log in with (32 characters or more).
    user_password
        Shared password: the workshop password (default: ``hub.shared_password``).
    """
    hub = settings.hub
    c.Authenticator.admin_users = {hub.admin_user}
    # Who may log in is decided by the account itself (approved, or knows the password).
    c.Authenticator.allow_all = True
    c.Authenticator.username_pattern = USERNAME_PATTERN
    if hub.authenticator == "native":
        c.JupyterHub.authenticator_class = WorkspaceNativeAuthenticator
        c.NativeAuthenticator.open_signup = hub.open_signup
        c.NativeAuthenticator.minimum_password_length = hub.minimum_password_length
        c.NativeAuthenticator.check_common_password = True
        if admin_password:
            c.WorkspaceNativeAuthenticator.admin_password = admin_password
        return
    password = user_password or hub.shared_password
    if not password:
        raise ValueError(
            'hub.authenticator = "shared-password" needs a password: set hub.shared_password '
            "(SOC_WORKSPACE__HUB__SHARED_PASSWORD), 8 characters or more"
        )
    c.JupyterHub.authenticator_class = "shared-password"
    c.SharedPasswordAuthenticator.user_password = password
    if admin_password:
        if len(admin_password) < ADMIN_PASSWORD_LENGTH:
            raise ValueError(
                f"the admin password of a shared-password hub needs {ADMIN_PASSWORD_LENGTH} "
                f"characters or more, not {len(admin_password)}"
            )
        c.SharedPasswordAuthenticator.admin_password = admin_password


class WorkspaceNativeAuthenticator(NativeAuthenticator):
    """NativeAuthenticator that creates the admin accounts with a known password at start.

    Without this the first person to sign up under the admin's name would own the hub.
    """

    admin_password = Unicode(
        "",
        config=True,
        help="Password given to each of admin_users that has no account yet.",
    )

    @default("db")
    def _hub_db(self):  # type: ignore[no-untyped-def]
        # nativeauthenticator keeps its accounts in the hub's database through this session;
        # taking it directly avoids JupyterHub's deprecation warning on every start.
        return self._deprecated_db_session

    def __init__(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        if self.admin_password:
            self._create_admin_accounts()

    def get_handlers(self, app: Any) -> list[tuple[str, Any]]:
        return [
            (path, _LoginHandler if handler is native_handlers.LoginHandler else handler)
            for path, handler in super().get_handlers(app)
        ]

    def _create_admin_accounts(self) -> None:
        for name in sorted(self.admin_users):
            if self.get_user(name) is not None:
                continue
            if self.create_user(name, self.admin_password) is None:
                raise ValueError(
                    f"could not create the admin account {name!r}: its name or password is "
                    "refused (check hub.admin_user and hub.minimum_password_length)"
                )
            self.log.info("Created the admin account %s", name)


class _NullTimer:
    def start(self) -> _NullTimer:
        return self

    def stop(self, send: bool = True) -> None:
        pass


class _NullStatsd:
    def timer(self, name: str) -> _NullTimer:
        return _NullTimer()


class _LoginHandler(native_handlers.LoginHandler):
    """nativeauthenticator 1.3's login page, fixed for JupyterHub 6.

    JupyterHub 6 dropped the ``statsd`` client that the page times logins with, and renders
    errors (a stale form, say) through ``_render(sync=True, ...)``, which the page's own
    ``_render`` does not accept.
    """

    statsd = _NullStatsd()

    def _render(
        self, login_error: str | None = None, username: str | None = None, **ns: Any
    ) -> Any:
        return self.render_template(
            "native-login.html",
            sync=ns.get("sync", False),
            next=url_escape(self.get_argument("next", default="")),
            username=username,
            login_error=login_error,
            custom_html=self.authenticator.custom_html,
            login_url=self.settings["login_url"],
            enable_signup=self.authenticator.enable_signup,
            two_factor_auth=self.authenticator.allow_2fa,
            authenticator_login_url=url_concat(
                self.authenticator.login_url(self.hub.base_url),
                {"next": self.get_argument("next", "")},
            ),
        )
