"""Helpers shared by the tests of app.llm and the scripted model server."""

from __future__ import annotations

from app.simulator.models import ScriptedModelServer


def base_url(server: ScriptedModelServer, provider: str) -> str:
    # The OpenAI SDK appends "/chat/completions"; the Anthropic SDK appends "/v1/messages".
    return server.url + "/v1" if provider == "openai" else server.url
