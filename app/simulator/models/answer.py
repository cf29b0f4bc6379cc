"""What a turn answers, independent of the wire format: text, calls with ids, stop reason."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal

from app.simulator.models.script import Turn

Stop = Literal["end_turn", "tool_use", "max_tokens", "refusal"]


@dataclass(frozen=True)
class AnswerCall:
    id: str
    name: str
    raw_arguments: str  # the JSON text, truncated when the turn is cut off
    input: Any  # what a non-streamed Anthropic tool_use carries: the arguments as parsed


@dataclass(frozen=True)
class Answer:
    text: str
    calls: tuple[AnswerCall, ...]
    stop: Stop
    refusal: str | None
    output_tokens: int


def plan_answer(turn: Turn, id_prefix: str) -> Answer:
    """`id_prefix` makes the call ids unique per request ("call_0007_" / "toolu_0007_")."""
    calls: list[AnswerCall] = []
    for i, call in enumerate(turn.tool_calls):
        raw = call.raw()
        cut = turn.stop == "max_tokens" and i == len(turn.tool_calls) - 1
        calls.append(
            AnswerCall(
                id=f"{id_prefix}{i}",
                name=call.name,
                raw_arguments=raw[: max(1, len(raw) // 2)] if cut else raw,
                input=_partial_input(call.arguments) if cut else _parsed_input(raw),
            )
        )
    if turn.refusal is not None:
        stop: Stop = "refusal"
    elif turn.stop == "max_tokens":
        stop = "max_tokens"
    else:
        stop = "tool_use" if calls else "end_turn"
    produced = len(turn.text) + len(turn.refusal or "")
    produced += sum(len(c.name) + len(c.raw_arguments) for c in calls)
    return Answer(turn.text, tuple(calls), stop, turn.refusal, max(1, produced // 4))


def _parsed_input(raw: str) -> Any:
    # A malformed call has no parse; the raw text stands in for it.
    try:
        return json.loads(raw)
    except json.JSONDecodeError:
        return raw


def _partial_input(arguments: dict[str, Any] | None) -> dict[str, Any]:
    # The API parses as much of a cut-off call as it can: here, every key but the last.
    items = list((arguments or {}).items())
    return dict(items[:-1])


def pieces(text: str, size: int = 12) -> list[str]:
    """Streamed deltas: several small ones, so a client that keeps only the last one fails."""
    return [text[i : i + size] for i in range(0, len(text), size)]
