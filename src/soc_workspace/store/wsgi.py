"""A step the embedded store's WSGI layers share: act once a request has succeeded."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def run_then(
    app: Any, environ: dict[str, Any], start_response: Any, on_success: Callable[[], None]
) -> list[bytes]:
    """Run ``app`` on the request to the end; if it answered 2xx, call ``on_success`` before
    the answer leaves (so what the client is told has happened is also done, e.g. on disk)."""
    status: dict[str, int] = {}

    def capture(status_line: str, headers: Any, exc_info: Any = None) -> Any:
        status["code"] = int(status_line.split()[0])
        return start_response(status_line, headers, exc_info)

    body = list(app(environ, capture))
    if 200 <= status.get("code", 500) < 300:
        on_success()
    return body
