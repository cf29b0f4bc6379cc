"""A task run: one worker on the task's branch, then its pull request.

Workflow ids are idempotency keys: `task:<repo>#<issue>` for the first run, with a suffix for a
retry or a follow-up (a redirect with no agent running, a review asking for changes). A replay
never opens a second pull request: the pull request step finds the open one for the branch.
"""

from __future__ import annotations

import logging

from dbos import DBOS, SetEnqueueOptions, SetWorkflowID

from app.flows import steps
from app.flows.budget import budget_check
from app.flows.render import pr_body
from app.github import ops
from app.github.ops import RepoRef
from app.repo_config import RepoConfig
from app.runtime import current
from app.workspace.worktree import Identity

log = logging.getLogger(__name__)

GOAL_TOPIC = "goal"


def task_workflow_id(repo: str, number: int, tag: str = "") -> str:
    return f"task:{repo}#{number}" + (f":{tag}" if tag else "")


@DBOS.step(name="github.task_text")
async def task_text(installation_id: int, repo: str, number: int) -> str:
    ref = RepoRef.parse(repo)
    issue = (
        await current()
        .github.installation(installation_id)
        .rest.issues.async_get(ref.owner, ref.name, number)
    ).parsed_data
    return f"{issue.title} (#{number})\n\n{issue.body or ''}"


@DBOS.step(name="agent.worker")
async def work(
    installation_id: int,
    repo: str,
    number: int,
    branch: str,
    text: str,
    config: dict[str, object],
    token_budget: int,
    run_name: str,
) -> dict[str, object]:
    from app.flows.work import run_worker

    runtime = current()
    identity = await runtime.github.identity()
    report = await run_worker(
        runtime,
        installation_id=installation_id,
        repo=repo,
        number=number,
        branch=branch,
        task_text=text,
        config=RepoConfig.model_validate(config),
        token_budget=token_budget,
        author=Identity.bot(identity.slug, runtime.settings.github_app_id),
        run_name=run_name,
    )
    return report.as_dict()


@DBOS.step(name="github.pull_request", retries_allowed=True, max_attempts=3)
async def open_pull_request(
    installation_id: int, repo: str, number: int, branch: str, report: dict[str, object]
) -> dict[str, object]:
    runtime = current()
    task = await runtime.store.task(repo, number)
    assert task is not None
    gh = runtime.github.installation(installation_id)
    ref = RepoRef.parse(repo)
    info = await ops.repo_info(gh, ref)
    body = pr_body(
        task,
        summary=str(report["summary"]),
        commands=list(report["commands"]),  # type: ignore[call-overload]
        agent=str(report["agent"]),
        model=str(report["model"]),
        tokens=task.tokens,
        cost_usd=task.cost_usd,
        outcome=str(report["status"]),
    )
    pr = await ops.open_pull_request(
        gh, ref, head=branch, base=info.default_branch, title=task.title, body=body
    )
    return {"number": pr.number, "head_sha": pr.head_sha}


@DBOS.step(name="store.task_update")
async def update_task(repo: str, number: int, values: dict[str, object]) -> None:
    await current().store.update_task(repo, number, **values)


@DBOS.step(name="store.task_usage")
async def add_usage(repo: str, number: int, tokens: int, cost_usd: float) -> None:
    await current().store.add_task_usage(repo, number, tokens, cost_usd)


@DBOS.workflow(name="task")
async def task_workflow(
    installation_id: int,
    repo: str,
    number: int,
    goal_workflow: str,
    config: dict[str, object],
    instructions: str = "",
    requested_by: str = "",
) -> str:
    """Run a worker for the task (with `instructions` for a follow-up) and open its PR."""
    task = await steps.load_task(repo, number)
    left, why = await budget_check(repo, int(task["goal_number"]), config)  # type: ignore[call-overload]
    if left <= 0:
        await update_task(repo, number, {"state": "budget_exhausted", "note": why})
        return await _finish(installation_id, repo, task, goal_workflow, "budget_exhausted")
    await update_task(repo, number, {"state": "working", "note": ""})
    await steps.refresh_status(installation_id, repo, task["goal_number"])  # type: ignore[arg-type]
    text = await task_text(installation_id, repo, number)
    if instructions:
        text += f"\n\n## Follow-up from @{requested_by}\n{instructions}"
    run_name = (DBOS.workflow_id or f"task-{number}").replace("/", "_").replace(":", "_")
    try:
        report = await work(
            installation_id, repo, number, str(task["branch"]), text, config, left, run_name
        )
    except Exception as exc:  # recorded by DBOS: a replay takes this same path
        log.exception("task %s#%s: the worker failed", repo, number)
        await update_task(repo, number, {"state": "failed", "note": f"worker error: {exc}"})
        return await _finish(installation_id, repo, task, goal_workflow, "failed")
    await add_usage(repo, number, int(report["tokens"]), float(report["cost_usd"]))  # type: ignore[call-overload]
    note = _note(report)
    if report["pushed"]:
        pr = await open_pull_request(installation_id, repo, number, str(task["branch"]), report)
        await update_task(
            repo,
            number,
            {"state": "pr_open", "pr_number": pr["number"], "head_sha": pr["head_sha"],
             "agent": report["agent"], "ci": "", "note": note},
        )  # fmt: skip
        state = "pr_open"
    else:
        state = {"cancelled": "stopped", "budget_exhausted": "budget_exhausted"}.get(
            str(report["status"]), "failed"
        )
        if task.get("pr_number") and state == "failed":
            state = "pr_open"  # a follow-up that changed nothing leaves the PR as it was
        await update_task(repo, number, {"state": state, "agent": report["agent"], "note": note})
    return await _finish(installation_id, repo, task, goal_workflow, state)


def _note(report: dict[str, object]) -> str:
    notes = []
    if report["status"] != "finished":
        notes.append(f"{report['status']}: {report['reason']}")
    if not report["pushed"]:
        notes.append("no change was pushed")
    if report.get("protected_refused"):
        notes.append(f"protected paths left unchanged: {report['protected_refused']}")
    return "; ".join(notes)


async def _finish(
    installation_id: int, repo: str, task: dict[str, object], goal_workflow: str, state: str
) -> str:
    goal_number = int(task["goal_number"])  # type: ignore[call-overload]
    await steps.refresh_status(installation_id, repo, goal_number)
    if goal_workflow:
        await DBOS.send_async(goal_workflow, {"kind": "task", "number": task["number"]}, GOAL_TOPIC)
    return state


async def enqueue_task(
    installation_id: int,
    repo: str,
    number: int,
    goal_workflow: str,
    config: dict[str, object],
    workflow_id: str,
    *,
    instructions: str = "",
    requested_by: str = "",
) -> str:
    """Queue a run; the same id twice (a replay, a redelivery) joins the first."""
    runtime = current()
    assert runtime.agents is not None
    with SetWorkflowID(workflow_id), SetEnqueueOptions(queue_partition_key=str(installation_id)):
        await runtime.agents.enqueue_async(
            task_workflow, installation_id, repo, number, goal_workflow, config,
            instructions, requested_by,
        )  # fmt: skip
    return workflow_id
