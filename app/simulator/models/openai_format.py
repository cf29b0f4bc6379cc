"""OpenAI Chat Completions on the wire: `POST /v1/chat/completions`, JSON or SSE."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

from starlette.responses import JSONResponse, Response, StreamingResponse

from app.simulator.models.answer import Answer, pieces
from app.simulator.models.prompt_cache import Part, PromptCache, PromptUsage

_FINISH = {"end_turn": "stop", "tool_use": "tool_calls", "max_tokens": "length", "refusal": "stop"}
_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "invalid_request_error",
    404: "invalid_request_error",
    429: "requests",
    500: "server_error",
    503: "server_error",
}


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # content parts
        return "".join(p.get("text", "") for p in content if isinstance(p, dict))
    return ""


class OpenAIFormat:
    name = "openai"
    id_prefix = "call_"

    def problem(self, body: Any) -> str | None:
        if not isinstance(body, dict) or not isinstance(body.get("model"), str):
            return "'model' is a required property"
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages:
            return "'messages' must be a non-empty array"
        return _unanswered_calls(messages)

    def match_text(self, body: dict[str, Any]) -> str:
        messages = body["messages"]
        system: dict[str, Any] = next(
            (m for m in messages if m.get("role") in ("system", "developer")), {}
        )
        user: dict[str, Any] = next((m for m in messages if m.get("role") == "user"), {})
        return _text(system.get("content")) + "\n" + _text(user.get("content"))

    def full_text(self, body: dict[str, Any]) -> str:
        lines: list[str] = []
        for message in body["messages"]:
            lines.append(_text(message.get("content")))
            for call in message.get("tool_calls") or []:
                function = call.get("function", {})
                lines.append(f"{function.get('name')} {function.get('arguments')}")
        return "\n".join(lines)

    def prompt_usage(self, body: dict[str, Any], cache: PromptCache) -> PromptUsage:
        parts = [Part(body.get("tools", []))] + [Part(m) for m in body["messages"]]
        return cache.automatic(f"openai:{body['model']}", parts)

    def render(self, answer: Answer, body: dict[str, Any], usage: PromptUsage, n: int) -> Response:
        wire_usage = {
            "prompt_tokens": usage.total,
            "completion_tokens": answer.output_tokens,
            "total_tokens": usage.total + answer.output_tokens,
            "prompt_tokens_details": {"cached_tokens": usage.cache_read},
            "completion_tokens_details": {"reasoning_tokens": 0},
        }
        head = {
            "id": f"chatcmpl-{n:06d}",
            "created": int(time.time()),
            "model": body["model"],
            "system_fingerprint": "scripted",
        }
        if body.get("stream"):
            include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
            events = _chunks(answer, head, wire_usage if include_usage else None)
            return StreamingResponse(events, media_type="text/event-stream")
        message: dict[str, Any] = {
            "role": "assistant",
            "content": answer.text or None,
            "refusal": answer.refusal,
        }
        if answer.calls:
            message["tool_calls"] = [
                {
                    "id": c.id,
                    "type": "function",
                    "function": {"name": c.name, "arguments": c.raw_arguments},
                }
                for c in answer.calls
            ]
        choice = {
            "index": 0,
            "message": message,
            "finish_reason": _FINISH[answer.stop],
            "logprobs": None,
        }
        return JSONResponse(
            {**head, "object": "chat.completion", "choices": [choice], "usage": wire_usage}
        )

    def error(
        self,
        status: int,
        message: str,
        *,
        type: str | None = None,
        code: str | None = None,
        retry_after: float | None = None,
    ) -> Response:
        error = {
            "message": message,
            "type": type or _ERROR_TYPES.get(status, "server_error"),
            "param": None,
            "code": code,
        }
        return JSONResponse({"error": error}, status, headers=retry_headers(retry_after))


def retry_headers(retry_after: float | None) -> dict[str, str]:
    if retry_after is None:
        return {}
    # retry-after-ms is what both SDKs read first; retry-after is the standard, in seconds.
    return {"retry-after-ms": str(int(retry_after * 1000)), "retry-after": f"{retry_after:g}"}


def _unanswered_calls(messages: list[Any]) -> str | None:
    pending: list[str] = []
    for message in messages:
        if not isinstance(message, dict):
            return "each message must be an object"
        role = message.get("role")
        if role == "tool":
            call_id = message.get("tool_call_id")
            if call_id not in pending:
                return (
                    "Invalid parameter: messages with role 'tool' must be a response to a "
                    f"preceding message with 'tool_calls' (tool_call_id {call_id!r})."
                )
            pending.remove(call_id)
            continue
        if pending:
            return (
                "An assistant message with 'tool_calls' must be followed by tool messages "
                "responding to each 'tool_call_id'. The following tool_call_ids did not have "
                f"response messages: {', '.join(pending)}"
            )
        pending = [c.get("id") for c in message.get("tool_calls") or []]
    return None


def _chunks(answer: Answer, head: dict[str, Any], usage: dict[str, Any] | None) -> Iterator[bytes]:
    def chunk(delta: dict[str, Any], finish: str | None = None) -> bytes:
        choice = {"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}
        data = {**head, "object": "chat.completion.chunk", "choices": [choice]}
        return f"data: {json.dumps(data)}\n\n".encode()

    yield chunk({"role": "assistant", "content": ""})
    for piece in pieces(answer.text):
        yield chunk({"content": piece})
    for piece in pieces(answer.refusal or ""):
        yield chunk({"refusal": piece})
    for index, call in enumerate(answer.calls):
        start = {"index": index, "id": call.id, "type": "function"}
        yield chunk({"tool_calls": [{**start, "function": {"name": call.name, "arguments": ""}}]})
        for piece in pieces(call.raw_arguments):
            yield chunk({"tool_calls": [{"index": index, "function": {"arguments": piece}}]})
    yield chunk({}, _FINISH[answer.stop])
    if usage is not None:
        data = {**head, "object": "chat.completion.chunk", "choices": [], "usage": usage}
        yield f"data: {json.dumps(data)}\n\n".encode()
    yield b"data: [DONE]\n\n"
