"""Who is on the other end of a loopback TCP connection (Linux).

On one machine every user reaches every loopback port, so a service that must answer only
its owner (a Dask dashboard) asks the kernel which user owns the connecting socket: the
client's end of a loopback connection is a socket of this machine, listed with its uid in
``/proc/net/tcp`` and ``/proc/net/tcp6``.
"""

from __future__ import annotations

import ipaddress
import socket
from pathlib import Path

_TABLES = (Path("/proc/net/tcp"), Path("/proc/net/tcp6"))


def _hex_address(host: str, port: int) -> tuple[str, str]:
    """``host:port`` as the kernel writes it in /proc/net/tcp{,6} (IPv4 and IPv6 forms)."""
    ip = ipaddress.ip_address(host)
    if ip.version == 4:
        v4 = ip.packed[::-1].hex().upper()
        # An IPv4 peer of an IPv6 socket is listed as ::ffff:a.b.c.d, 32-bit words in host order.
        mapped = ipaddress.IPv6Address(f"::ffff:{ip}").packed
    else:
        v4 = ""
        mapped = ip.packed
    v6 = "".join(mapped[i : i + 4][::-1].hex().upper() for i in range(0, 16, 4))
    return f"{v4}:{port:04X}", f"{v6}:{port:04X}"


def peer_uid(sock: socket.socket) -> int | None:
    """The uid owning the other end of ``sock``, a connection from this machine; else None."""
    try:
        peer_host, peer_port = sock.getpeername()[:2]
        own_host, own_port = sock.getsockname()[:2]
    except OSError:
        return None
    peer = _hex_address(peer_host, peer_port)
    own = _hex_address(own_host, own_port)
    for table in _TABLES:
        try:
            lines = table.read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            # sl local rem st tx:rx tr:when retrnsmt uid ...: the client's socket has the
            # peer's address as its local end and ours as its remote end.
            if len(fields) > 7 and fields[1] in peer and fields[2] in own:
                return int(fields[7])
    return None
