"""One agent run in one worktree, for every role and for `swarm agent run`: the model, the
sandbox, the workspace tools (and a role's own on top), the prompts, the inbox and the transcript,
wired around the loop. It knows nothing of GitHub, DBOS or the store: a role says what its agent
is for (`app.roles`), a flow says where its work goes (`app.flows`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from app.agent.inbox import Inbox
from app.agent.loop import Agent, AgentConfig, AgentOutcome, Supervisor
from app.agent.prompts import Role, read_repo_guidance, system_prompt, task_message
from app.agent.toolbox import Toolbox
from app.agent.tools import WorkspaceTools
from app.agent.transcript import Record, Transcript
from app.llm.base import ProviderModel
from app.llm.factory import make_model
from app.sandbox.factory import make_sandbox
from app.sandbox.settings import SandboxSettings

# The roles whose file tools are read-only, and whether each may still run commands: the planner
# only reads; the judge and the goal's checker read and run the tests (in a worktree nobody
# commits from).
READ_ONLY_ROLES: dict[Role, bool] = {"planner": False, "judge": True, "checker": True}


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


@dataclass
class Session:
    """Who runs, where, on what, and within which limits."""

    agent_name: str
    worktree: Path
    model: ProviderModel | str  # a spec ("openai/gpt-5") is made here and closed after the run
    transcript: Path
    inbox: Inbox
    config: AgentConfig
    role: Role = "worker"  # a role module (`app.roles`) sets these two
    prompt: str = ""  # the role's system prompt template
    protected: Sequence[str] = ()  # globs the agent may not write, beyond `.git`
    command_timeout_s: float = 600
    sandbox_settings: SandboxSettings | None = None
    # A role's own tools (the planner's `submit_plan`) on top of the workspace's.
    tools: Callable[[WorkspaceTools], Toolbox] | None = None
    supervisor: Supervisor | None = None  # checkpoints between steps, a look before finishing
    listener: Callable[[Record], None] | None = None  # sees each transcript record as written


async def run_session(
    session: Session, task: str, resume_summary: str | None = None
) -> SessionResult:
    """Run the agent to an outcome (finished, budget, refused, cancelled or error)."""
    s = session
    if not s.prompt:
        raise ValueError("a session runs a role: start it through app.roles (no prompt given)")
    llm = make_model(s.model) if isinstance(s.model, str) else s.model
    sandbox = make_sandbox(s.worktree, s.sandbox_settings, default_timeout_s=s.command_timeout_s)
    workspace = WorkspaceTools(
        s.worktree,
        sandbox,
        read_only=s.role in READ_ONLY_ROLES,
        allow_commands=READ_ONLY_ROLES.get(s.role, True),
        command_timeout_s=s.command_timeout_s,
        protected=[".git/**", ".git", *s.protected],
    )
    agent = Agent(
        name=s.agent_name,
        role=s.role,
        model=llm,
        tools=s.tools(workspace) if s.tools else workspace,
        system_prompt=system_prompt(s.prompt, s.agent_name, read_repo_guidance(s.worktree)),
        inbox=s.inbox,
        transcript=Transcript(s.transcript, s.listener),
        config=s.config,
        supervisor=s.supervisor,
    )
    try:
        outcome = await agent.run(task_message(task, resume_summary=resume_summary))
    finally:
        agent.transcript.close()
        if isinstance(s.model, str):  # we made the client, so we close its connections
            await llm.aclose()
    # The digest covers the whole run; the history may have been compacted.
    commands = list(agent.work.commands)
    return SessionResult(outcome=outcome, agent=s.agent_name, model=llm.name, commands=commands)
