"""`start_model_server(script)`: the scripted model server in a background thread."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from app.simulator.models.routes import create_app
from app.simulator.models.runner import ScriptRunner
from app.simulator.models.script import load_script
from app.web.server import ThreadServer

ScriptSource = dict[str, Any] | list[Any] | Path | str


class ScriptedModelServer:
    """The server on a real socket. `url` is the root: OpenAI clients use `url + "/v1"`."""

    def __init__(self, script: ScriptSource, host: str = "127.0.0.1", port: int = 0) -> None:
        self.runner = ScriptRunner(load_script(script))
        self._host = host
        self._port = port
        self._server: ThreadServer | None = None
        self.url = ""

    def start(self) -> ScriptedModelServer:
        self._server = ThreadServer(
            create_app(self.runner), self._host, self._port, name="scripted-model", lifespan="off"
        ).start()
        self.url = self._server.url
        return self

    def requests(self) -> list[dict[str, Any]]:
        return self.runner.requests()

    def load(self, script: ScriptSource) -> None:
        self.runner.load(load_script(script))

    def reset(self) -> None:
        self.runner.reset()

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
        self._server = None

    def __enter__(self) -> ScriptedModelServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_model_server(
    script: ScriptSource, host: str = "127.0.0.1", port: int = 0
) -> ScriptedModelServer:
    return ScriptedModelServer(script, host, port).start()
