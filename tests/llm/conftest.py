"""One scripted model server per module; each test loads its own script into it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest

from app.llm import make_model
from app.llm.base import ProviderModel
from app.simulator.models import ScriptedModelServer, start_model_server
from tests.llm.support import base_url

MODEL_IDS = {"openai": "gpt-5", "anthropic": "claude-sonnet-4-6"}


@pytest.fixture(scope="module")
def model_server() -> Iterator[ScriptedModelServer]:
    server = start_model_server({"agents": []})
    yield server
    server.stop()


@pytest.fixture
def server(model_server: ScriptedModelServer) -> Iterator[ScriptedModelServer]:
    model_server.reset()
    yield model_server
    model_server.load({"agents": []})


@pytest.fixture
async def models(
    server: ScriptedModelServer,
) -> AsyncIterator[Callable[..., ProviderModel]]:
    made: list[ProviderModel] = []

    def make(provider: str, model: str | None = None, **options: Any) -> ProviderModel:
        options.setdefault("max_retries", 2)
        options.setdefault("timeout", 10)
        built = make_model(
            f"{provider}/{model or MODEL_IDS[provider]}",
            api_key="test-key",
            base_url=base_url(server, provider),
            **options,
        )
        made.append(built)
        return built

    yield make
    for built in made:
        await built.aclose()
