"""A Dask preload: the dashboard of a scheduler or worker answers only its own user (and root).

In multi-user mode a user's schedulers and workers run as that user and serve their dashboards
on a loopback port, which every user of the machine can reach; Dask's dashboard has no
authentication of its own (dask/dask-gateway#570). Connections from any other user are closed
before a byte is read. Root stays allowed: the gateway's proxy, which runs as root, carries
the dashboard to the user's browser after the hub has checked who they are.

Used as ``dask scheduler --preload soc_workspace.local.dashboard_guard`` (and ``dask worker``).
"""

from __future__ import annotations

import logging
import os
from typing import Any

from .peers import peer_uid

log = logging.getLogger(__name__)


def allowed_uids() -> frozenset[int]:
    return frozenset({os.getuid(), 0})


def guard(http_server: Any, allowed: frozenset[int]) -> None:
    """Close every connection to ``http_server`` (a tornado HTTPServer) from another user."""
    handle_stream = http_server.handle_stream

    def checked(stream: Any, address: Any) -> Any:
        uid = peer_uid(stream.socket)
        if uid not in allowed:
            log.warning("dashboard: refused a connection from uid %s at %s", uid, address)
            stream.close()
            return None
        return handle_stream(stream, address)

    http_server.handle_stream = checked


def dask_setup(server: Any) -> None:
    """Called by Dask on a scheduler or worker started with this preload."""
    http_server = getattr(server, "http_server", None)
    if http_server is not None:
        guard(http_server, allowed_uids())
