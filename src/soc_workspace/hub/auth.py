"""How people log in: native accounts approved by an admin, or one shared password (workshops)."""

from __future__ import annotations

from typing import Any

from jupyterhub.authenticators.shared import SharedPasswordAuthenticator
from nativeauthenticator import NativeAuthenticator
from nativeauthenticator import handlers as native_handlers
from tornado.escape import url_escape
from tornado.httputil import url_concat
from traitlets import Callable, Unicode, default
from traitlets.config import Config, Configurable

from ..config import Settings
from .workshops import WorkshopLogins

# User names that are also valid system user names (multi-user mode makes one per hub user)
# and Kubernetes-friendly: lower-case letters, digits, "-" and "_", starting with a letter.
USERNAME_PATTERN = r"^[a-z][a-z0-9_-]{0,31}$"

USERNAME_MAX_LENGTH = 32
_USERNAME_CHARACTERS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789_-")

# SharedPasswordAuthenticator refuses admin passwords shorter than this.
ADMIN_PASSWORD_LENGTH = 32


def username_problem(username: str) -> str | None:
    """What is wrong with a (normalized) user name, in a sentence; None when it is fine."""
    if not username:
        return "a user name is needed"
    if len(username) > USERNAME_MAX_LENGTH:
        return f"the name has {len(username)} characters; at most {USERNAME_MAX_LENGTH} are allowed"
    if not username[0].isascii() or not username[0].islower():
        return "the name must start with a lower-case letter a-z"
    wrong = sorted(set(username) - _USERNAME_CHARACTERS)
    if wrong:
        shown = " ".join(repr(c) for c in wrong[:5])
        return (
            f"the name may contain only lower-case letters a-z, digits, '-' and '_' (not {shown})"
        )
    return None


class UsernameRules(Configurable):
    """Mix into an authenticator: user names the workspace can use, refused with a reason.

    On one machine in multi-user mode every hub user gets a system account, so names of
    existing system users and groups are refused too (``name_check``).
    """

    name_check = Callable(
        None,
        allow_none=True,
        config=True,
        help="A function of a user name that returns why it cannot be used, or None.",
    )

    def username_problem(self, username: str) -> str | None:
        problem = username_problem(username)
        if problem is None and self.name_check is not None:
            problem = self.name_check(username)
        return problem

    def validate_username(self, username: str) -> bool:
        problem = self.username_problem(username)
        if problem is not None:
            self.log.warning("Refused user name %r: %s", username, problem)  # type: ignore[attr-defined]
            return False
        return super().validate_username(username)  # type: ignore[misc]


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
    c.JupyterHub.authenticator_class = WorkspaceSharedPasswordAuthenticator
    c.SharedPasswordAuthenticator.user_password = password
    if admin_password:
        if len(admin_password) < ADMIN_PASSWORD_LENGTH:
            raise ValueError(
                f"the admin password of a shared-password hub needs {ADMIN_PASSWORD_LENGTH} "
                f"characters or more, not {len(admin_password)}"
            )
        c.SharedPasswordAuthenticator.admin_password = admin_password


class WorkspaceSharedPasswordAuthenticator(
    WorkshopLogins, UsernameRules, SharedPasswordAuthenticator
):
    """JupyterHub's shared-password authenticator with the workspace's user-name rules and
    workshop participants' logins."""


class WorkspaceNativeAuthenticator(WorkshopLogins, UsernameRules, NativeAuthenticator):
    """NativeAuthenticator that creates the admin accounts with a known password at start.

    Without this the first person to sign up under the admin's name would own the hub.
    Workshop participants log in with their workshop password (:class:`WorkshopLogins`).
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
        ours = {
            native_handlers.LoginHandler: _LoginHandler,
            native_handlers.SignUpHandler: _SignUpHandler,
        }
        return [(path, ours.get(handler, handler)) for path, handler in super().get_handlers(app)]

    def signup_problem(self, username: str, password: str) -> str:
        """Why a sign-up was refused, in a sentence that says what to change."""
        problem = self.username_problem(self.normalize_username(username))
        if problem:
            return f"Choose another user name: {problem}."
        if len(password) < self.minimum_password_length:
            return (
                f"Choose a longer password: it has {len(password)} characters, at least "
                f"{self.minimum_password_length} are needed."
            )
        if self.check_common_password and self.is_password_common(password):
            return "Choose another password: this one is on the list of common passwords."
        return "The sign-up was refused; ask an administrator to look at the hub's log."

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


class _SignUpHandler(native_handlers.SignUpHandler):
    """nativeauthenticator's sign-up page, saying exactly why a sign-up was refused.

    Its own message blames "spaces, commas or slashes" whatever the reason was.
    """

    def get_result_message(
        self,
        user: Any,
        assume_user_is_human: bool,
        username_already_taken: bool,
        confirmation_matches: bool,
        user_is_admin: bool,
    ) -> tuple[str, str]:
        alert, message = super().get_result_message(
            user, assume_user_is_human, username_already_taken, confirmation_matches, user_is_admin
        )
        if (
            not user
            and assume_user_is_human
            and confirmation_matches
            and not username_already_taken
        ):
            message = self.authenticator.signup_problem(
                self.get_body_argument("username", "", strip=False),
                self.get_body_argument("signup_password", "", strip=False),
            )
        return alert, message
