"""`start_model_server(script)`: the scripted model server in a background thread."""

from __future__ import annotations

import socket
import threading
from pathlib import Path
from typing import Any

import uvicorn

from app.simulator.models.routes import create_app
from app.simulator.models.runner import ScriptRunner
from app.simulator.models.script import load_script

STARTUP_TIMEOUT = 10.0
ScriptSource = dict[str, Any] | list[Any] | Path | str


class ScriptedModelServer:
    """The server on a real socket. `url` is the root: OpenAI clients use `url + "/v1"`."""

    def __init__(self, script: ScriptSource, host: str = "127.0.0.1", port: int = 0) -> None:
        self.runner = ScriptRunner(load_script(script))
        self._host = host
        self._port = port
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self.url = ""

    def start(self) -> ScriptedModelServer:
        # Binding here, not in uvicorn, gives the real port of port=0 before anything is served.
        sock = socket.socket(socket.AF_INET6 if ":" in self._host else socket.AF_INET)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self._host, self._port))
        port = sock.getsockname()[1]
        host = f"[{self._host}]" if ":" in self._host else self._host
        self.url = f"http://{host}:{port}"
        config = uvicorn.Config(
            create_app(self.runner), log_level="warning", lifespan="off", access_log=False
        )
        server = uvicorn.Server(config)
        self._server = server
        self._thread = threading.Thread(
            target=server.run, kwargs={"sockets": [sock]}, name="scripted-model", daemon=True
        )
        self._thread.start()
        ready = threading.Event()
        # Bounded poll of uvicorn's own "started" flag; it has no callback to wait on.
        for _ in range(int(STARTUP_TIMEOUT / 0.02)):
            if server.started or not self._thread.is_alive():
                break
            ready.wait(0.02)
        if not server.started:
            self.stop()
            raise RuntimeError(f"the scripted model server did not start on {self.url}")
        return self

    def requests(self) -> list[dict[str, Any]]:
        return self.runner.requests()

    def load(self, script: ScriptSource) -> None:
        self.runner.load(load_script(script))

    def reset(self) -> None:
        self.runner.reset()

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=STARTUP_TIMEOUT)
        self._server = None
        self._thread = None

    def __enter__(self) -> ScriptedModelServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_model_server(
    script: ScriptSource, host: str = "127.0.0.1", port: int = 0
) -> ScriptedModelServer:
    return ScriptedModelServer(script, host, port).start()
