"""The simulator as an ASGI app, and a handle that serves it from a background thread."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from types import TracebackType

import anyio
import uvicorn
from fastapi import FastAPI

from app.simulator.github import githttp
from app.simulator.github.config import SimulatorConfig
from app.simulator.github.core import Simulator
from app.simulator.github.errors import install_error_handlers
from app.simulator.github.middleware import GitHubFrontMiddleware
from app.simulator.github.routes import (
    apps,
    checks,
    comments,
    control,
    gitrefs,
    issues,
    labels,
    pulls,
    repos,
    reviews,
    subissues,
)
from app.simulator.github.state import SimState

__all__ = ["RunningSimulator", "SimulatorConfig", "create_app", "start_simulator"]

STARTUP_TIMEOUT = 30.0
SHUTDOWN_TIMEOUT = 30.0


def create_app(config: SimulatorConfig) -> FastAPI:
    """A simulated github.com. Background workers run while the app's lifespan runs."""
    sim = Simulator(config)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        sim.start()
        try:
            yield
        finally:
            await anyio.to_thread.run_sync(sim.stop)

    app = FastAPI(
        title="GitHub simulator",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.state.sim = sim
    install_error_handlers(app)
    # Order matters where paths overlap: `/commits/{ref}/check-runs` before `/commits/{ref}`,
    # and git's `/{owner}/{repo}.git/...` last.
    for module in (
        control,
        apps,
        checks,
        gitrefs,
        issues,
        labels,
        comments,
        subissues,
        pulls,
        reviews,
        repos,
        githttp,
    ):
        app.include_router(module.router)
    app.add_middleware(GitHubFrontMiddleware, sim=sim)
    return app


class _Server(uvicorn.Server):
    """uvicorn's server, telling us when its startup (lifespan included) is done."""

    def __init__(self, config: uvicorn.Config, ready: threading.Event) -> None:
        super().__init__(config)
        self._ready = ready

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        self._ready.set()


class RunningSimulator:
    """A simulator served on a real port from a background thread. Use as a context manager."""

    def __init__(self, config: SimulatorConfig, host: str = "127.0.0.1", port: int = 0) -> None:
        self.app = create_app(config)
        self.sim: Simulator = self.app.state.sim
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind((host, port))
        self._socket.listen(128)
        bound_port = self._socket.getsockname()[1]
        self.url = f"http://{host}:{bound_port}"
        self.port = bound_port
        if config.public_url is None:
            self.sim.set_base_url(self.url)
        self._ready = threading.Event()
        uv_config = uvicorn.Config(
            self.app,
            log_level="warning",
            access_log=False,
            lifespan="on",
            timeout_graceful_shutdown=5,
        )
        self._server = _Server(uv_config, self._ready)
        self._thread = threading.Thread(
            target=self._server.run,
            kwargs={"sockets": [self._socket]},
            name=f"sim-github-{bound_port}",
            daemon=True,
        )

    @property
    def state(self) -> SimState:
        return self.sim.state

    @property
    def public_url(self) -> str:
        return self.sim.render.base

    def start(self) -> RunningSimulator:
        self._thread.start()
        # Wait for uvicorn's startup; give up early if its thread died trying.
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while not self._ready.wait(timeout=0.05):
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("the GitHub simulator failed to start")
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self.sim.wake_waiters()
        if self._thread.is_alive():
            self._thread.join(timeout=SHUTDOWN_TIMEOUT)
        self._socket.close()

    def __enter__(self) -> RunningSimulator:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def start_simulator(
    config: SimulatorConfig, host: str = "127.0.0.1", port: int = 0
) -> RunningSimulator:
    """Serve a simulator on `host:port` (0 picks a free port) and return once it is serving."""
    return RunningSimulator(config, host, port).start()
