"""The goal: one workflow per labelled issue, id `goal:<owner/repo>#<number>`.

It plans (a planner agent, queued like every agent), creates one sub-issue per task, then
schedules: each task whose dependencies have their pull requests open is queued for a worker,
within the repository's `max_agents`. Task runs wake it with a DBOS message when they end;
maintainers' commands (`/swarm go`, `stop`, `retry`) reach it the same way. Starting it twice
(a second label, a redelivery) joins the running one.
"""

from __future__ import annotations

import logging

from dbos import DBOS, SetEnqueueOptions, SetWorkflowID

from app.flows import steps
from app.flows.budget import budget_check
from app.flows.render import plan_comment, task_issue_body, task_marker_key
from app.flows.task import GOAL_TOPIC, enqueue_task, task_workflow_id
from app.flows.work import PlanResult, run_planner
from app.github import ops
from app.github.ops import RepoRef, marker
from app.repo_config import CONFIG_PATH, RepoConfig, RepoConfigError, parse_repo_config
from app.roles.plan import PlanTask
from app.runtime import current
from app.store import ACTIVE_STATES, Task
from app.workspace.worktree import branch_name

log = logging.getLogger(__name__)

WAITED_FOR = ACTIVE_STATES | {"subgoal"}  # the goal waits for these to end
LANDED_ENOUGH = {"pr_open", "done"}  # until the merge gate exists, an open PR unblocks
WAIT_FOR_GO_SECONDS = 14 * 24 * 3600
WAKE_SECONDS = 300  # re-check state now and then even if a message was lost


def goal_workflow_id(repo: str, number: int, tag: str = "") -> str:
    return f"goal:{repo}#{number}" + (f":{tag}" if tag else "")


@DBOS.step(name="store.record_goal")
async def record_goal(
    installation_id: int, repo: str, number: int, title: str, requested_by: str, workflow_id: str
) -> None:
    store = current().store
    await store.record_goal(repo, number, installation_id, title, requested_by)
    await store.change_goal(repo, number, workflow_id=workflow_id)


@DBOS.step(name="store.goal_state")
async def set_goal_state(repo: str, number: int, state: str, note: str = "") -> None:
    await current().store.change_goal(repo, number, state=state, note=note)


@DBOS.step(name="store.goal_state_read")
async def goal_state(repo: str, number: int) -> str:
    goal = await current().store.goal(repo, number)
    return goal.state if goal else "missing"


@DBOS.step(name="github.repo_config", retries_allowed=True, max_attempts=3)
async def load_config(installation_id: int, repo: str) -> RepoConfig | str:
    """The repository's config from its default branch, or what is wrong with it."""
    gh = current().github.installation(installation_id)
    ref = RepoRef.parse(repo)
    info = await ops.repo_info(gh, ref)
    text = await ops.file_text(gh, ref, CONFIG_PATH, info.default_branch)
    try:
        return parse_repo_config(text)
    except RepoConfigError as exc:
        return str(exc)


@DBOS.step(name="github.goal_text")
async def goal_text(installation_id: int, repo: str, number: int, feedback: str) -> str:
    """The goal for the planner: the issue (and a maintainer's direction), cleaned and framed."""
    ref = RepoRef.parse(repo)
    gh = current().github.installation(installation_id)
    issue = (await gh.rest.issues.async_get(ref.owner, ref.name, number)).parsed_data
    body = f"{issue.title}\n\n{issue.body or ''}"
    text = f"Goal #{number}, as its issue says:\n\n" + await steps.quote_for_agents(
        repo, number, f"#{number}", "issue", body
    )
    if feedback:
        direction = await steps.quote_for_agents(
            repo, number, f"#{number} (replan)", "comment", feedback
        )
        text += f"\n\n## Maintainer's direction\n{direction}"
    return text


@DBOS.step(name="agent.planner")
async def plan_step(
    installation_id: int, repo: str, number: int, text: str, config: RepoConfig,
    token_budget: int, run_name: str,
) -> PlanResult:  # fmt: skip
    runtime = current()
    result = await run_planner(
        runtime,
        installation_id=installation_id,
        repo=repo,
        number=number,
        goal_text=text,
        config=config,
        token_budget=token_budget,
        run_name=run_name,
    )
    await runtime.store.add_goal_usage(repo, number, result.report.tokens, result.report.cost_usd)
    return result


@DBOS.workflow(name="planner")
async def planner_workflow(
    installation_id: int, repo: str, number: int, config: RepoConfig, feedback: str
) -> PlanResult | str:
    """The planner as its own queued workflow, so that it counts against agent capacity.
    Returns the plan and its run, or why no planner ran (a spent budget)."""
    left, why = await budget_check(repo, number, config.budgets)
    if left <= 0:
        return why
    text = await goal_text(installation_id, repo, number, feedback)
    run_name = (DBOS.workflow_id or f"plan-{number}").replace("/", "_").replace(":", "_")
    return await plan_step(installation_id, repo, number, text, config, left, run_name)


@DBOS.step(name="github.create_task", retries_allowed=True, max_attempts=3)
async def create_task(
    installation_id: int, repo: str, goal_number: int, planned: PlanTask, dependencies: list[int]
) -> int:
    """The task's sub-issue: found by its marker if a replay made it already, else created."""
    runtime = current()
    gh = runtime.github.installation(installation_id)
    ref = RepoRef.parse(repo)
    tag = marker("task", task_marker_key(goal_number, planned.key))
    number = await ops.find_issue_by_marker(gh, ref, "swarm:task", tag)
    if number is None:
        body = task_issue_body(goal_number, planned, dependencies)
        number, _ = await ops.create_issue(gh, ref, planned.title, body, ["swarm:task"])
    await ops.ensure_sub_issue(gh, ref, goal_number, number)
    await runtime.store.upsert_task(
        Task(
            repo=repo,
            number=number,
            goal_number=goal_number,
            key=planned.key,
            title=planned.title,
            depends_on=dependencies,
            state="planned",
            branch=branch_name(number, planned.title),
        )
    )
    return number


@DBOS.step(name="store.tasks")
async def load_tasks(repo: str, goal_number: int) -> list[Task]:
    return await current().store.tasks_of(repo, goal_number)


@DBOS.step(name="store.active_in_repo")
async def active_in_repo(repo: str) -> int:
    return sum(t.state in ACTIVE_STATES for t in await current().store.tasks_of(repo))


@DBOS.workflow(name="goal")
async def goal_workflow(
    installation_id: int, repo: str, number: int, title: str, requested_by: str,
    plan_only: bool, replan: str = "", resume: bool = False, depth: int = 1, parent: str = "",
) -> str:  # fmt: skip
    """Plan, create, schedule. `depth` > 1 marks a sub-goal, a task too big for one worker,
    planned on its own; it reports to its `parent` goal's workflow when it ends."""
    me = DBOS.workflow_id or goal_workflow_id(repo, number)
    try:
        state = await _run_goal(
            installation_id, repo, number, title, requested_by, plan_only, replan, resume,
            depth, me,
        )  # fmt: skip
    except Exception as exc:  # GitHub down past every retry, a bug: the goal says so
        log.exception("goal %s#%s failed", repo, number)
        state = "failed"
        await set_goal_state(repo, number, state, f"Failed: {exc}. `/swarm retry` to go on.")
        await steps.refresh_status(installation_id, repo, number)
    if parent:
        await finish_subgoal(repo, number, state)
        await DBOS.send_async(parent, {"kind": "task", "number": number}, GOAL_TOPIC)
    return state


@DBOS.step(name="store.finish_subgoal")
async def finish_subgoal(repo: str, number: int, state: str) -> None:
    """The parent's task row for a sub-goal follows the sub-goal's outcome."""
    done = state == "prs_open"
    await current().store.update_task(
        repo, number, state="pr_open" if done else "failed",
        note="" if done else f"its sub-goal ended {state.replace('_', ' ')}",
    )  # fmt: skip


async def _run_goal(
    installation_id: int, repo: str, number: int, title: str, requested_by: str,
    plan_only: bool, replan: str, resume: bool, depth: int, me: str,
) -> str:  # fmt: skip
    await record_goal(installation_id, repo, number, title, requested_by, me)
    config = await load_config(installation_id, repo)
    if isinstance(config, str):
        note = f"{config}. Fix `{CONFIG_PATH}` on the default branch, then `/swarm retry`."
        await set_goal_state(repo, number, "invalid_config", note)
        await steps.refresh_status(installation_id, repo, number)
        return "invalid_config"

    if not resume:
        created = await _plan(installation_id, repo, number, config, plan_only, replan, depth)
        if created is not None:
            return created
    return await _schedule(installation_id, repo, number, config, me)


async def _plan(
    installation_id: int, repo: str, number: int, config: RepoConfig, plan_only: bool,
    feedback: str, depth: int,
) -> str | None:  # fmt: skip
    """Plan and create the tasks; a final state when the goal ends here, else None."""
    await set_goal_state(repo, number, "planning")
    await steps.refresh_status(installation_id, repo, number)
    runtime = current()
    assert runtime.agents is not None
    planner_id = f"{DBOS.workflow_id}:planner"
    with SetWorkflowID(planner_id), SetEnqueueOptions(queue_partition_key=str(installation_id)):
        handle = await runtime.agents.enqueue_async(
            planner_workflow, installation_id, repo, number, config, feedback
        )
    try:
        result: PlanResult | str = await handle.get_result()
    except Exception as exc:  # a model that cannot be reached, a crash: say so on the goal
        log.exception("goal %s#%s: the planner failed", repo, number)
        note = f"The planner failed: {exc}. Fix it, then `/swarm retry`."
        await set_goal_state(repo, number, "failed", note)
        await steps.refresh_status(installation_id, repo, number)
        return "failed"
    plan = None if isinstance(result, str) else result.plan
    if plan is None:
        if isinstance(result, str):
            state, why = "budget_exhausted", result
        else:
            state = "budget_exhausted" if result.report.status == "budget_exhausted" else "failed"
            why = result.report.reason or "the planner did not hand in a valid plan"
        await set_goal_state(repo, number, state, f"No plan: {why}. `/swarm retry` to try again.")
        await steps.refresh_status(installation_id, repo, number)
        return state
    if plan_only:
        await steps.comment(installation_id, repo, number, "plan", str(number), plan_comment(plan))
        await set_goal_state(repo, number, "awaiting_go", "The plan is posted: `/swarm go`.")
        await steps.refresh_status(installation_id, repo, number)
        if not await _wait_for_go(repo, number):
            return "stopped"
    numbers: dict[str, int] = {}
    for task in plan.ordered():
        dependencies = [numbers[key] for key in task.depends_on]
        numbers[task.key] = await create_task(installation_id, repo, number, task, dependencies)
    await set_goal_state(repo, number, "working")
    for task in plan.ordered():
        if task.too_big and depth < config.plan_depth and not task.depends_on:
            await _start_subgoal(installation_id, repo, numbers[task.key], task.title, depth)
    return None


async def _start_subgoal(
    installation_id: int, repo: str, number: int, title: str, depth: int
) -> None:
    """A task too big for one worker is planned on its own, one level deeper."""
    await steps.update_task_state(repo, number, "subgoal", goal_workflow_id(repo, number))
    with SetWorkflowID(goal_workflow_id(repo, number)):
        await DBOS.start_workflow_async(
            goal_workflow, installation_id, repo, number, title, "swarm", False, "", False,
            depth + 1, DBOS.workflow_id or "",
        )  # fmt: skip


async def _wait_for_go(repo: str, number: int) -> bool:
    await DBOS.set_event_async("waiting", "go")
    while True:
        message = await DBOS.recv_async(GOAL_TOPIC, timeout_seconds=WAIT_FOR_GO_SECONDS)
        if message is None or message.get("kind") == "stop":
            await set_goal_state(repo, number, "stopped", "Stopped before the plan started.")
            await DBOS.set_event_async("waiting", "")
            return False
        if message.get("kind") == "go":
            await DBOS.set_event_async("waiting", "")
            return True


async def _schedule(
    installation_id: int, repo: str, number: int, config: RepoConfig, me: str
) -> str:
    """Queue every ready task within the limits; wake on each task's end; stop when none is left."""
    while True:
        if await goal_state(repo, number) == "stopped":
            await steps.refresh_status(installation_id, repo, number)
            return "stopped"
        tasks = await load_tasks(repo, number)
        states = {t.number: t.state for t in tasks}
        ready = [
            t for t in tasks
            if t.state == "planned" and all(states.get(d) in LANDED_ENOUGH for d in t.depends_on)
        ]  # fmt: skip
        active = [t for t in tasks if t.state in WAITED_FOR]
        if ready:
            left, why = await budget_check(repo, number, config.budgets)
            if left <= 0:
                await set_goal_state(
                    repo, number, "budget_exhausted",
                    f"Stopped: {why}. Raise it in `{CONFIG_PATH}`, then `/swarm retry`.",
                )  # fmt: skip
                await steps.refresh_status(installation_id, repo, number)
                return "budget_exhausted"
            slots = config.max_agents - await active_in_repo(repo)
            for task in ready[: max(0, slots)]:
                # A retried goal's runs carry its tag, so they are new runs, not the old ones.
                tag = me.removeprefix(goal_workflow_id(repo, number)).lstrip(":")
                run = task_workflow_id(repo, task.number, tag)
                await steps.update_task_state(repo, task.number, "queued", run)
                await enqueue_task(installation_id, repo, task.number, me, config, run)
            active += ready[: max(0, slots)]
        await steps.refresh_status(installation_id, repo, number)
        if not active and not ready:
            break
        await DBOS.recv_async(GOAL_TOPIC, timeout_seconds=WAKE_SECONDS)

    tasks = await load_tasks(repo, number)
    waiting = [f"#{t.number} ({t.state})" for t in tasks if t.state not in LANDED_ENOUGH]
    if not waiting:
        state, note = "prs_open", "Every task has its pull request."
    elif any(t.state == "budget_exhausted" for t in tasks):
        _, why = await budget_check(repo, number, config.budgets)
        why = why or "an agent spent its share of the budget"
        state = "budget_exhausted"
        note = f"Stopped: {why}. Raise it in `{CONFIG_PATH}`, then `/swarm retry`."
    else:
        state, note = "incomplete", f"Not done: {', '.join(waiting)}. `/swarm retry` to go on."
    await set_goal_state(repo, number, state, note)
    await steps.refresh_status(installation_id, repo, number)
    return state


async def start_goal(
    *, installation_id: int, repo: str, number: int, title: str, requested_by: str,
    plan_only: bool, tag: str = "", replan: str = "", resume: bool = False,
) -> str:  # fmt: skip
    workflow_id = goal_workflow_id(repo, number, tag)
    with SetWorkflowID(workflow_id):
        await DBOS.start_workflow_async(
            goal_workflow, installation_id, repo, number, title, requested_by, plan_only,
            replan, resume,
        )  # fmt: skip
    return workflow_id
