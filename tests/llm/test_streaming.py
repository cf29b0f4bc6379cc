"""The scripted model server streams in each provider's own SSE format (raw SDKs, stream=True)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import anthropic
import openai
import pytest

from app.simulator.models import ScriptedModelServer

SCRIPT = {
    "agents": [
        {
            "match": "You are the worker",
            "turns": [
                {
                    "text": "Reading both files now, one after the other.",
                    "tool_calls": [
                        {"name": "read_file", "arguments": {"path": "src/app/main.py"}},
                        {"name": "read_file", "arguments": {"path": "README.md", "limit": 40}},
                    ],
                },
                {
                    "stop": "max_tokens",
                    "tool_calls": [{"name": "write_file", "arguments": {"path": "a", "text": "b"}}],
                },
            ],
        }
    ]
}
TOOL = {"type": "object", "properties": {"path": {"type": "string"}}}


@pytest.fixture
async def openai_client(server: ScriptedModelServer) -> AsyncIterator[openai.AsyncOpenAI]:
    server.load(SCRIPT)
    client = openai.AsyncOpenAI(api_key="k", base_url=server.url + "/v1", max_retries=0)
    yield client
    await client.close()


@pytest.fixture
async def anthropic_client(server: ScriptedModelServer) -> AsyncIterator[anthropic.AsyncAnthropic]:
    server.load(SCRIPT)
    client = anthropic.AsyncAnthropic(api_key="k", base_url=server.url, max_retries=0)
    yield client
    await client.close()


def openai_request() -> dict[str, Any]:
    return {
        "model": "gpt-5",
        "messages": [
            {"role": "system", "content": "You are the worker."},
            {"role": "user", "content": "Read the code."},
        ],
        "tools": [{"type": "function", "function": {"name": "read_file", "parameters": TOOL}}],
    }


def anthropic_request() -> dict[str, Any]:
    return {
        "model": "claude-sonnet-4-6",
        "max_tokens": 200,
        "system": "You are the worker.",
        "messages": [{"role": "user", "content": "Read the code."}],
        "tools": [{"name": "read_file", "input_schema": TOOL}],
    }


async def test_openai_chunks_assemble_into_text_tool_calls_and_usage(
    openai_client: openai.AsyncOpenAI, server: ScriptedModelServer
) -> None:
    stream = await openai_client.chat.completions.create(
        **openai_request(), stream=True, stream_options={"include_usage": True}
    )
    text = ""
    calls: dict[int, dict[str, str]] = {}
    finish = None
    usage = None
    count = 0
    async for chunk in stream:
        count += 1
        usage = chunk.usage or usage
        if not chunk.choices:
            continue
        choice = chunk.choices[0]
        finish = choice.finish_reason or finish
        text += choice.delta.content or ""
        for delta in choice.delta.tool_calls or []:
            call = calls.setdefault(delta.index, {"id": "", "name": "", "arguments": ""})
            call["id"] += delta.id or ""
            if delta.function is not None:
                call["name"] += delta.function.name or ""
                call["arguments"] += delta.function.arguments or ""
    assert count > 5  # really streamed in pieces
    assert text == "Reading both files now, one after the other."
    assert finish == "tool_calls"
    assert [json.loads(calls[i]["arguments"]) for i in (0, 1)] == [
        {"path": "src/app/main.py"},
        {"path": "README.md", "limit": 40},
    ]
    assert calls[0]["name"] == "read_file" and calls[0]["id"] != calls[1]["id"]
    assert usage is not None and usage.prompt_tokens > 0 and usage.completion_tokens > 0
    assert server.requests()[0]["stream"] is True


async def test_openai_stream_cut_off_by_the_output_limit(
    openai_client: openai.AsyncOpenAI,
) -> None:
    await openai_client.chat.completions.create(**openai_request())  # first turn, not streamed
    stream = await openai_client.chat.completions.create(**openai_request(), stream=True)
    arguments = ""
    finish = None
    async for chunk in stream:
        for choice in chunk.choices:
            finish = choice.finish_reason or finish
            for delta in choice.delta.tool_calls or []:
                arguments += (delta.function.arguments or "") if delta.function else ""
    assert finish == "length"
    with pytest.raises(json.JSONDecodeError):
        json.loads(arguments)


async def test_anthropic_events_come_in_the_real_order(
    anthropic_client: anthropic.AsyncAnthropic,
) -> None:
    stream = await anthropic_client.messages.create(**anthropic_request(), stream=True)
    events = [event async for event in stream]
    kinds = [event.type for event in events]
    assert kinds[0] == "message_start" and kinds[-2:] == ["message_delta", "message_stop"]
    starts = [e.content_block.type for e in events if e.type == "content_block_start"]
    assert starts == ["text", "tool_use", "tool_use"]
    assert kinds.count("content_block_stop") == 3
    text = "".join(
        e.delta.text
        for e in events
        if e.type == "content_block_delta" and e.delta.type == "text_delta"
    )
    assert text == "Reading both files now, one after the other."
    delta = next(e for e in events if e.type == "message_delta")
    assert delta.delta.stop_reason == "tool_use"
    assert delta.usage.output_tokens > 0


async def test_anthropic_stream_helper_builds_the_final_message(
    anthropic_client: anthropic.AsyncAnthropic,
) -> None:
    async with anthropic_client.messages.stream(**anthropic_request()) as stream:
        message = await stream.get_final_message()
    assert message.stop_reason == "tool_use"
    tool_uses = [block for block in message.content if block.type == "tool_use"]
    assert [block.input for block in tool_uses] == [
        {"path": "src/app/main.py"},
        {"path": "README.md", "limit": 40},
    ]
    assert message.usage.input_tokens + (message.usage.cache_creation_input_tokens or 0) > 0


async def test_anthropic_stream_cut_off_by_the_output_limit(
    anthropic_client: anthropic.AsyncAnthropic,
) -> None:
    await anthropic_client.messages.create(**anthropic_request())  # first turn, not streamed
    stream = await anthropic_client.messages.create(**anthropic_request(), stream=True)
    partial = ""
    stop = None
    async for event in stream:
        if event.type == "content_block_delta" and event.delta.type == "input_json_delta":
            partial += event.delta.partial_json
        if event.type == "message_delta":
            stop = event.delta.stop_reason
    assert stop == "max_tokens"
    with pytest.raises(json.JSONDecodeError):
        json.loads(partial)
