"""OpenAI Chat Completions with tools, through `openai.AsyncOpenAI`.

Also any OpenAI-compatible server (vLLM, Ollama, LiteLLM) through `base_url` / OPENAI_BASE_URL.
"""

from __future__ import annotations

import json
import re
from typing import Any, ClassVar

import openai
from openai.types.chat import ChatCompletion

from app.llm.base import ProviderModel, RawToolCall, Reply, wire_arguments
from app.llm.pricing import Price
from app.llm.types import Message, StopReason, ToolSpec, Usage

_FINISH: dict[str, StopReason] = {
    "stop": "end_turn",
    "tool_calls": "tool_use",
    "function_call": "tool_use",
    "length": "max_tokens",
    "content_filter": "refusal",
}

# OpenAI says code "context_length_exceeded"; vLLM and LiteLLM only say it in words.
_OVERFLOW_WORDS = re.compile(
    r"context[_ ]length|maximum context|context window|prompt is too long", re.IGNORECASE
)


def to_openai_messages(messages: list[Message]) -> list[dict[str, Any]]:
    wire: list[dict[str, Any]] = []
    for message in messages:
        if message.role == "tool":
            # Chat Completions has no error flag on a tool result: say it in the content.
            content = f"ERROR: {message.content}" if message.is_error else message.content
            wire.append({"role": "tool", "tool_call_id": message.tool_call_id, "content": content})
        elif message.role == "assistant" and message.tool_calls:
            wire.append(
                {
                    "role": "assistant",
                    "content": message.content or None,
                    "tool_calls": [
                        {
                            "id": call.id,
                            "type": "function",
                            "function": {
                                "name": call.name,
                                # A malformed call is replayed as "{}": the API may reject
                                # invalid JSON in history, and the tool result says what was wrong.
                                "arguments": json.dumps(wire_arguments(call)),
                            },
                        }
                        for call in message.tool_calls
                    ],
                }
            )
        else:
            wire.append({"role": message.role, "content": message.content})
    return wire


def to_openai_tools(tools: list[ToolSpec]) -> list[dict[str, Any]]:
    return [
        {
            "type": "function",
            "function": {
                "name": tool.name,
                "description": tool.description,
                "parameters": tool.parameters,
            },
        }
        for tool in tools
    ]


def stop_reason(finish_reason: str | None, refusal: str | None) -> StopReason:
    if refusal:
        return "refusal"
    return _FINISH.get(finish_reason or "stop", "end_turn")


def from_openai_completion(completion: ChatCompletion) -> Reply:
    choice = completion.choices[0]
    message = choice.message
    calls = [
        RawToolCall(call.id, call.function.name, call.function.arguments)
        for call in message.tool_calls or []
        if call.type == "function"
    ]
    return Reply(
        text=message.content or message.refusal or "",
        stop_reason=stop_reason(choice.finish_reason, message.refusal),
        usage=usage_of(completion),
        tool_calls=calls,
    )


def usage_of(completion: ChatCompletion) -> Usage:
    usage = completion.usage
    if usage is None:  # some compatible servers omit it
        return Usage()
    details = usage.prompt_tokens_details
    return Usage(
        input_tokens=usage.prompt_tokens,
        cached_input_tokens=(details.cached_tokens or 0) if details else 0,
        cache_write_tokens=(details.cache_write_tokens or 0) if details else 0,
        output_tokens=usage.completion_tokens,
    )


class OpenAIModel(ProviderModel):
    provider: ClassVar[str] = "openai"
    sdk_error: ClassVar[type[Exception]] = openai.OpenAIError

    def __init__(
        self,
        model: str,
        client: openai.AsyncOpenAI,
        *,
        context_window: int | None = None,
        price: Price | None = None,
    ) -> None:
        super().__init__(model, context_window=context_window, price=price)
        self.client = client

    async def _send(self, messages: list[Message], tools: list[ToolSpec], max_tokens: int) -> Reply:
        options: dict[str, Any] = {}
        if tools:
            options["tools"] = to_openai_tools(tools)
        completion = await self.client.chat.completions.create(
            model=self.model_id,
            messages=to_openai_messages(messages),  # type: ignore[arg-type]
            # max_completion_tokens, not the deprecated max_tokens that reasoning models refuse.
            max_completion_tokens=max_tokens,
            **options,
        )
        return from_openai_completion(completion)

    def _is_context_overflow(self, exc: Exception) -> bool:
        if not isinstance(exc, openai.APIStatusError) or exc.status_code not in (400, 413):
            return False
        return exc.code == "context_length_exceeded" or bool(_OVERFLOW_WORDS.search(exc.message))

    async def aclose(self) -> None:
        await self.client.close()
