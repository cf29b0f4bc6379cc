"""A task run: one worker on the task's branch, then its pull request.

Workflow ids are idempotency keys: `task:<repo>#<issue>` for the first run, with a suffix for a
retry or a follow-up (a redirect with no agent running, a review asking for changes). A replay
never opens a second pull request: the pull request step finds the open one for the branch.
Steps hand typed records to each other (DBOS stores them as they are).
"""

from __future__ import annotations

import logging
from typing import Any

from dbos import DBOS, SetEnqueueOptions, SetWorkflowID

from app.domain.addresses import GOAL_TOPIC, GoalMessage, run_name
from app.domain.refs import RepoRef
from app.domain.states import TaskState
from app.flows import steps
from app.flows.budget import budget_check
from app.flows.render import pr_body
from app.flows.transitions import move_task
from app.flows.work import RunReport, work_on_task
from app.github import ops
from app.github.ops import PullRequestRef
from app.repo_config import RepoConfig
from app.roles.worker import worker_name
from app.runtime import current
from app.store import Task
from app.workspace.worktree import Identity

log = logging.getLogger(__name__)

# What a run that pushed nothing leaves the task as, by the agent's outcome.
UNPUSHED_STATE = {"cancelled": TaskState.STOPPED, "budget_exhausted": TaskState.BUDGET_EXHAUSTED}


@DBOS.step(name="github.task_text")
async def task_text(installation_id: int, task: Task, instructions: str, requested_by: str) -> str:
    """The task for the worker: its issue (and a follow-up's instructions), cleaned and framed."""
    ref = RepoRef.parse(task.repo)
    gh = current().github.installation(installation_id)
    issue = (await gh.rest.issues.async_get(ref.owner, ref.name, task.number)).parsed_data
    body = f"{issue.title} (#{task.number})\n\n{issue.body or ''}"
    source = f"#{task.number}"
    text = await steps.quote_for_agents(task.repo, task.goal_number, source, "issue", body)
    if instructions:
        follow_up = await steps.quote_for_agents(
            task.repo, task.goal_number, f"{source} (from @{requested_by})", "comment",
            instructions,
        )  # fmt: skip
        text += f"\n\n## Follow-up from @{requested_by}\n{follow_up}"
    return text


@DBOS.step(name="agent.worker")
async def work(
    installation_id: int, task: Task, text: str, config: RepoConfig, token_budget: int,
    run_name: str, merge_base: str = "",
) -> RunReport:  # fmt: skip
    runtime = current()
    identity = await runtime.github.identity()
    return await work_on_task(
        runtime,
        installation_id=installation_id,
        repo=task.repo,
        number=task.number,
        branch=task.branch,
        task_text=text,
        title=task.title,
        config=config,
        token_budget=token_budget,
        author=Identity.bot(identity.slug, runtime.settings.github_app_id),
        run_name=run_name,
        merge_from=merge_base,
    )


@DBOS.step(name="github.pull_request", retries_allowed=True, max_attempts=3)
async def open_pull_request(installation_id: int, task: Task, report: RunReport) -> PullRequestRef:
    runtime = current()
    spent = await runtime.store.task(task.repo, task.number) or task  # usage so far, this run's too
    gh = runtime.github.installation(installation_id)
    ref = RepoRef.parse(task.repo)
    info = await ops.repo_info(gh, ref)
    body = pr_body(
        task,
        summary=report.summary,
        commands=report.commands,
        agent=report.agent,
        model=report.model,
        tokens=spent.tokens,
        cost_usd=spent.cost_usd,
        outcome=report.status,
        left_out=report.left_out,
    )
    return await ops.open_pull_request(
        gh, ref, head=task.branch, base=info.default_branch, title=task.title, body=body
    )


@DBOS.workflow(name="task")
async def task_workflow(
    installation_id: int, repo: str, number: int, goal_workflow: str, config: RepoConfig,
    instructions: str = "", requested_by: str = "", merge_base: str = "",
) -> TaskState:  # fmt: skip
    """Run a worker for the task (with `instructions` for a follow-up; `merge_base`: the base
    to merge in and resolve, for a conflict), open its PR, and start its merge gate."""
    task = await steps.load_task(repo, number)

    async def gated(state: TaskState, pr_number: int, head: str) -> TaskState:
        """The pull request goes to its merge gate (one per head: joined if it runs)."""
        if state == TaskState.PR_OPEN:
            # Imported here: the gate hands tasks back through this module.
            from app.flows.gate import start_gate, wake_gate
            from app.flows.gate_steps import GateStart

            if task.gate and head != task.head_sha:  # the old head's gate ends at once
                await wake_gate(task.gate, "moved", head)

            start = GateStart(
                installation_id, repo, number, pr_number, head, task.title, task.branch
            )
            # After a hand-back that changed nothing, the same head is gated again (and handed
            # back again, within the bound): the round tells the two gates apart.
            await start_gate(start, f"r{task.rounds}" if task.rounds else "")
        return state

    async def end(state: TaskState, **values: Any) -> TaskState:
        moved = await move_task(installation_id, repo, number, state, **values)
        if goal_workflow:
            message = GoalMessage("task_ended", number).as_dict()
            await DBOS.send_async(goal_workflow, message, GOAL_TOPIC)
        return moved.state

    left, why = await budget_check(repo, task.goal_number, config.budgets)
    if left <= 0:
        return await end(TaskState.BUDGET_EXHAUSTED, note=why)
    name = worker_name(repo, number)
    started = await move_task(installation_id, repo, number, TaskState.WORKING, note="", agent=name)
    if started.state != TaskState.WORKING:  # stopped while it waited in the queue
        return await end(started.state)
    text = await task_text(installation_id, task, instructions, requested_by)
    try:
        report = await work(
            installation_id, task, text, config, left, run_name(DBOS.workflow_id or ""),
            merge_base,
        )  # fmt: skip
    except Exception as exc:  # recorded by DBOS: a replay takes this same path
        log.exception("task %s#%s: the worker failed", repo, number)
        return await end(TaskState.FAILED, note=f"worker error: {exc}")
    values: dict[str, Any] = {"agent": report.agent, "note": report.note()}
    if report.pushed:
        try:
            pr = await open_pull_request(installation_id, task, report)
        except Exception as exc:  # the branch is pushed: a retry opens the pull request
            return await end(TaskState.FAILED, note=f"no pull request: {exc}")
        values.update(pr_number=pr.number, head_sha=pr.head_sha)
        if pr.head_sha != task.head_sha:
            values["ci"] = ""  # a new head: its checks are still to come
        return await gated(await end(TaskState.PR_OPEN, **values), pr.number, pr.head_sha)
    if task.pr_number:  # a follow-up that changed nothing leaves the PR as it was
        state = await end(TaskState.PR_OPEN, **values)
        return await gated(state, task.pr_number, task.head_sha)
    return await end(UNPUSHED_STATE.get(report.status, TaskState.FAILED), **values)


async def enqueue_task(
    installation_id: int, repo: str, number: int, goal_workflow: str, config: RepoConfig,
    workflow_id: str, *, instructions: str = "", requested_by: str = "", merge_base: str = "",
) -> str:  # fmt: skip
    """Queue a run; the same id twice (a replay, a redelivery) joins the first."""
    runtime = current()
    assert runtime.agents is not None
    with SetWorkflowID(workflow_id), SetEnqueueOptions(queue_partition_key=str(installation_id)):
        await runtime.agents.enqueue_async(
            task_workflow, installation_id, repo, number, goal_workflow, config,
            instructions, requested_by, merge_base,
        )  # fmt: skip
    return workflow_id
