"""No test reaches the network by accident: a socket may connect to this machine only.

Everything a test talks to — the simulator, the scripted model server, the swarm, PostgreSQL —
listens on a loopback address; a connection anywhere else (a forgotten default API URL, a real
provider) fails at once with a clear error instead of a timeout or, worse, a real request.
"""

from __future__ import annotations

import ipaddress
import socket
from typing import Any


class NetworkRefused(OSError):
    """A test tried to connect beyond this machine."""


def _is_local(address: Any) -> bool:
    if not isinstance(address, tuple):  # AF_UNIX paths and the like
        return True
    host = str(address[0])
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:
        return False  # a name: resolving it is already a request to the outside


def _check(sock: socket.socket, address: Any) -> None:
    if sock.family in (socket.AF_INET, socket.AF_INET6) and not _is_local(address):
        raise NetworkRefused(f"tests may only connect to this machine, not to {address!r}")


_connect = socket.socket.connect
_connect_ex = socket.socket.connect_ex


def _guarded_connect(self: socket.socket, address: Any) -> None:
    _check(self, address)
    _connect(self, address)


def _guarded_connect_ex(self: socket.socket, address: Any) -> int:
    _check(self, address)
    return _connect_ex(self, address)


def install() -> None:
    socket.socket.connect = _guarded_connect  # type: ignore[method-assign,assignment]
    socket.socket.connect_ex = _guarded_connect_ex  # type: ignore[method-assign,assignment]
