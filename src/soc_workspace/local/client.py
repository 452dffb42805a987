"""Talk to a running workspace as a person's browser does, or as an operator's tool.

:class:`BrowserSession` signs up, logs in (form, cookies, ``_xsrf``), starts the user's
server, opens JupyterLab and runs code in a kernel through the Jupyter REST and websocket
APIs. :class:`HubAPI` uses the hub's REST API with a token (connection.json's admin token).
Tests, the benchmark and operators' scripts use them.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlsplit

import requests

_XSRF_FIELD = re.compile(r'name="_xsrf"\s+value="([^"]+)"')


class HubError(RuntimeError):
    """The hub or a user's server refused or failed a request; the message says which."""


@dataclass
class KernelResult:
    """What running code in a kernel produced."""

    status: str
    stdout: str = ""
    stderr: str = ""
    result: str | None = None
    error: str | None = None
    outputs: list[dict[str, Any]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.status == "ok"


class BrowserSession:
    """One person in a browser: cookies, forms with ``_xsrf``, redirects."""

    def __init__(self, hub_url: str, *, timeout: float = 30.0) -> None:
        self.hub_url = hub_url.rstrip("/")
        self.timeout = timeout
        self.http = requests.Session()
        self.username: str | None = None

    # -- hub pages ----------------------------------------------------------------------------

    def signup(self, username: str, password: str) -> None:
        """Sign up on the native authenticator's page (an admin must then approve)."""
        page = self._form_page("/hub/signup")
        response = self.http.post(
            self.hub_url + "/hub/signup",
            data={
                "_xsrf": page,
                "username": username,
                "signup_password": password,
                "signup_password_confirmation": password,
            },
            timeout=self.timeout,
        )
        response.raise_for_status()
        if "alert-success" not in response.text and "alert-info" not in response.text:
            # The page puts the reason in a <p> inside the alert.
            message = re.search(r'class="alert[^"]*"[^>]*>\s*(?:<p>\s*)?([^<]+)', response.text)
            raise HubError(
                f"sign-up of {username!r} was refused: "
                f"{message.group(1).strip() if message else 'no reason given'}"
            )

    def login(self, username: str, password: str, *, page: str = "/hub/login") -> None:
        """Log in through the login form (or another, e.g. ``/hub/workshop-login``); raises
        :class:`HubError` when refused."""
        xsrf = self._form_page(page)
        response = self.http.post(
            self.hub_url + page,
            data={"_xsrf": xsrf, "username": username, "password": password},
            allow_redirects=False,
            timeout=self.timeout,
        )
        if response.status_code != 302 or "/hub/login" in response.headers.get("Location", ""):
            raise HubError(f"login of {username!r} refused (HTTP {response.status_code})")
        self.username = username

    def approve(self, username: str) -> None:
        """As an admin: authorize a signed-up account (nativeauthenticator's toggle link)."""
        for _ in range(2):
            state = self._authorization(username)
            if state == "authorized":
                return
            self.http.get(
                f"{self.hub_url}/hub/authorize/{quote(username)}", timeout=self.timeout
            ).raise_for_status()
        if self._authorization(username) != "authorized":
            raise HubError(f"could not authorize {username!r}")

    def _authorization(self, username: str) -> str:
        page = self.http.get(self.hub_url + "/hub/authorize", timeout=self.timeout)
        if page.status_code != 200:
            raise HubError(f"/hub/authorize answered HTTP {page.status_code}: are you an admin?")
        link = re.search(
            rf'authorize/{re.escape(username)}"[^>]*>\s*(Authorize|Unauthorize)\s*<', page.text
        )
        if link is None:
            raise HubError(f"{username!r} has not signed up")
        return "authorized" if link.group(1) == "Unauthorize" else "waiting"

    def _form_page(self, path: str) -> str:
        page = self.http.get(self.hub_url + path, timeout=self.timeout)
        page.raise_for_status()
        found = _XSRF_FIELD.search(page.text)
        if found is None:
            raise HubError(f"{path} has no _xsrf field: is {self.hub_url} a soc-workspace hub?")
        return found.group(1)

    def _xsrf_header(self) -> dict[str, str]:
        token = self.http.cookies.get("_xsrf", path="/hub/") or self.http.cookies.get("_xsrf")
        return {"X-XSRFToken": token} if token else {}

    # -- the user's server --------------------------------------------------------------------

    @property
    def server_url(self) -> str:
        if not self.username:
            raise HubError("log in first")
        return f"{self.hub_url}/user/{quote(self.username)}"

    def start_server(self, *, timeout: float = 120.0) -> float:
        """Start the user's server as the hub's "Start" button does; wait until it is ready.

        Returns the seconds it took.
        """
        started = time.monotonic()
        self._forget_server_cookies()
        self.http.get(self.hub_url + "/hub/spawn", timeout=self.timeout)
        while time.monotonic() - started < timeout:
            model = self.hub_api_get(f"/users/{quote(self.username or '')}")
            server = model.get("servers", {}).get("")
            if server and server.get("ready"):
                return time.monotonic() - started
            if not server and not model.get("pending"):
                raise HubError(f"the server of {self.username!r} failed to start")
            time.sleep(0.5)
        raise HubError(f"the server of {self.username!r} was not ready after {timeout:.0f} s")

    def spawn(self, *, timeout: float = 600.0) -> float:
        """Start the user's server as a browser does: the hub's "Start" page, then its progress
        events until the server is ready. Returns the seconds it took; raises
        :class:`HubError` with the hub's message when the start failed."""
        started = time.monotonic()
        self._forget_server_cookies()
        self.http.get(self.hub_url + "/hub/spawn", timeout=self.timeout)
        url = f"{self.hub_url}/hub/api/users/{quote(self.username or '')}/server/progress"
        last = ""
        with self.http.get(
            url, headers=self._xsrf_header(), stream=True, timeout=(self.timeout, timeout)
        ) as events:
            if events.status_code != 200:
                raise HubError(f"the server's progress answered HTTP {events.status_code}")
            for line in events.iter_lines(decode_unicode=True):
                if not line or not line.startswith("data:"):
                    continue
                event = json.loads(line[5:])
                last = event.get("message", last)
                if event.get("ready"):
                    return time.monotonic() - started
                if event.get("failed"):
                    raise HubError(f"the server of {self.username!r} failed to start: {last}")
                if time.monotonic() - started > timeout:
                    break
        # The stream ends without a word when the server was already running.
        if self.hub_api_get(f"/users/{quote(self.username or '')}").get("servers", {}).get(""):
            return time.monotonic() - started
        raise HubError(f"the server of {self.username!r} did not start ({last or 'no message'})")

    def _forget_server_cookies(self) -> None:
        # A new server does not know the cookies of the previous one (as a browser finds
        # out through a redirect to log in again).
        prefix = urlsplit(self.server_url).path
        for cookie in list(self.http.cookies):
            if cookie.path and cookie.path.startswith(prefix):
                self.http.cookies.clear(cookie.domain, cookie.path, cookie.name)

    def stop_server(self, *, timeout: float = 60.0) -> None:
        response = self.http.delete(
            f"{self.hub_url}/hub/api/users/{quote(self.username or '')}/server",
            headers=self._xsrf_header(),
            timeout=self.timeout,
        )
        if response.status_code not in (202, 204):
            raise HubError(f"stopping the server answered HTTP {response.status_code}")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.hub_api_get(f"/users/{quote(self.username or '')}").get("servers"):
                return
            time.sleep(0.25)
        raise HubError(f"the server of {self.username!r} did not stop in {timeout:.0f} s")

    def hub_api_get(self, path: str) -> Any:
        response = self.http.get(
            self.hub_url + "/hub/api" + path, headers=self._xsrf_header(), timeout=self.timeout
        )
        if response.status_code != 200:
            raise HubError(f"GET /hub/api{path} answered HTTP {response.status_code}")
        return response.json()

    def open_lab(self, user: str | None = None) -> requests.Response:
        """GET JupyterLab (through the hub's OAuth redirects) and return the final page."""
        url = f"{self.hub_url}/user/{quote(user or self.username or '')}/lab"
        return self.http.get(url, timeout=self.timeout)

    @staticmethod
    def is_jupyterlab(page: requests.Response) -> bool:
        """True when a page is JupyterLab's application page."""
        return page.status_code == 200 and '"appName": "JupyterLab"' in page.text.replace(
            '":"', '": "'
        )

    def server_api(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        """A request to the user's Jupyter server REST API, with the browser's cookies."""
        headers = {**kwargs.pop("headers", {}), **self._server_xsrf()}
        return self.http.request(
            method, self.server_url + path, headers=headers, timeout=self.timeout, **kwargs
        )

    def _server_xsrf(self) -> dict[str, str]:
        # The user's server sets its own _xsrf cookie under /user/<name>/ when JupyterLab is
        # first opened (after the hub's OAuth redirects), as in a browser.
        prefix = urlsplit(self.server_url).path
        for _ in range(2):
            for cookie in self.http.cookies:
                if cookie.name == "_xsrf" and cookie.path and cookie.path.startswith(prefix):
                    return {"X-XSRFToken": cookie.value}
            self.open_lab()
        raise HubError(f"{self.server_url} set no _xsrf cookie: is the server running?")

    # -- kernels ------------------------------------------------------------------------------

    def start_kernel(self, name: str = "python3") -> str:
        response = self.server_api("POST", "/api/kernels", json={"name": name})
        if response.status_code != 201:
            raise HubError(
                f"starting a kernel answered HTTP {response.status_code}: {response.text}"
            )
        return response.json()["id"]

    def delete_kernel(self, kernel_id: str) -> None:
        self.server_api("DELETE", f"/api/kernels/{kernel_id}")

    def run_code(self, kernel_id: str, code: str, *, timeout: float = 120.0) -> KernelResult:
        """Execute ``code`` in a kernel over its websocket; collect its outputs."""
        import websocket

        url = self.server_url.replace("http", "ws", 1) + f"/api/kernels/{kernel_id}/channels"
        cookies = "; ".join(f"{c.name}={c.value}" for c in self.http.cookies)
        socket = websocket.create_connection(
            url,
            cookie=cookies,
            origin=self.hub_url,
            timeout=timeout,
        )
        msg_id = uuid.uuid4().hex
        socket.send(json.dumps(_execute_request(msg_id, code)))
        result = KernelResult(status="")
        deadline = time.monotonic() + timeout
        idle = reply = False
        try:
            while not (idle and reply):
                if time.monotonic() > deadline:
                    raise HubError(f"code did not finish within {timeout:.0f} s")
                message = json.loads(socket.recv())
                if message.get("parent_header", {}).get("msg_id") != msg_id:
                    continue
                kind, content = message["msg_type"], message["content"]
                if kind == "stream":
                    if content["name"] == "stdout":
                        result.stdout += content["text"]
                    else:
                        result.stderr += content["text"]
                elif kind in ("execute_result", "display_data"):
                    result.outputs.append(content)
                    if kind == "execute_result":
                        result.result = content["data"].get("text/plain")
                elif kind == "error":
                    result.error = f"{content['ename']}: {content['evalue']}"
                elif kind == "status" and content["execution_state"] == "idle":
                    idle = True
                elif kind == "execute_reply":
                    result.status = content["status"]
                    reply = True
        finally:
            socket.close()
        return result


def _execute_request(msg_id: str, code: str) -> dict[str, Any]:
    return {
        "header": {
            "msg_id": msg_id,
            "username": "soc-workspace",
            "session": uuid.uuid4().hex,
            "msg_type": "execute_request",
            "version": "5.3",
        },
        "parent_header": {},
        "metadata": {},
        "channel": "shell",
        "content": {
            "code": code,
            "silent": False,
            "store_history": False,
            "user_expressions": {},
            "allow_stdin": False,
            "stop_on_error": True,
        },
        "buffers": [],
    }


class HubAPI:
    """The hub's REST API with a token (e.g. ``Connection.api_token``)."""

    def __init__(self, api_url: str, token: str, *, timeout: float = 30.0) -> None:
        self.api_url = api_url.rstrip("/")
        self.http = requests.Session()
        self.http.headers["Authorization"] = f"token {token}"
        self.timeout = timeout

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self.http.request(method, self.api_url + path, timeout=self.timeout, **kwargs)
        if response.status_code >= 400:
            raise HubError(
                f"{method} {path} answered HTTP {response.status_code}: {response.text[:300]}"
            )
        return response.json() if response.content else None

    def create_group(self, name: str, users: list[str] | None = None) -> None:
        existing = {g["name"] for g in self.request("GET", "/groups")}
        if name not in existing:
            self.request("POST", f"/groups/{quote(name)}")
        if users:
            self.request("POST", f"/groups/{quote(name)}/users", json={"users": users})

    def user(self, name: str) -> dict[str, Any]:
        return self.request("GET", f"/users/{quote(name)}")

    def new_token(self, user: str, scopes: list[str] | None = None) -> str:
        body: dict[str, Any] = {"note": "soc-workspace client"}
        if scopes is not None:
            body["scopes"] = scopes
        return self.request("POST", f"/users/{quote(user)}/tokens", json=body)["token"]

    # -- users' servers ---------------------------------------------------------------------

    def server(self, user: str) -> dict[str, Any] | None:
        """The model of ``user``'s default server, None when it does not run."""
        return self.user(user).get("servers", {}).get("")

    def wait(self, what: str, done: Callable[[], bool], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not done():
            if time.monotonic() > deadline:
                raise HubError(f"{what} took more than {timeout:.0f} s")
            time.sleep(0.5)

    def start_server(self, user: str, *, timeout: float = 300.0) -> None:
        """Start ``user``'s server (default profile or their workshop's) and wait until ready."""
        if (self.server(user) or {}).get("ready"):
            return
        self.request("POST", f"/users/{quote(user)}/server", json={})

        def ready() -> bool:
            model = self.user(user)
            server = model.get("servers", {}).get("")
            if not server and not model.get("pending"):
                raise HubError(f"the server of {user} failed to start (see the hub's log)")
            return bool((server or {}).get("ready"))

        self.wait(f"the start of {user}'s server", ready, timeout)

    def stop_server(self, user: str, *, timeout: float = 120.0) -> bool:
        """Stop ``user``'s server (their Dask clusters stop with it); False if none ran."""
        if self.server(user) is None:
            return False
        self.request("DELETE", f"/users/{quote(user)}/server")
        self.wait(f"the stop of {user}'s server", lambda: self.server(user) is None, timeout)
        return True

    def server_token(self, user: str, *, expires_in: int = 3600) -> str:
        """A token that reaches ``user``'s server (its REST API, files and kernels) only."""
        return self.request(
            "POST",
            f"/users/{quote(user)}/tokens",
            json={
                "scopes": [f"access:servers!server={user}/"],
                "expires_in": expires_in,
                "note": "soc-workspace: workshop or check",
            },
        )["token"]
