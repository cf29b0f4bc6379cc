"""The FastAPI application: webhook ingress, health and metrics."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from app import runtime
from app.settings import Settings
from app.web.ingress import router as ingress_router


def create_app(settings: Settings, *, handle_events: bool = True) -> FastAPI:
    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await runtime.start(settings, handle_events=handle_events)
        try:
            yield
        finally:
            runtime.stop()

    app = FastAPI(title="Swarm", lifespan=lifespan, docs_url=None, redoc_url=None)
    app.include_router(ingress_router)

    @app.get("/healthz")
    async def healthz() -> JSONResponse:
        try:
            await runtime.current().store.ping()
        except Exception as exc:
            return JSONResponse({"status": "error", "database": str(exc)}, status_code=503)
        return JSONResponse({"status": "ok", "database": "reachable"})

    @app.get("/metrics")
    async def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return app
