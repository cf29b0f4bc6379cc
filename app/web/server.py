"""Run an ASGI app with uvicorn on a background thread, on a port the OS picks.

The swarm (in `swarm demo` and the tests), the GitHub simulator and the scripted model server
all stand up this way. The socket is bound when the object is made, so the URL is known before
the app starts (the simulator puts it in every `clone_url`).
"""

from __future__ import annotations

import socket
import threading
from typing import Any, Literal

import uvicorn

STARTUP_TIMEOUT_S = 120.0
SHUTDOWN_TIMEOUT_S = 30.0


class _Server(uvicorn.Server):
    """uvicorn's server, telling us when its startup (lifespan included) is done."""

    def __init__(self, config: uvicorn.Config, ready: threading.Event) -> None:
        super().__init__(config)
        self._ready = ready

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        self._ready.set()


class ThreadServer:
    def __init__(
        self,
        app: Any,
        host: str = "127.0.0.1",
        port: int = 0,
        name: str = "",
        lifespan: Literal["on", "off"] = "on",
    ) -> None:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self._socket = socket.socket(family, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind((host, port))
        self.host = host
        self.port: int = self._socket.getsockname()[1]
        self._ready = threading.Event()
        self._errors: list[BaseException] = []
        config = uvicorn.Config(
            app, log_level="warning", access_log=False, lifespan=lifespan,
            timeout_graceful_shutdown=5,
        )  # fmt: skip
        self.server = _Server(config, self._ready)
        self._thread = threading.Thread(
            target=self._run, name=name or f"uvicorn:{self.port}", daemon=True
        )

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def _run(self) -> None:
        try:
            self.server.run(sockets=[self._socket])
        except BaseException as exc:  # surfaced by start()
            self._errors.append(exc)
        finally:
            self._ready.set()

    def start(self) -> ThreadServer:
        """Serve, and return once the app accepts connections (or raise what stopped it)."""
        self._thread.start()
        self._ready.wait(STARTUP_TIMEOUT_S)
        if self._errors or not self.server.started:
            self.stop()
            raise RuntimeError(f"server on {self.url} did not start: {self._errors or 'timeout'}")
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        if self._thread.is_alive():
            self._thread.join(SHUTDOWN_TIMEOUT_S)
        self._socket.close()


def serve_in_thread(app: Any, host: str = "127.0.0.1", port: int = 0) -> ThreadServer:
    return ThreadServer(app, host, port).start()
