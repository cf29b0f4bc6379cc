"""Test doubles for the outside world of the agent loop: a scripted model and a file toolbox.

No machine here can reach a model provider, so `ScriptedModel` stands in for one: it answers from
a script, records every request, and counts tokens its own way (chars/3, not the loop's chars/4)
and reports the prompt-cache hit as the prefix shared with the previous request, the way
providers do. `FileToolbox` is a minimal `Toolbox` over a directory for the loop's unit tests;
the integration tests use the real `WorkspaceTools`.
"""

from __future__ import annotations

import copy
import json
import math
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

from app.agent.toolbox import ToolResult
from app.llm.types import Message, ModelResponse, StopReason, ToolCall, ToolSpec, Usage

Turn = ModelResponse | Callable[[list[Message]], ModelResponse | Awaitable[ModelResponse]]

_ids = iter(range(1, 10**9))


def call(name: str, **arguments: Any) -> ToolCall:
    raw = json.dumps(arguments)
    return ToolCall(id=f"call_{next(_ids)}", name=name, raw_arguments=raw, arguments=arguments)


def bad_call(name: str, raw: str, error: str = "arguments are not valid JSON") -> ToolCall:
    return ToolCall(id=f"call_{next(_ids)}", name=name, raw_arguments=raw, error=error)


def reply(
    *calls: ToolCall, text: str = "", stop: StopReason | None = None, tokens: int = 0
) -> ModelResponse:
    """An assistant answer; `tokens` overrides the usage the model reports (for budget tests)."""
    stop_reason: StopReason = stop or ("tool_use" if calls else "end_turn")
    message = Message(role="assistant", content=text, tool_calls=list(calls))
    usage = Usage(input_tokens=tokens, output_tokens=0) if tokens else Usage()
    return ModelResponse(message, stop_reason, usage, model="test/scripted")


def count_tokens(messages: list[Message]) -> int:
    """The scripted provider's own count, deliberately not the loop's chars/4."""
    chars = 0
    for m in messages:
        chars += len(m.content) + 12 + sum(len(c.raw_arguments) + len(c.name) for c in m.tool_calls)
    return math.ceil(chars / 3)


def _key(message: Message) -> str:
    return json.dumps([message.role, message.content, message.tool_call_id,
                       [[c.id, c.name, c.raw_arguments] for c in message.tool_calls]])  # fmt: skip


class ScriptedModel:
    """A `Model` answering from a script; records each request as it was sent."""

    name = "test/scripted"

    def __init__(self, turns: Sequence[Turn], *, context_window: int = 200_000) -> None:
        self.turns = list(turns)
        self.context_window = context_window
        self.requests: list[list[Message]] = []
        self.max_tokens: list[int] = []
        self.summary_requests: list[list[Message]] = []
        self.summary_text: str | Exception = "The agent edited files; tests were not yet run."

    async def query(
        self, messages: list[Message], tools: list[ToolSpec], *, max_tokens: int
    ) -> ModelResponse:
        if not tools:  # compaction's summary call offers no tools
            self.summary_requests.append(copy.deepcopy(messages))
            if isinstance(self.summary_text, Exception):
                raise self.summary_text
            summary = reply(text=self.summary_text)
            summary.usage = Usage(input_tokens=count_tokens(messages), output_tokens=30)
            return summary
        previous = self.requests[-1] if self.requests else []
        self.requests.append(copy.deepcopy(messages))
        self.max_tokens.append(max_tokens)
        if not self.turns:
            raise AssertionError("the script ran out of turns")
        turn = self.turns.pop(0)
        response = turn if isinstance(turn, ModelResponse) else turn(messages)
        if not isinstance(response, ModelResponse):
            response = await response
        if response.usage == Usage():
            response.usage = self._usage(messages, previous)
        return response

    def _usage(self, messages: list[Message], previous: list[Message]) -> Usage:
        shared = 0
        for old, new in zip(previous, messages, strict=False):
            if _key(old) != _key(new):
                break
            shared += 1
        return Usage(
            input_tokens=count_tokens(messages),
            cached_input_tokens=count_tokens(messages[:shared]),
            output_tokens=20,
        )


class FileToolbox:
    """A small real `Toolbox` over one directory: write_file, read_file, run (echo only)."""

    def __init__(self, root: Path, on_call: Callable[[str], None] | None = None) -> None:
        self.root = root
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.on_call = on_call

    def specs(self) -> list[ToolSpec]:
        path = {"type": "string"}
        return [
            ToolSpec("write_file", "Write a file.", {
                "type": "object", "properties": {"path": path, "content": path},
                "required": ["path", "content"]}),
            ToolSpec("read_file", "Read a file.", {
                "type": "object", "properties": {"path": path}, "required": ["path"]}),
            ToolSpec("run", "Run a command.", {
                "type": "object", "properties": {"command": path}, "required": ["command"]}),
        ]  # fmt: skip

    async def call(self, name: str, arguments: dict[str, Any]) -> ToolResult:
        self.calls.append((name, arguments))
        if self.on_call is not None:
            self.on_call(name)
        if name == "write_file":
            (self.root / arguments["path"]).write_text(arguments["content"])
            return ToolResult(f"wrote {arguments['path']}")
        if name == "read_file":
            target = self.root / arguments["path"]
            if not target.exists():
                return ToolResult(f"no such file: {arguments['path']}", is_error=True)
            return ToolResult(target.read_text())
        return ToolResult(f"$ {arguments['command']}\nok")
