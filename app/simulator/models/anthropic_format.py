"""Anthropic Messages on the wire: `POST /v1/messages`, JSON or SSE, with prompt-cache usage."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from starlette.responses import JSONResponse, Response, StreamingResponse

from app.simulator.models.answer import Answer, pieces
from app.simulator.models.openai_format import retry_headers
from app.simulator.models.prompt_cache import Part, PromptCache, PromptUsage

MAX_CACHE_MARKS = 4
_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    529: "overloaded_error",
}


def _blocks(content: Any) -> list[dict[str, Any]]:
    if isinstance(content, str):
        return [{"type": "text", "text": content}]
    return [b for b in content or [] if isinstance(b, dict)]


def _block_text(block: dict[str, Any]) -> str:
    kind = block.get("type")
    if kind == "text":
        return str(block.get("text", ""))
    if kind == "tool_use":
        return f"{block.get('name')} {json.dumps(block.get('input'))}"
    if kind == "tool_result":
        return "\n".join(_block_text(b) for b in _blocks(block.get("content", "")))
    return ""


class AnthropicFormat:
    name = "anthropic"
    id_prefix = "toolu_"

    def problem(self, body: Any) -> str | None:
        if not isinstance(body, dict) or not isinstance(body.get("model"), str):
            return "model: Field required"
        if not isinstance(body.get("max_tokens"), int):
            return "max_tokens: Field required"
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages:
            return "messages: at least one message is required"
        if not all(isinstance(m, dict) for m in messages):
            return "messages: each message must be an object"
        return _cache_marks_problem(body) or _tool_pairing_problem(messages)

    def match_text(self, body: dict[str, Any]) -> str:
        user: dict[str, Any] = next((m for m in body["messages"] if m.get("role") == "user"), {})
        return self._system(body) + "\n" + self._text(user.get("content"))

    def full_text(self, body: dict[str, Any]) -> str:
        lines = [self._system(body)]
        lines += [self._text(m.get("content")) for m in body["messages"]]
        return "\n".join(lines)

    def _system(self, body: dict[str, Any]) -> str:
        return self._text(body.get("system", ""))

    def _text(self, content: Any) -> str:
        return "\n".join(_block_text(b) for b in _blocks(content))

    def prompt_usage(self, body: dict[str, Any], cache: PromptCache) -> PromptUsage:
        # Anthropic's prefix order: tools, then system, then messages.
        parts = [Part(t, "cache_control" in t) for t in body.get("tools", [])]
        parts += [Part(b, "cache_control" in b) for b in _blocks(body.get("system", ""))]
        for message in body["messages"]:
            for block in _blocks(message.get("content")):
                parts.append(Part({"role": message.get("role"), **block}, "cache_control" in block))
        return cache.explicit(f"anthropic:{body['model']}", parts)

    def render(self, answer: Answer, body: dict[str, Any], usage: PromptUsage, n: int) -> Response:
        wire_usage = {
            # input_tokens counts only what follows the last cache mark, as the real API does.
            "input_tokens": usage.total - usage.cache_read - usage.cache_write,
            "cache_creation_input_tokens": usage.cache_write,
            "cache_read_input_tokens": usage.cache_read,
            "output_tokens": answer.output_tokens,
        }
        message = {
            "id": f"msg_{n:06d}",
            "type": "message",
            "role": "assistant",
            "model": body["model"],
            "stop_reason": answer.stop,
            "stop_sequence": None,
        }
        if body.get("stream"):
            events = _events(answer, message, wire_usage)
            return StreamingResponse(events, media_type="text/event-stream")
        content: list[dict[str, Any]] = []
        text = answer.text + (answer.refusal or "")
        if text:
            content.append({"type": "text", "text": text})
        content += [
            {"type": "tool_use", "id": c.id, "name": c.name, "input": c.input} for c in answer.calls
        ]
        return JSONResponse({**message, "content": content, "usage": wire_usage})

    def error(
        self,
        status: int,
        message: str,
        *,
        type: str | None = None,
        code: str | None = None,
        retry_after: float | None = None,
    ) -> Response:
        body = {
            "type": "error",
            "error": {"type": type or _ERROR_TYPES.get(status, "api_error"), "message": message},
            "request_id": "req_scripted",
        }
        return JSONResponse(body, status, headers=retry_headers(retry_after))


def _cache_marks_problem(body: dict[str, Any]) -> str | None:
    marks = sum("cache_control" in t for t in body.get("tools", []))
    marks += sum("cache_control" in b for b in _blocks(body.get("system", "")))
    for message in body["messages"]:
        marks += sum("cache_control" in b for b in _blocks(message.get("content")))
    if marks > MAX_CACHE_MARKS:
        return (
            f"A maximum of {MAX_CACHE_MARKS} blocks with cache_control may be provided. "
            f"Found {marks}."
        )
    return None


def _tool_pairing_problem(messages: list[dict[str, Any]]) -> str | None:
    pending: set[str] = set()
    for index, message in enumerate(messages):
        blocks = _blocks(message.get("content"))
        if any(b.get("type") == "text" and not b.get("text") for b in blocks):
            return f"messages.{index}: text content blocks must be non-empty"
        answered = {b.get("tool_use_id") for b in blocks if b.get("type") == "tool_result"}
        if answered - pending:
            return (
                f"messages.{index}: unexpected `tool_use_id` found in `tool_result` blocks: "
                f"{', '.join(sorted(map(str, answered - pending)))}. Each `tool_result` block "
                "must have a corresponding `tool_use` block in the previous message."
            )
        if pending - answered:
            return (
                f"messages.{index}: `tool_use` ids were found without `tool_result` blocks "
                f"immediately after: {', '.join(sorted(pending - answered))}. Each `tool_use` "
                "block must have a corresponding `tool_result` block in the next message."
            )
        pending = {str(b.get("id")) for b in blocks if b.get("type") == "tool_use"}
    return None


def _events(answer: Answer, message: dict[str, Any], usage: dict[str, Any]) -> Iterator[bytes]:
    def event(kind: str, data: dict[str, Any]) -> bytes:
        return f"event: {kind}\ndata: {json.dumps({'type': kind, **data})}\n\n".encode()

    start_usage = {**usage, "output_tokens": 1}
    start = {**message, "content": [], "stop_reason": None, "usage": start_usage}
    yield event("message_start", {"message": start})
    yield event("ping", {})
    index = 0
    text = answer.text + (answer.refusal or "")
    if text:
        block = {"type": "text", "text": ""}
        yield event("content_block_start", {"index": 0, "content_block": block})
        for piece in pieces(text):
            yield event(
                "content_block_delta",
                {"index": 0, "delta": {"type": "text_delta", "text": piece}},
            )
        yield event("content_block_stop", {"index": 0})
        index = 1
    for offset, call in enumerate(answer.calls, start=index):
        tool_block: dict[str, Any] = {"type": "tool_use", "id": call.id, "name": call.name}
        tool_block["input"] = {}
        yield event("content_block_start", {"index": offset, "content_block": tool_block})
        for piece in pieces(call.raw_arguments):
            json_delta = {"type": "input_json_delta", "partial_json": piece}
            yield event("content_block_delta", {"index": offset, "delta": json_delta})
        yield event("content_block_stop", {"index": offset})
    final: dict[str, Any] = {"stop_reason": answer.stop, "stop_sequence": None}
    yield event("message_delta", {"delta": final, "usage": usage})
    yield event("message_stop", {})
