"""The shared half of every provider: error translation, tool-call checking, usage and cost.

An adapter only translates: our messages to its wire format (`_send`) and its answer back into a
`Reply`. Everything that must behave the same whatever the provider — a cut-off call is never
runnable, a non-object argument is malformed, an SDK error becomes a `ModelError` — lives here.
"""

from __future__ import annotations

import json
import logging
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, ClassVar

from app.llm.pricing import Price, context_window_for, cost_usd
from app.llm.types import (
    ContextWindowExceeded,
    Message,
    ModelError,
    ModelResponse,
    StopReason,
    ToolCall,
    ToolSpec,
    Usage,
)

log = logging.getLogger(__name__)

CUT_OFF = "cut off by the output limit"


@dataclass
class RawToolCall:
    id: str
    name: str
    raw_arguments: str


@dataclass
class Reply:
    """One provider answer, translated but not yet checked."""

    text: str
    stop_reason: StopReason
    usage: Usage
    tool_calls: list[RawToolCall] = field(default_factory=list)


def parse_arguments(raw: str) -> tuple[dict[str, Any] | None, str | None]:
    """(arguments, None) for a JSON object, else (None, why it is malformed)."""
    if not raw.strip():
        # Tools without parameters: some OpenAI-compatible servers send "" instead of "{}".
        return {}, None
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as err:
        return None, f"arguments are not valid JSON ({err.msg} at char {err.pos})"
    if not isinstance(value, dict):
        return None, f"arguments must be a JSON object, not {type(value).__name__}"
    return value, None


def check_tool_call(call: RawToolCall, *, cut_off: bool) -> ToolCall:
    if cut_off:
        # Even arguments that parse are suspect: the model did not finish saying what it meant.
        return ToolCall(call.id, call.name, call.raw_arguments, None, CUT_OFF)
    arguments, error = parse_arguments(call.raw_arguments)
    return ToolCall(call.id, call.name, call.raw_arguments, arguments, error)


def wire_arguments(call: ToolCall) -> dict[str, Any]:
    """The arguments to show a provider when replaying history: an object, whatever was sent."""
    if call.arguments is not None:
        return call.arguments
    arguments, _ = parse_arguments(call.raw_arguments)
    return arguments or {}


class ProviderModel(ABC):
    """A `Model` (see app.llm.types) over one provider SDK."""

    provider: ClassVar[str]
    # The SDK's base error class; anything else escaping `_send` is a bug, not a provider failure.
    sdk_error: ClassVar[type[Exception]]

    def __init__(
        self, model: str, *, context_window: int | None = None, price: Price | None = None
    ) -> None:
        self.model_id = model
        self.name = f"{self.provider}/{model}"
        self.context_window = context_window or context_window_for(self.name)
        self.price = price

    async def query(
        self, messages: list[Message], tools: list[ToolSpec], *, max_tokens: int
    ) -> ModelResponse:
        try:
            reply = await self._send(messages, tools, max_tokens)
        except self.sdk_error as exc:
            # The SDK has already retried 429/5xx/529 (max_retries): what reaches here is final.
            detail = f"{self.name}: {self._describe(exc)}"
            if self._is_context_overflow(exc):
                raise ContextWindowExceeded(detail) from exc
            raise ModelError(detail) from exc
        cut_off = reply.stop_reason == "max_tokens"
        calls = [check_tool_call(call, cut_off=cut_off) for call in reply.tool_calls]
        stop = reply.stop_reason
        # Some OpenAI-compatible servers say "stop" while sending tool calls, or the reverse.
        if stop == "end_turn" and calls:
            stop = "tool_use"
        elif stop == "tool_use" and not calls:
            stop = "end_turn"
        return ModelResponse(
            message=Message("assistant", reply.text, calls),
            stop_reason=stop,
            usage=reply.usage,
            model=self.name,
            cost_usd=cost_usd(self.name, reply.usage, self.price),
        )

    @abstractmethod
    async def _send(self, messages: list[Message], tools: list[ToolSpec], max_tokens: int) -> Reply:
        """One request through the SDK (whose own retries are on)."""

    @abstractmethod
    def _is_context_overflow(self, exc: Exception) -> bool: ...

    def _describe(self, exc: Exception) -> str:
        status = getattr(exc, "status_code", None)
        message = getattr(exc, "message", None) or str(exc) or type(exc).__name__
        return f"{status} {message}" if status else message

    @abstractmethod
    async def aclose(self) -> None:
        """Close the SDK's HTTP connections."""
