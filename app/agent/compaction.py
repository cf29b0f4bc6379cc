"""Keeping a long run's requests inside the context budget.

Compaction rewrites the history only when a request would pass `trigger × budget`, and then
in place, so that between two compactions the history only grows at its end and the provider's
prompt cache keeps hitting the whole stable prefix. It never touches the first messages (system
prompt and task), keeps the latest redirects and the last K turns intact, and works on whole
turns (an assistant message with its tool results), so every tool call keeps its result.

Stages, each tried only when the previous one did not fit:
1. elide the outputs (and long arguments) of tool calls older than the last K turns;
2. replace the middle of the history with one summary message (a short model call when a model
   is given, else a deterministic digest of tool calls and files touched);
3. keep fewer recent turns, then cut the longest remaining outputs down to their head and tail.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field, replace
from typing import Literal

from app.agent.inbox import is_inbox_message
from app.agent.transcript import WorkDigest
from app.llm.types import Message, Model, ModelError, ToolCall, ToolSpec, Usage

CHARS_PER_TOKEN = 4
_MESSAGE_OVERHEAD_CHARS = 16  # role markers and framing each provider adds per message
ELIDED_PREFIX = "[output elided: "
SUMMARY_PREFIX = "[Summary of earlier turns, written to save context. The task above stands.]\n"

SUMMARY_INSTRUCTIONS = (
    "You compress the history of a coding agent's work so that it can go on with less context. "
    "Write at most 250 words of plain facts: what has been done, which files were changed and "
    "how, what was learned (test results, errors), and what remains to do. No advice, no "
    "preamble."
)

Stage = Literal["none", "elide", "summary", "truncate"]


def raw_token_estimate(messages: list[Message], tools: list[ToolSpec]) -> int:
    """Characters / 4 over everything a provider would be sent."""
    chars = sum(len(json.dumps([t.name, t.description, t.parameters])) for t in tools)
    for message in messages:
        chars += len(message.content) + _MESSAGE_OVERHEAD_CHARS
        for call in message.tool_calls:
            chars += len(call.name) + len(call.raw_arguments) + len(call.id)
    return math.ceil(chars / CHARS_PER_TOKEN)


class TokenEstimator:
    """chars/4, scaled by how the provider actually counted the last request."""

    def __init__(self) -> None:
        self.ratio = 1.0

    def estimate(self, messages: list[Message], tools: list[ToolSpec]) -> int:
        return math.ceil(raw_token_estimate(messages, tools) * self.ratio)

    def calibrate(self, messages: list[Message], tools: list[ToolSpec], reported: int) -> None:
        raw = raw_token_estimate(messages, tools)
        if reported > 0 and raw > 0:
            # Clamped: a provider reporting nonsense must not switch compaction off.
            self.ratio = min(4.0, max(0.25, reported / raw))


@dataclass
class CompactionPolicy:
    budget_tokens: int
    trigger: float = 0.8  # compact when a request passes this share of the budget
    keep_turns: int = 6
    keep_redirects: int = 3
    stable_prefix: int = 2  # system prompt and task message: never rewritten
    elide_min_chars: int = 200
    summary_max_tokens: int = 1024

    @property
    def limit(self) -> int:
        return int(self.budget_tokens * self.trigger)


@dataclass
class Compaction:
    messages: list[Message]
    stage: Stage
    tokens_before: int
    tokens_after: int
    usage: Usage = field(default_factory=Usage)
    cost_usd: float = 0.0


def split_turns(body: list[Message]) -> list[list[Message]]:
    """Groups that each start at an assistant message (the first group may not)."""
    turns: list[list[Message]] = []
    for message in body:
        if message.role == "assistant" or not turns:
            turns.append([])
        turns[-1].append(message)
    return turns


def _elide_call(call: ToolCall, min_chars: int) -> ToolCall:
    if len(call.raw_arguments) <= min_chars * 2:
        return call
    args = {
        key: f"[elided: {len(value)} chars]"
        if isinstance(value, str) and len(value) > min_chars
        else value
        for key, value in (call.arguments or {}).items()
    }
    return replace(call, arguments=args, raw_arguments=json.dumps(args))


def elide(message: Message, min_chars: int) -> Message:
    """The message with a long tool output or long call arguments replaced by a stub."""
    long_output = message.role == "tool" and len(message.content) > min_chars
    if long_output and not message.content.startswith(ELIDED_PREFIX):
        return replace(message, content=f"{ELIDED_PREFIX}{len(message.content)} chars]")
    if message.role == "assistant" and message.tool_calls:
        calls = [_elide_call(call, min_chars) for call in message.tool_calls]
        if any(new is not old for new, old in zip(calls, message.tool_calls, strict=True)):
            return replace(message, tool_calls=calls)
    return message


def shrink(message: Message, max_chars: int) -> Message:
    """The last resort: a long message cut down to its head and tail."""
    if message.role == "assistant" and message.tool_calls:
        calls = [_elide_call(call, max_chars // 4) for call in message.tool_calls]
        message = replace(message, tool_calls=calls)
    if message.role == "system" or len(message.content) <= max_chars:
        return message
    half = max_chars // 2
    cut = len(message.content) - 2 * half
    content = f"{message.content[:half]}\n[… {cut} chars cut …]\n{message.content[-half:]}"
    return replace(message, content=content)


def _render_for_summary(messages: list[Message], max_chars: int) -> str:
    lines: list[str] = []
    for message in messages:
        text = message.content[:600]
        calls = "; ".join(f"{c.name}({c.raw_arguments[:200]})" for c in message.tool_calls)
        lines.append(f"{message.role}: {text}" + (f" [calls: {calls}]" if calls else ""))
    rendered = "\n".join(lines)
    return rendered[-max_chars:]  # the latest history matters most


class Compactor:
    """Rewrites an agent's history in place when it outgrows the budget."""

    def __init__(
        self,
        policy: CompactionPolicy,
        estimator: TokenEstimator,
        summarizer: Model | None = None,
    ) -> None:
        self.policy = policy
        self.estimator = estimator
        self.summarizer = summarizer
        self.digest = WorkDigest()  # everything ever folded into a summary

    async def compact(
        self, history: list[Message], tools: list[ToolSpec], *, force: bool = False
    ) -> Compaction:
        p = self.policy
        before = self.estimator.estimate(history, tools)
        if before <= p.limit and not force:
            return Compaction(history, "none", before, before)
        prefix, turns = history[: p.stable_prefix], split_turns(history[p.stable_prefix :])
        old, recent = turns[: -p.keep_turns], turns[-p.keep_turns :]
        elided = [elide(m, p.elide_min_chars) for turn in old for m in turn]
        messages = prefix + elided + [m for turn in recent for m in turn]
        if self._fits(messages, tools) and not force:
            return Compaction(messages, "elide", before, self._size(messages, tools))
        usage, cost = Usage(), 0.0
        middle = [m for turn in old for m in turn]
        self.digest.add(middle)
        summary, usage, cost = await self._summary(prefix, middle)
        messages = self._assemble(prefix, summary, middle, recent)
        stage: Stage = "summary"
        keep = len(recent)
        while not self._fits(messages, tools) and keep > 1:
            keep -= 1  # the oldest kept turn joins the middle; the digest covers it
            self.digest.add(recent[0])
            middle, recent = middle + recent[0], recent[1:]
            messages = self._assemble(prefix, self._digest_text(), middle, recent)
            stage = "truncate"
        cap = 8000
        while not self._fits(messages, tools) and cap >= 250:
            messages = prefix + [shrink(m, cap) for m in messages[len(prefix) :]]
            stage, cap = "truncate", cap // 2
        return Compaction(messages, stage, before, self._size(messages, tools), usage, cost)

    def _size(self, messages: list[Message], tools: list[ToolSpec]) -> int:
        return self.estimator.estimate(messages, tools)

    def _fits(self, messages: list[Message], tools: list[ToolSpec]) -> bool:
        return self._size(messages, tools) <= self.policy.limit

    def _assemble(
        self,
        prefix: list[Message],
        summary: str,
        middle: list[Message],
        recent: list[list[Message]],
    ) -> list[Message]:
        redirects = [m for m in middle if is_inbox_message(m.role, m.content)]
        kept = redirects[-self.policy.keep_redirects :]
        summary_message = Message(role="user", content=SUMMARY_PREFIX + summary)
        return prefix + [summary_message, *kept] + [m for turn in recent for m in turn]

    def _digest_text(self) -> str:
        return self.digest.render()

    async def _summary(
        self, prefix: list[Message], middle: list[Message]
    ) -> tuple[str, Usage, float]:
        if self.summarizer is None:
            return self._digest_text(), Usage(), 0.0
        task = prefix[-1].content[:2000] if prefix else ""
        budget_chars = self.policy.budget_tokens * CHARS_PER_TOKEN // 2
        request = [
            Message(role="system", content=SUMMARY_INSTRUCTIONS),
            Message(
                role="user",
                content=f"Task:\n{task}\n\nHistory:\n{_render_for_summary(middle, budget_chars)}",
            ),
        ]
        try:
            response = await self.summarizer.query(
                request, [], max_tokens=self.policy.summary_max_tokens
            )
        except ModelError:
            return self._digest_text(), Usage(), 0.0  # a digest beats losing the run
        facts = "\n".join(
            line for line in self._digest_text().splitlines() if line.startswith("Files changed")
        )
        text = response.message.content.strip() or self._digest_text()
        return f"{text}\n{facts}".strip(), response.usage, response.cost_usd
