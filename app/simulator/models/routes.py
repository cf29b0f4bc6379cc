"""The scripted model's HTTP routes: both providers' endpoints and the `/_script` controls."""

from __future__ import annotations

import json
from typing import Any

from fastapi import FastAPI, Request
from starlette.responses import JSONResponse, Response

from app.simulator.models.anthropic_format import AnthropicFormat
from app.simulator.models.openai_format import OpenAIFormat
from app.simulator.models.runner import ScriptRunner, WireFormat
from app.simulator.models.script import ScriptError, parse_script


def create_app(runner: ScriptRunner) -> FastAPI:
    app = FastAPI(title="Swarm scripted model server", docs_url=None, redoc_url=None)
    openai_format = OpenAIFormat()
    anthropic_format = AnthropicFormat()

    async def answer(request: Request, fmt: WireFormat) -> Response:
        try:
            body: Any = json.loads(await request.body())
        except json.JSONDecodeError as err:
            return fmt.error(400, f"the request body is not valid JSON: {err}")
        return runner.handle(fmt, body)

    @app.post("/v1/chat/completions")
    async def chat_completions(request: Request) -> Response:
        return await answer(request, openai_format)

    @app.post("/v1/messages")
    async def messages(request: Request) -> Response:
        return await answer(request, anthropic_format)

    @app.get("/_script/requests")
    async def recorded() -> list[dict[str, Any]]:
        return runner.requests()

    @app.post("/_script/load")
    async def load(request: Request) -> Response:
        try:
            runner.load(parse_script(json.loads(await request.body())))
        except (json.JSONDecodeError, ScriptError) as err:
            return JSONResponse({"error": str(err)}, 400)
        return JSONResponse({"loaded": True})

    @app.post("/_script/reset")
    async def reset() -> dict[str, bool]:
        runner.reset()
        return {"reset": True}

    return app
