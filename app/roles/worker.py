"""The worker: changes its worktree until the task is done, with the repository's tests to run.
Its product is the change on disk (the flow commits and pushes it) and the run's outcome."""

from __future__ import annotations

from dataclasses import replace

from app.agent.names import agent_name
from app.agent.session import Session, SessionResult, run_session
from app.roles.prompts import role_prompt

PROMPT = role_prompt("worker")


def worker_name(repo: str, number: int) -> str:
    """The name of every worker on task `repo#number`: the same in each run, so the status
    comment names it from the moment the task starts."""
    return agent_name(f"{repo}#{number}", "worker")


def with_test_command(task_text: str, test_command: str | None) -> str:
    """The task, and how the repository's maintainers run its tests (`.github/swarm.yml`)."""
    if not test_command:
        return task_text
    return (
        f"{task_text}\n\n## Tests\nThis repository's tests run with `{test_command}` "
        "(from its `.github/swarm.yml`): run it before you finish, and leave it passing."
    )


async def work(
    session: Session, task_text: str, *, test_command: str | None = None,
    resume_summary: str | None = None,
) -> SessionResult:  # fmt: skip
    """Run the worker in `session` (its role and prompt are set here)."""
    worker = replace(session, role="worker", prompt=PROMPT)
    return await run_session(worker, with_test_command(task_text, test_command), resume_summary)
