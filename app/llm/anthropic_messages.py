"""Anthropic Messages with tool use and prompt caching, through `anthropic.AsyncAnthropic`.

Caching: Anthropic caches the prefix (tools, then system, then messages) up to each block marked
`cache_control`, at most four marks per request. We mark the last tool, the system prompt, the
message that ended the previous request (so this request reads what the previous one wrote) and
the last message (so the next request can read this one).
"""

from __future__ import annotations

import json
import re
from typing import Any, ClassVar

import anthropic
from anthropic.types import Message as AnthropicMessage

from app.llm.base import ProviderModel, RawToolCall, Reply, wire_arguments
from app.llm.pricing import Price
from app.llm.types import Message, StopReason, ToolSpec, Usage

Block = dict[str, Any]
EPHEMERAL: dict[str, str] = {"type": "ephemeral"}

_STOP: dict[str, StopReason] = {
    "end_turn": "end_turn",
    "stop_sequence": "end_turn",
    "pause_turn": "end_turn",
    "tool_use": "tool_use",
    "max_tokens": "max_tokens",
    # The answer ran into the context window: as cut off as at max_tokens.
    "model_context_window_exceeded": "max_tokens",
    "refusal": "refusal",
}

_OVERFLOW_WORDS = re.compile(r"prompt is too long|context window|context length", re.IGNORECASE)

# Anthropic rejects empty text blocks; an empty turn in our history still has to say something.
_EMPTY = "(empty)"


def to_anthropic_system(messages: list[Message]) -> list[Block]:
    """The leading system messages; later ones travel as user text (see to_anthropic_messages)."""
    blocks: list[Block] = []
    for message in messages:
        if message.role != "system":
            break
        if message.content:
            blocks.append({"type": "text", "text": message.content})
    if blocks:
        blocks[-1]["cache_control"] = EPHEMERAL
    return blocks


def _blocks_of(message: Message) -> list[Block]:
    if message.role == "tool":
        block: Block = {"type": "tool_result", "tool_use_id": message.tool_call_id}
        if message.content:
            block["content"] = message.content
        if message.is_error:
            block["is_error"] = True
        return [block]
    blocks: list[Block] = []
    if message.content:
        blocks.append({"type": "text", "text": message.content})
    for call in message.tool_calls:
        blocks.append(
            {"type": "tool_use", "id": call.id, "name": call.name, "input": wire_arguments(call)}
        )
    return blocks or [{"type": "text", "text": _EMPTY}]


def to_anthropic_messages(messages: list[Message]) -> list[dict[str, Any]]:
    start = 0
    while start < len(messages) and messages[start].role == "system":
        start += 1
    wire: list[dict[str, Any]] = []
    for message in messages[start:]:
        role = "assistant" if message.role == "assistant" else "user"
        blocks = _blocks_of(message)
        if wire and wire[-1]["role"] == role:
            # Consecutive tool results (and any note after them) form one user message.
            wire[-1]["content"].extend(blocks)
        else:
            wire.append({"role": role, "content": blocks})
    for item in wire:
        # A user message that answers tool calls must start with its tool_result blocks.
        item["content"].sort(key=lambda block: block["type"] != "tool_result")
    _mark_cache_points(wire)
    return wire


def _mark_cache_points(wire: list[dict[str, Any]]) -> None:
    if not wire:
        return
    wire[-1]["content"][-1]["cache_control"] = EPHEMERAL
    last_assistant = max((i for i, m in enumerate(wire) if m["role"] == "assistant"), default=-1)
    if last_assistant > 0:
        wire[last_assistant - 1]["content"][-1]["cache_control"] = EPHEMERAL


def to_anthropic_tools(tools: list[ToolSpec]) -> list[Block]:
    wire: list[Block] = [
        {"name": tool.name, "description": tool.description, "input_schema": tool.parameters}
        for tool in tools
    ]
    if wire:
        wire[-1]["cache_control"] = EPHEMERAL
    return wire


def _raw_input(value: object) -> str:
    # The API normally hands back parsed JSON; a string here means it could not parse it.
    return value if isinstance(value, str) else json.dumps(value)


def from_anthropic_message(message: AnthropicMessage) -> Reply:
    texts: list[str] = []
    calls: list[RawToolCall] = []
    for block in message.content:
        if block.type == "text":
            texts.append(block.text)
        elif block.type == "tool_use":
            calls.append(RawToolCall(block.id, block.name, _raw_input(block.input)))
    return Reply(
        text="".join(texts),
        stop_reason=_STOP.get(message.stop_reason or "end_turn", "end_turn"),
        usage=usage_of(message),
        tool_calls=calls,
    )


def usage_of(message: AnthropicMessage) -> Usage:
    usage = message.usage
    read = usage.cache_read_input_tokens or 0
    written = usage.cache_creation_input_tokens or 0
    # Anthropic's input_tokens counts only what came after the last cache point.
    return Usage(
        input_tokens=usage.input_tokens + read + written,
        cached_input_tokens=read,
        cache_write_tokens=written,
        output_tokens=usage.output_tokens,
    )


class AnthropicModel(ProviderModel):
    provider: ClassVar[str] = "anthropic"
    sdk_error: ClassVar[type[Exception]] = anthropic.AnthropicError

    def __init__(
        self,
        model: str,
        client: anthropic.AsyncAnthropic,
        *,
        context_window: int | None = None,
        price: Price | None = None,
    ) -> None:
        super().__init__(model, context_window=context_window, price=price)
        self.client = client

    async def _send(self, messages: list[Message], tools: list[ToolSpec], max_tokens: int) -> Reply:
        options: dict[str, Any] = {}
        system = to_anthropic_system(messages)
        if system:
            options["system"] = system
        if tools:
            options["tools"] = to_anthropic_tools(tools)
        message = await self.client.messages.create(
            model=self.model_id,
            messages=to_anthropic_messages(messages),  # type: ignore[arg-type]
            max_tokens=max_tokens,
            **options,
        )
        return from_anthropic_message(message)

    def _is_context_overflow(self, exc: Exception) -> bool:
        if not isinstance(exc, anthropic.APIStatusError):
            return False
        if exc.status_code == 413:  # request_too_large: shrinking the transcript is the fix too
            return True
        return exc.status_code == 400 and bool(_OVERFLOW_WORDS.search(exc.message))

    async def aclose(self) -> None:
        await self.client.close()
