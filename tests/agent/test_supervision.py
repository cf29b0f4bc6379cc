"""What the orchestrator can say to a running agent between steps, and the run's deadline."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from app.agent.loop import Agent, Supervisor
from app.agent.toolbox import ToolResult
from app.llm.types import ToolSpec
from tests.agent.helpers import make_agent
from tests.agent.scripted import FileToolbox, ScriptedModel, call, reply


class Notes(Supervisor):
    """Says something after the second step; refuses the first finish."""

    def __init__(self) -> None:
        self.steps = 0
        self.reviews = 0

    async def after_step(self, agent: Agent) -> str | None:
        self.steps += 1
        return "[Swarm] a note between steps" if self.steps == 2 else None

    async def review_finish(self, agent: Agent) -> str | None:
        self.reviews += 1
        return "remove the token first" if self.reviews == 1 else None


async def test_notes_reach_the_model_and_a_refused_finish_lets_the_agent_go_on(
    tmp_path: Path,
) -> None:
    model = ScriptedModel([
        reply(call("write_file", path="a.txt", content="a")),
        reply(call("finish", summary="early")),
        reply(call("write_file", path="a.txt", content="fixed")),
        reply(call("finish", summary="done")),
    ])  # fmt: skip
    agent = make_agent(model, FileToolbox(tmp_path), tmp_path)
    agent.supervisor = supervisor = Notes()

    outcome = await agent.run("task")

    assert (outcome.status, outcome.summary) == ("finished", "done")
    assert supervisor.reviews == 2
    third = model.requests[2]  # after the second step: the refused finish, then the note
    assert third[-1].role == "user"
    assert third[-1].content.startswith("[Swarm] a note between steps")
    refused = next(m for m in third if m.role == "tool" and "Not finished" in m.content)
    assert refused.is_error and "remove the token first" in refused.content


class Stubborn(Supervisor):
    async def after_step(self, agent: Agent) -> str | None:
        return None

    async def review_finish(self, agent: Agent) -> str | None:
        return "still holds a credential"


async def test_refusals_are_bounded_so_the_run_ends(tmp_path: Path) -> None:
    model = ScriptedModel([reply(call("finish", summary="done")) for _ in range(5)])
    agent = make_agent(model, FileToolbox(tmp_path), tmp_path)
    agent.supervisor = Stubborn()
    outcome = await agent.run("task")
    assert outcome.status == "finished" and len(model.requests) == 3  # two refused, then ended


class Forever:
    """A tool that never returns (the read of a FIFO once did this)."""

    def specs(self) -> list[ToolSpec]:
        return [ToolSpec("hang", "Never returns.", {"type": "object", "properties": {}})]

    async def call(self, name: str, arguments: dict[str, Any]) -> ToolResult:
        await asyncio.Event().wait()
        raise AssertionError("unreachable")


async def test_a_tool_call_ends_at_the_runs_deadline(tmp_path: Path) -> None:
    model = ScriptedModel([reply(call("hang")), reply(call("finish", summary="never"))])
    agent = make_agent(model, Forever(), tmp_path, max_seconds=0.5)
    outcome = await agent.run("task")
    assert outcome.status == "budget_exhausted"
    assert outcome.reason == "time limit reached during a hang call"
    assert len(model.requests) == 1
    answer = agent.history[-1]
    assert answer.role == "tool" and "time ran out" in answer.content
