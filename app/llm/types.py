"""Provider-neutral messages, tools and responses: the one vocabulary the agent loop speaks.

Providers (openai, anthropic) translate to and from these; nothing above `app.llm` sees a
provider's wire format.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

Role = Literal["system", "user", "assistant", "tool"]
StopReason = Literal["end_turn", "tool_use", "max_tokens", "refusal"]


@dataclass
class ToolSpec:
    name: str
    description: str
    parameters: dict[str, Any]  # JSON Schema of the arguments object


@dataclass
class ToolCall:
    id: str
    name: str
    raw_arguments: str  # exactly what the model sent
    arguments: dict[str, Any] | None = None  # None when raw_arguments is not a JSON object
    error: str | None = None  # why the call is malformed, if it is


@dataclass
class Message:
    role: Role
    content: str = ""
    tool_calls: list[ToolCall] = field(default_factory=list)  # assistant only
    tool_call_id: str | None = None  # tool only: which call this answers
    is_error: bool = False  # tool only


@dataclass
class Usage:
    input_tokens: int = 0  # all input tokens, cached ones included
    cached_input_tokens: int = 0  # read from the provider's prompt cache
    cache_write_tokens: int = 0
    output_tokens: int = 0

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            self.input_tokens + other.input_tokens,
            self.cached_input_tokens + other.cached_input_tokens,
            self.cache_write_tokens + other.cache_write_tokens,
            self.output_tokens + other.output_tokens,
        )


@dataclass
class ModelResponse:
    message: Message  # role "assistant"
    stop_reason: StopReason
    usage: Usage
    model: str  # "provider/model"
    cost_usd: float = 0.0


class ModelError(Exception):
    """The provider failed in a way a retry will not fix (after the SDK's own retries)."""


class ContextWindowExceeded(ModelError):
    """The request did not fit the model's context window."""


class Model(Protocol):
    name: str  # "provider/model"
    context_window: int  # tokens

    async def query(
        self, messages: list[Message], tools: list[ToolSpec], *, max_tokens: int
    ) -> ModelResponse: ...
