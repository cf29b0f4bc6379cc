"""One agent run in one worktree: model, sandbox, tools, prompts, inbox and transcript wired.

The orchestrator's flows call this; it knows nothing of GitHub or DBOS. A durable inbox reads
the messages a maintainer's `/swarm …` comment left for this task in the store.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from app.agent.inbox import InboxMessage
from app.agent.loop import Agent, AgentConfig, AgentOutcome, Supervisor
from app.agent.prompts import Role, read_repo_guidance, system_prompt, task_message
from app.agent.toolbox import Toolbox
from app.agent.tools import WorkspaceTools
from app.agent.transcript import Transcript
from app.llm.base import ProviderModel
from app.llm.factory import make_model
from app.repo_config import AgentLimits
from app.sandbox.factory import make_sandbox
from app.sandbox.settings import SandboxSettings
from app.store import Store

log = logging.getLogger(__name__)


class StoreInbox:
    """The messages waiting in the store for one target (e.g. `task:owner/repo#12`)."""

    def __init__(self, store: Store, target: str) -> None:
        self.store = store
        self.target = target

    async def drain(self) -> list[InboxMessage]:
        taken = await self.store.take_messages(self.target)
        return [
            InboxMessage(text=text, sender=sender, kind="stop" if kind == "stop" else "message")
            for sender, kind, text in taken
        ]


@dataclass
class SessionResult:
    outcome: AgentOutcome
    agent: str
    model: str
    commands: list[str] = field(default_factory=list)  # what the agent ran, in order

    @property
    def tokens(self) -> int:
        usage = self.outcome.usage
        return usage.input_tokens + usage.output_tokens


async def run_session(
    *,
    role: Role,
    agent_name: str,
    worktree: Path,
    task: str,
    model: ProviderModel | str,
    transcript_path: Path,
    inbox: StoreInbox,
    limits: AgentLimits,
    token_budget: int,
    protected: list[str],
    sandbox_settings: SandboxSettings | None = None,
    tools: Callable[[WorkspaceTools], Toolbox] | None = None,
    resume_summary: str | None = None,
    supervisor: Supervisor | None = None,
) -> SessionResult:
    """Run the agent to an outcome (finished, budget, refused, cancelled or error).
    `supervisor` saves checkpoints between steps and reviews the work when it finishes."""
    llm = make_model(model) if isinstance(model, str) else model
    sandbox = make_sandbox(
        worktree, sandbox_settings, default_timeout_s=limits.command_timeout_seconds
    )
    workspace = WorkspaceTools(
        worktree,
        sandbox,
        read_only=role == "planner",
        command_timeout_s=limits.command_timeout_seconds,
        protected=[".git/**", ".git", *protected],
    )
    toolbox = tools(workspace) if tools else workspace
    agent = Agent(
        name=agent_name,
        role=role,
        model=llm,
        tools=toolbox,
        system_prompt=system_prompt(role, agent_name, read_repo_guidance(worktree)),
        inbox=inbox,
        transcript=Transcript(transcript_path),
        config=AgentConfig(
            max_turns=limits.max_turns,
            max_seconds=limits.max_minutes * 60,
            max_tokens_total=max(1, token_budget),
        ),
        supervisor=supervisor,
    )
    try:
        outcome = await agent.run(task_message(task, resume_summary=resume_summary))
    finally:
        agent.transcript.close()
        if isinstance(model, str):  # we made the client, so we close its connections
            await llm.aclose()
    # The digest covers the whole run; the history may have been compacted.
    commands = list(agent.work.commands)
    return SessionResult(outcome=outcome, agent=agent_name, model=llm.name, commands=commands)
