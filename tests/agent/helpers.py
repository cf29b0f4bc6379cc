"""Building an agent for the loop's tests, and checks every request must pass."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from app.agent.inbox import MemoryInbox
from app.agent.loop import Agent, AgentConfig
from app.agent.toolbox import Toolbox
from app.agent.transcript import Transcript
from app.llm.types import Message
from tests.agent.scripted import ScriptedModel

SYSTEM = "You are a test agent."


def make_agent(
    model: ScriptedModel,
    tools: Toolbox,
    tmp_path: Path,
    *,
    inbox: MemoryInbox | None = None,
    clock: Callable[[], float] = time.monotonic,
    **config: object,
) -> Agent:
    return Agent(
        name="amber-otter-worker",
        role="worker",
        model=model,
        tools=tools,
        system_prompt=SYSTEM,
        inbox=inbox or MemoryInbox(),
        transcript=Transcript(tmp_path / "transcript.jsonl"),
        clock=clock,
        config=AgentConfig(**config),  # type: ignore[arg-type]
    )


def assert_paired(messages: list[Message]) -> None:
    """Every tool call is answered right after its assistant message, and nothing else is."""
    pending: list[str] = []
    for message in messages:
        if message.role == "tool":
            assert message.tool_call_id in pending, f"orphan tool result {message.tool_call_id}"
            pending.remove(message.tool_call_id)
            continue
        assert not pending, f"tool calls left unanswered: {pending}"
        if message.role == "assistant":
            pending = [call.id for call in message.tool_calls]
    assert not pending, f"tool calls left unanswered: {pending}"
