"""The simulator as an ASGI app, and a handle that serves it from a background thread."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from types import TracebackType

import anyio
from fastapi import APIRouter, FastAPI

from app.simulator.github import githttp
from app.simulator.github.config import SimulatorConfig
from app.simulator.github.core import Simulator
from app.simulator.github.errors import install_error_handlers
from app.simulator.github.middleware import GitHubFrontMiddleware
from app.simulator.github.routes import (
    apps,
    checks,
    comments,
    compare,
    control,
    control_gate,
    gitrefs,
    issues,
    labels,
    protection,
    pulls,
    repos,
    reviews,
    subissues,
)
from app.simulator.github.state import SimState
from app.web.server import ThreadServer

__all__ = ["ROUTERS", "RunningSimulator", "SimulatorConfig", "create_app", "start_simulator"]

# Order matters where paths overlap: `/commits/{ref}/check-runs` before `/commits/{ref}`,
# `/branches/{branch}/protection` before `/branches/{branch}`, and git's `/{owner}/{repo}.git/...`
# last. The control API's two routers come first; every other one is GitHub's.
CONTROL_ROUTERS: tuple[APIRouter, ...] = (control.router, control_gate.router)
GITHUB_ROUTERS: tuple[APIRouter, ...] = (
    apps.router,
    checks.router,
    gitrefs.router,
    issues.router,
    labels.router,
    comments.router,
    subissues.router,
    pulls.router,
    reviews.router,
    protection.router,
    compare.router,
    repos.router,
)
ROUTERS: tuple[APIRouter, ...] = (*CONTROL_ROUTERS, *GITHUB_ROUTERS, githttp.router)


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
    for router in ROUTERS:
        app.include_router(router)
    app.add_middleware(GitHubFrontMiddleware, sim=sim)
    return app


class RunningSimulator:
    """A simulator served on a real port from a background thread. Use as a context manager."""

    def __init__(self, config: SimulatorConfig, host: str = "127.0.0.1", port: int = 0) -> None:
        self.app = create_app(config)
        self.sim: Simulator = self.app.state.sim
        self._server = ThreadServer(self.app, host, port, name=f"sim-github-{port}")
        self.url = self._server.url
        self.port = self._server.port
        if config.public_url is None:
            self.sim.set_base_url(self.url)

    @property
    def state(self) -> SimState:
        return self.sim.state

    @property
    def public_url(self) -> str:
        return self.sim.render.base

    def start(self) -> RunningSimulator:
        self._server.start()
        return self

    def stop(self) -> None:
        self.sim.wake_waiters()  # settle() callers blocked on the server must not hold it up
        self._server.stop()

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
