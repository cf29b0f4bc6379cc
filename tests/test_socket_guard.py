"""The guard every test runs under: loopback connections work, anything else fails at once."""

from __future__ import annotations

import socket

import pytest

from tests.socket_guard import NetworkRefused


def test_a_connection_beyond_this_machine_is_refused() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        with pytest.raises(NetworkRefused, match="only connect to this machine"):
            sock.connect(("203.0.113.7", 443))  # TEST-NET-3: would time out, not refuse
        with pytest.raises(NetworkRefused):
            sock.connect_ex(("api.openai.com", 443))


def test_loopback_connections_still_work() -> None:
    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]
        with socket.create_connection(("127.0.0.1", port), timeout=5) as client:
            accepted, _ = server.accept()
            with accepted:
                client.sendall(b"ping")
                assert accepted.recv(4) == b"ping"
