"""The gateway's front door on one machine: Dask dashboards only for the cluster's owner.

dask-gateway serves every cluster's dashboard at ``/services/dask-gateway/clusters/<name>/``
to anyone who has the URL (dask/dask-gateway#570). On one machine the hub runs this front as
the ``dask-gateway`` service instead; it starts dask-gateway-server as its child on an
internal port and forwards to it:

- ``.../api/...`` (and anything else) unchanged: the gateway checks users' tokens itself;
- ``.../clusters/<name>/...`` (dashboards, HTTP and websockets) after the hub has said who the
  browser's user is (OAuth, as any hub service) and the gateway has said the cluster is theirs.

Run by the hub: ``python -m soc_workspace.local.gateway_front BACKEND_URL LISTEN_PORT PIDFILE
-- GATEWAY COMMAND...``.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import signal
import subprocess
import sys
from pathlib import Path

from jupyterhub.services.auth import HubOAuthCallbackHandler, HubOAuthenticated
from tornado import httpclient, web, websocket
from tornado.httputil import HTTPHeaders

_HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailers",
    "transfer-encoding",
    "upgrade",
    "content-length",
    "host",
}


def _forward_headers(headers: HTTPHeaders) -> dict[str, str]:
    return {k: v for k, v in headers.get_all() if k.lower() not in _HOP_BY_HOP}


class _Forwarding(web.RequestHandler):
    @property
    def backend(self) -> str:
        return self.settings["backend_url"]

    async def forward(self) -> None:
        request = httpclient.HTTPRequest(
            self.backend + self.request.uri,
            method=self.request.method,
            headers=_forward_headers(self.request.headers),
            body=self.request.body if self.request.method in ("POST", "PUT", "PATCH") else None,
            allow_nonstandard_methods=True,
            follow_redirects=False,
            decompress_response=False,
            request_timeout=300,
        )
        response = await httpclient.AsyncHTTPClient().fetch(request, raise_error=False)
        if response.code == 599:
            raise web.HTTPError(502, f"dask-gateway does not answer: {response.error}")
        self.set_status(response.code, response.reason)
        for name, value in response.headers.get_all():
            if name.lower() == "set-cookie":
                self.add_header(name, value)
            elif name.lower() not in _HOP_BY_HOP:
                self.set_header(name, value)
        if response.body:
            self.write(response.body)

    def check_xsrf_cookie(self) -> None:  # API clients send tokens, not cookies
        pass


class PassThrough(_Forwarding):
    """The gateway's API and anything but dashboards: the gateway authenticates these."""

    async def get(self, *args: str) -> None:
        await self.forward()

    post = put = patch = delete = head = options = get


class Dashboard(HubOAuthenticated, websocket.WebSocketHandler, _Forwarding):
    """A cluster's dashboard (pages and websockets), for the cluster's owner only."""

    upstream: websocket.WebSocketClientConnection | None = None

    async def get(self, name: str, path: str) -> None:
        user = self.current_user
        if user is None:
            if self.request.headers.get("Upgrade", "").lower() == "websocket":
                raise web.HTTPError(403, "log in to the hub first")
            self.redirect(self.get_login_url())
            return
        await self.check_owner(name)
        if self.request.headers.get("Upgrade", "").lower() == "websocket":
            await super().get(name, path)
        else:
            await self.forward()

    async def check_owner(self, name: str) -> None:
        token = self.hub_auth.get_token(self)
        response = await httpclient.AsyncHTTPClient().fetch(
            f"{self.backend}{self.settings['prefix']}api/v1/clusters/{name}",
            headers={"Authorization": f"jupyterhub {token}"},
            raise_error=False,
        )
        if response.code != 200:
            # The gateway answers 404 for other users' clusters too: say nothing more.
            raise web.HTTPError(404, f"no Dask cluster {name} of yours")

    async def open(self, name: str, path: str) -> None:
        url = "ws" + self.backend[len("http") :] + self.request.uri
        self.upstream = await websocket.websocket_connect(
            url, on_message_callback=self._from_upstream
        )

    def _from_upstream(self, message: str | bytes | None) -> None:
        if message is None:
            self.close()
        else:
            self.write_message(message, binary=isinstance(message, bytes))

    async def on_message(self, message: str | bytes) -> None:
        if self.upstream is not None:
            await self.upstream.write_message(message, binary=isinstance(message, bytes))

    def on_close(self) -> None:
        if self.upstream is not None:
            self.upstream.close()

    def check_origin(self, origin: str) -> bool:
        return True  # the hub's OAuth cookie, not the origin, decides

    def check_xsrf_cookie(self) -> None:
        pass


def make_app(backend_url: str, prefix: str) -> web.Application:
    prefix = prefix.rstrip("/") + "/"
    return web.Application(
        [
            (prefix + "oauth_callback", HubOAuthCallbackHandler),
            (prefix + r"clusters/([^/]+)/?(.*)", Dashboard),
            (r"(.*)", PassThrough),
        ],
        backend_url=backend_url.rstrip("/"),
        prefix=prefix,
        cookie_secret=secrets.token_bytes(32),
    )


def _stop_leftover(pid_file: Path) -> None:
    # A gateway left by a front that was killed holds the internal port.
    from .processes import read_pid, terminate

    pid = read_pid(pid_file)
    if pid is not None and Path(f"/proc/{pid}").exists():
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        if b"dask_gateway_server" in cmdline:
            terminate([pid], timeout=10)


async def serve(backend_url: str, port: int, pid_file: Path, command: list[str]) -> int:
    _stop_leftover(pid_file)
    gateway = subprocess.Popen(command, start_new_session=False)
    pid_file.write_text(f"{gateway.pid}\n")
    app = make_app(backend_url, os.environ.get("JUPYTERHUB_SERVICE_PREFIX", "/"))
    server = app.listen(port, address="127.0.0.1")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    while not stop.is_set() and gateway.poll() is None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=1)
    server.stop()
    if gateway.poll() is None:
        gateway.terminate()
        try:
            gateway.wait(timeout=30)
        except subprocess.TimeoutExpired:
            gateway.kill()
    pid_file.unlink(missing_ok=True)
    # The hub restarts a managed service that exits: exit like the gateway did.
    return gateway.returncode or 0


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    split = args.index("--")
    backend_url, port, pid_file = args[:split]
    return asyncio.run(serve(backend_url, int(port), Path(pid_file), args[split + 1 :]))


if __name__ == "__main__":
    sys.exit(main())
