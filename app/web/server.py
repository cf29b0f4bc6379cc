"""Run an ASGI app with uvicorn on a background thread, on a port the OS picks.

Used by `swarm demo` and the tests to stand up the swarm beside the simulator in one process.
"""

from __future__ import annotations

import socket
import threading
from dataclasses import dataclass, field
from typing import Any

import uvicorn


@dataclass
class RunningServer:
    server: uvicorn.Server
    thread: threading.Thread
    host: str
    port: int
    errors: list[BaseException] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def stop(self, timeout: float = 30) -> None:
        self.server.should_exit = True
        self.thread.join(timeout)


def serve_in_thread(app: Any, host: str = "127.0.0.1", port: int = 0) -> RunningServer:
    """Start `app` and return once it accepts connections (or raise what stopped it)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    config = uvicorn.Config(app, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    started = threading.Event()
    running = RunningServer(server, threading.Thread(), host, sock.getsockname()[1])

    def run() -> None:
        try:
            server.run(sockets=[sock])
        except BaseException as exc:  # surfaced to the caller below
            running.errors.append(exc)
        finally:
            started.set()

    # uvicorn sets `started` once the lifespan has run and the socket listens.
    original_startup = server.startup

    async def startup(sockets: list[socket.socket] | None = None) -> None:
        await original_startup(sockets)
        started.set()

    server.startup = startup  # type: ignore[method-assign]
    running.thread = threading.Thread(target=run, name=f"uvicorn:{running.port}", daemon=True)
    running.thread.start()
    started.wait(120)
    if running.errors or not server.started:
        running.stop()
        raise RuntimeError(f"server did not start: {running.errors or 'lifespan failed'}")
    return running
