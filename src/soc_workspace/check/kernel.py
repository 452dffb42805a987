"""Run code in a user's kernel through the hub, with an API token (no browser, no cookies).

The hub's proxy routes ``/user/<name>/`` to the user's Jupyter server, which accepts a hub
token with ``access:servers`` on that server for its REST API and kernel websockets. Works
the same on one machine and on Kubernetes.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import requests


def call(module: str, function: str, *args: Any) -> str:
    """Kernel code that calls ``module.function(*args)`` (arguments as Python literals)."""
    arguments = ", ".join(repr(a) for a in args)
    return f"from {module} import {function}\n{function}({arguments})\n"


class KernelError(RuntimeError):
    """Code failed in the kernel, or did not finish in time; the message says which."""


@dataclass
class Kernel:
    """A kernel of a user's server, reached at ``server_url`` with ``token``."""

    server_url: str
    token: str
    id: str

    @classmethod
    def start(
        cls, hub_url: str, user: str, token: str, *, name: str = "python3", timeout: float = 60.0
    ) -> Kernel:
        server_url = f"{hub_url.rstrip('/')}/user/{quote(user)}"
        response = requests.post(
            f"{server_url}/api/kernels",
            json={"name": name},
            headers={"Authorization": f"token {token}"},
            timeout=timeout,
        )
        if response.status_code != 201:
            raise KernelError(
                f"starting a kernel in {server_url} answered HTTP {response.status_code}: "
                f"{response.text[:300]}"
            )
        return cls(server_url, token, response.json()["id"])

    def run(self, code: str, *, timeout: float) -> str:
        """Execute ``code``; return what it printed. Raises :class:`KernelError` with the
        kernel's error, or after ``timeout`` seconds (the kernel is then interrupted)."""
        try:
            return asyncio.run(asyncio.wait_for(self._run(code), timeout))
        except TimeoutError:
            self.interrupt()
            raise KernelError(f"did not finish within {timeout:.0f} s") from None

    def shutdown(self) -> None:
        requests.delete(
            f"{self.server_url}/api/kernels/{self.id}",
            headers={"Authorization": f"token {self.token}"},
            timeout=30,
        )

    def interrupt(self) -> None:
        requests.post(
            f"{self.server_url}/api/kernels/{self.id}/interrupt",
            headers={"Authorization": f"token {self.token}"},
            timeout=30,
        )

    async def _run(self, code: str) -> str:
        from jupyter_client.jsonutil import json_default
        from jupyter_client.session import Session
        from tornado.httpclient import HTTPRequest
        from tornado.websocket import websocket_connect

        url = self.server_url.replace("http", "ws", 1) + f"/api/kernels/{self.id}/channels"
        request = HTTPRequest(url, headers={"Authorization": f"token {self.token}"})
        socket = await websocket_connect(request)
        content = {"code": code, "silent": False, "store_history": False, "allow_stdin": False}
        message = Session(username="soc-workspace-check").msg("execute_request", content)
        message["channel"] = "shell"
        msg_id = message["header"]["msg_id"]
        socket.write_message(json.dumps(message, default=json_default))
        stdout, error = [], None
        idle = replied = False
        try:
            while not (idle and replied):
                raw = await socket.read_message()
                if raw is None:
                    raise KernelError("the kernel's connection closed")
                message = json.loads(raw)
                if message.get("parent_header", {}).get("msg_id") != msg_id:
                    continue
                kind, content = message["msg_type"], message["content"]
                if kind == "stream" and content["name"] == "stdout":
                    stdout.append(content["text"])
                elif kind == "error":
                    error = f"{content['ename']}: {content['evalue']}"
                elif kind == "status" and content["execution_state"] == "idle":
                    idle = True
                elif kind == "execute_reply":
                    replied = True
        finally:
            socket.close()
        if error:
            raise KernelError(error)
        return "".join(stdout)
