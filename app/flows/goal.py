"""The goal: one workflow per labelled issue, id `goal:<owner/repo>#<number>`.

It plans (a planner agent, queued like every agent), creates one sub-issue per task, then
schedules: each task whose dependencies have landed is queued for a worker, within the
repository's `max_agents`. When every task has landed, the goal's checker (the planner's model)
checks the goal against the base branch: it closes the goal with a summary, or plans what is
left as new sub-issues, which run the same way. Task runs wake it with a DBOS message when they end;
maintainers' commands (`/swarm go`, `stop`, `retry`) reach it the same way. Starting it twice
(a second label, a redelivery) joins the running one.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any, ParamSpec, TypeVar

from dbos import DBOS, SetEnqueueOptions, SetWorkflowID, WorkflowHandleAsync

from app.context import bound
from app.domain.addresses import (
    GOAL_TOPIC,
    GoalMessage,
    check_workflow_id,
    goal_workflow_id,
    planner_workflow_id,
    run_name,
    task_workflow_id,
)
from app.domain.refs import IssueRef, RepoRef
from app.domain.states import (
    ACTIVE_TASK_STATES,
    UNBLOCKING_TASK_STATES,
    GoalState,
    TaskState,
)
from app.flows import steps
from app.flows.budget import budget_check
from app.flows.gate import restart_gate
from app.flows.gate_steps import GateStart
from app.flows.render import (
    GoalCheckSummary,
    goal_summary,
    plan_comment,
    task_issue_body,
    task_marker_key,
)
from app.flows.task import enqueue_task
from app.flows.transitions import move_goal, move_task
from app.flows.work import CheckResult, PlanResult, check_goal, plan_goal
from app.github import ops
from app.github.gate import close_issue
from app.github.ops import marker
from app.repo_config import CONFIG_PATH, RepoConfig
from app.roles.checker import GoalCheck, LandedTask
from app.roles.plan import PlanTask
from app.runtime import current
from app.store import Task
from app.workspace.worktree import branch_name

log = logging.getLogger(__name__)
P = ParamSpec("P")
R = TypeVar("R")

# The goal waits for these to end: agents at work, sub-goals, pull requests in their gate.
WAITED_FOR = ACTIVE_TASK_STATES | {TaskState.SUBGOAL, TaskState.PR_OPEN}
# The states a planning run left its goal in: a move from anything else is a stale writer's.
PLANNING = frozenset({GoalState.PLANNING})
PLANNED = frozenset({GoalState.PLANNING, GoalState.AWAITING_GO})
WORKING = frozenset({GoalState.WORKING})
WAIT_FOR_GO_SECONDS = 14 * 24 * 3600
WAKE_SECONDS = 300  # re-check state now and then even if a message was lost


@dataclass(frozen=True)
class GoalStart:
    """How a goal's run begins: who asked, and what to do first."""

    title: str
    requested_by: str
    plan_only: bool = False  # post the plan and wait for `/swarm go`
    replan: str = ""  # a maintainer's direction for a new plan
    resume: bool = False  # go on with the tasks there are (a retry), if there are any
    depth: int = 1  # > 1: a sub-goal, a task too big for one worker
    parent: str = ""  # a sub-goal's parent goal workflow, told when it ends
    delivery: str = ""  # the webhook delivery that started it, for its log lines and writes


@DBOS.step(name="store.record_goal")
async def record_goal(goal: IssueRef, title: str, requested_by: str, workflow_id: str) -> None:
    store = current().store
    await store.record_goal(goal.repo, goal.number, goal.installation_id, title, requested_by)
    await store.change_goal(goal.repo, goal.number, workflow_id=workflow_id)


@DBOS.step(name="store.goal_state_read")
async def goal_state(repo: str, number: int) -> GoalState | None:
    goal = await current().store.goal(repo, number)
    return goal.state if goal else None


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
    result = await plan_goal(
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
    name = run_name(DBOS.workflow_id or "")
    return await plan_step(installation_id, repo, number, text, config, left, name)


@DBOS.step(name="agent.checker")
async def check_step(
    installation_id: int, repo: str, number: int, text: str, landed: list[LandedTask],
    config: RepoConfig, token_budget: int, run_name: str,
) -> CheckResult:  # fmt: skip
    runtime = current()
    result = await check_goal(
        runtime,
        installation_id=installation_id,
        repo=repo,
        number=number,
        goal_text=text,
        landed=landed,
        config=config,
        token_budget=token_budget,
        run_name=run_name,
    )
    await runtime.store.add_goal_usage(repo, number, result.report.tokens, result.report.cost_usd)
    return result


@DBOS.workflow(name="goal_check")
async def checker_workflow(
    installation_id: int, repo: str, number: int, config: RepoConfig
) -> CheckResult | str:
    """The goal's check as its own queued workflow, like the planner's. Returns the check and
    its run, or why none ran (a spent budget)."""
    left, why = await budget_check(repo, number, config.budgets)
    if left <= 0:
        return why
    text = await goal_text(installation_id, repo, number, "")
    landed = [
        LandedTask(t.key, t.number, t.title, t.pr_number, t.landed_sha)
        for t in await load_tasks(repo, number)
    ]
    name = run_name(DBOS.workflow_id or "")
    return await check_step(installation_id, repo, number, text, landed, config, left, name)


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
            state=TaskState.PLANNED,
            branch=branch_name(number, planned.title),
            files=list(planned.files),
        )
    )
    return number


@DBOS.step(name="store.tasks")
async def load_tasks(repo: str, goal_number: int) -> list[Task]:
    return await current().store.tasks_of(repo, goal_number)


@DBOS.step(name="store.active_in_repo")
async def active_in_repo(repo: str) -> int:
    return sum(t.state in ACTIVE_TASK_STATES for t in await current().store.tasks_of(repo))


@DBOS.workflow(name="goal")
async def goal_workflow(goal: IssueRef, start: GoalStart) -> GoalState:
    """Plan, create, schedule; a sub-goal reports to its parent's workflow when it ends."""
    me = DBOS.workflow_id or goal_workflow_id(goal.repo, goal.number)
    try:
        with bound(delivery=start.delivery):
            state = await _run_goal(goal, start, me)
    except Exception as exc:  # GitHub down past every retry, a bug: the goal says so
        log.exception("goal %s failed", goal)
        note = f"Failed: {exc}. `/swarm retry` to go on."
        state = GoalState.FAILED
        await move_goal(goal.installation_id, goal.repo, goal.number, state, note)
    if start.parent:
        done = state == GoalState.DONE  # its tasks landed: the task's work is on the base
        await move_task(
            goal.installation_id, goal.repo, goal.number,
            TaskState.DONE if done else TaskState.FAILED,
            note="" if done else f"its sub-goal ended {state.replace('_', ' ')}",
        )  # fmt: skip
        message = GoalMessage("task_ended", goal.number).as_dict()
        await DBOS.send_async(start.parent, message, GOAL_TOPIC)
    return state


async def _run_goal(goal: IssueRef, start: GoalStart, me: str) -> GoalState:
    installation_id, repo, number = goal.installation_id, goal.repo, goal.number
    await record_goal(goal, start.title, start.requested_by, me)
    config = await steps.load_config(installation_id, repo)
    if isinstance(config, str):
        note = f"{config}. Fix `{CONFIG_PATH}` on the default branch, then `/swarm retry`."
        await move_goal(installation_id, repo, number, GoalState.INVALID_CONFIG, note)
        return GoalState.INVALID_CONFIG
    # A retry goes on with the tasks there are; with none (the config was invalid, the planner
    # failed), it plans first.
    if not (start.resume and await load_tasks(repo, number)):
        ended = await _plan(goal, config, start)
        if ended is not None:
            return ended
    else:
        working = await move_goal(installation_id, repo, number, GoalState.WORKING)
        if working.state != GoalState.WORKING:
            return working.state
    return await _schedule(goal, config, me)


async def _enqueue_agent(
    workflow_id: str, installation_id: int, workflow: Callable[P, Coroutine[Any, Any, R]],
    *args: P.args, **kwargs: P.kwargs,
) -> WorkflowHandleAsync[R]:  # fmt: skip
    """The goal's own agent (the planner, the goal's checker) queued like every agent, so that
    it counts against agent capacity, fairly across installations."""
    runtime = current()
    assert runtime.agents is not None
    with SetWorkflowID(workflow_id), SetEnqueueOptions(queue_partition_key=str(installation_id)):
        return await runtime.agents.enqueue_async(workflow, *args, **kwargs)


async def _plan(goal: IssueRef, config: RepoConfig, start: GoalStart) -> GoalState | None:
    """Plan and create the tasks; a final state when the goal ends here, else None."""
    installation_id, repo, number = goal.installation_id, goal.repo, goal.number
    planning = await move_goal(installation_id, repo, number, GoalState.PLANNING)
    if planning.state != GoalState.PLANNING:  # stopped meanwhile
        return planning.state
    handle = await _enqueue_agent(
        planner_workflow_id(DBOS.workflow_id or ""), installation_id,
        planner_workflow, installation_id, repo, number, config, start.replan,
    )  # fmt: skip

    async def leave_planning(state: GoalState, note: str) -> GoalState:
        """Planning's outcome, unless the goal moved on meanwhile (stopped): where it is."""
        moved = await move_goal(installation_id, repo, number, state, note, leaving=PLANNING)
        return moved.state

    try:
        result: PlanResult | str = await handle.get_result()
    except Exception as exc:  # a model that cannot be reached, a crash: say so on the goal
        log.exception("goal %s: the planner failed", goal)
        return await leave_planning(
            GoalState.FAILED, f"The planner failed: {exc}. Fix it, then `/swarm retry`."
        )
    plan = None if isinstance(result, str) else result.plan
    if plan is None:
        if isinstance(result, str):
            state, why = GoalState.BUDGET_EXHAUSTED, result
        else:
            exhausted = result.report.status == "budget_exhausted"
            state = GoalState.BUDGET_EXHAUSTED if exhausted else GoalState.FAILED
            why = result.report.reason or "the planner did not hand in a valid plan"
        return await leave_planning(state, f"No plan: {why}. `/swarm retry` to try again.")
    if start.plan_only:
        await steps.comment(installation_id, repo, number, "plan", str(number), plan_comment(plan))
        posted = await leave_planning(GoalState.AWAITING_GO, "The plan is posted: `/swarm go`.")
        if posted != GoalState.AWAITING_GO:
            return posted
        if not await _wait_for_go(goal):
            return GoalState.STOPPED
    # Working before its tasks exist: a goal stopped while it planned creates none.
    working = await move_goal(installation_id, repo, number, GoalState.WORKING, leaving=PLANNED)
    if working.state != GoalState.WORKING:
        return working.state
    numbers: dict[str, int] = {}
    for task in plan.ordered():
        dependencies = [numbers[key] for key in task.depends_on]
        numbers[task.key] = await create_task(installation_id, repo, number, task, dependencies)
    for task in plan.ordered():
        if task.too_big and start.depth < config.plan_depth and not task.depends_on:
            await _start_subgoal(goal.at(numbers[task.key]), task.title, start.depth)
    return None


async def _start_subgoal(task: IssueRef, title: str, depth: int) -> None:
    """A task too big for one worker is planned on its own, one level deeper."""
    workflow_id = goal_workflow_id(task.repo, task.number)
    await move_task(
        task.installation_id, task.repo, task.number, TaskState.SUBGOAL, run=workflow_id
    )
    parent = DBOS.workflow_id or ""
    start = GoalStart(title, "swarm", depth=depth + 1, parent=parent, delivery=parent)
    with SetWorkflowID(workflow_id):
        await DBOS.start_workflow_async(goal_workflow, task, start)


async def _wait_for_go(goal: IssueRef) -> bool:
    await DBOS.set_event_async("waiting", "go")
    while True:
        data = await DBOS.recv_async(GOAL_TOPIC, timeout_seconds=WAIT_FOR_GO_SECONDS)
        message = GoalMessage.of(data)
        if message is None or message.kind == "stop":
            note = "Stopped before the plan started."
            await move_goal(goal.installation_id, goal.repo, goal.number, GoalState.STOPPED, note)
            await DBOS.set_event_async("waiting", "")
            return False
        if message.kind == "go":
            await DBOS.set_event_async("waiting", "")
            return True


def ready_tasks(tasks: list[Task]) -> list[Task]:
    """Planned tasks whose every dependency has landed: they start from a base with its code."""
    states = {t.number: t.state for t in tasks}
    return [
        t for t in tasks
        if t.state == TaskState.PLANNED
        and all(states.get(d) in UNBLOCKING_TASK_STATES for d in t.depends_on)
    ]  # fmt: skip


def overlaps_heavily(a: list[str], b: list[str]) -> bool:
    """Half or more of the smaller footprint in common (an empty one overlaps nothing)."""
    first, second = set(a), set(b)
    if not first or not second:
        return False
    return 2 * len(first & second) >= min(len(first), len(second))


def pick_tasks(ready: list[Task], busy: list[Task], slots: int) -> list[Task]:
    """Up to `slots` ready tasks to start now, in order. One whose planned files overlap heavily
    with a task at work (or not landed yet, or picked here) waits while other ready work can
    start instead: two agents on the same files end in a conflict one of them must resolve."""
    picked: list[Task] = []
    held: list[Task] = []
    for task in ready:
        if len(picked) >= slots:
            break
        if any(overlaps_heavily(task.files, other.files) for other in (*busy, *picked)):
            held.append(task)
        else:
            picked.append(task)
    if not picked:  # nothing else can start: better a conflict later than idle agents
        picked = held[: max(0, slots)]
    return picked


def outcome(tasks: list[Task]) -> tuple[GoalState, str]:
    """Where a goal with nothing left to run stands, and what to tell people."""
    waiting = [
        f"#{t.number} ({t.state.replace('_', ' ')}{': ' + t.note if t.note else ''})"
        for t in tasks
        if t.state not in UNBLOCKING_TASK_STATES
    ]
    if not tasks:
        return GoalState.INCOMPLETE, "No task was created. `/swarm replan` to plan again."
    if not waiting:
        return GoalState.DONE, "Every task landed."
    if any(t.state == TaskState.BUDGET_EXHAUSTED for t in tasks):
        return GoalState.BUDGET_EXHAUSTED, ""
    return GoalState.INCOMPLETE, f"Not done: {', '.join(waiting)}. `/swarm retry` to go on."


def _spent(why: str) -> str:
    return f"Stopped: {why}. Raise it in `{CONFIG_PATH}`, then `/swarm retry`."


async def _schedule(goal: IssueRef, config: RepoConfig, me: str) -> GoalState:
    """Run the tasks to their end; when every one landed, check the goal against the base
    branch: the remainder it finds is planned and run in turn, within `goal_checks`."""
    installation_id, repo, number = goal.installation_id, goal.repo, goal.number
    tag = me.removeprefix(goal_workflow_id(repo, number)).lstrip(":")
    for task in await load_tasks(repo, number):
        if task.state == TaskState.PR_OPEN and task.pr_number and task.head_sha and tag:
            # A retried goal's pull requests go back to their gates.
            start = GateStart(
                installation_id, repo, task.number, task.pr_number, task.head_sha, task.title,
                task.branch,
            )  # fmt: skip
            await restart_gate(start, task.gate, tag)
    checks = 0
    while True:
        ended = await _run_tasks(goal, config, me, tag)
        if ended is not None:
            return ended
        state, note = outcome(await load_tasks(repo, number))
        if state == GoalState.BUDGET_EXHAUSTED:
            _, why = await budget_check(repo, number, config.budgets)
            note = _spent(why or "an agent spent its share of the budget")
        if state != GoalState.DONE:
            return (await move_goal(installation_id, repo, number, state, note)).state
        if checks >= config.goal_checks:  # unchecked (goal_checks: 0)
            await finish_goal(installation_id, repo, number, None)
            return (await move_goal(installation_id, repo, number, state, note)).state
        checks += 1
        checked = await _check(goal, config, me, checks)
        now = await goal_state(repo, number)
        if now != GoalState.WORKING:  # stopped meanwhile
            return now or GoalState.STOPPED
        if isinstance(checked, tuple):  # no check came back: the goal says why
            return (await move_goal(installation_id, repo, number, *checked)).state
        assert checked.check is not None
        if checked.check.met:
            await finish_goal(installation_id, repo, number, checked)
            done = "Every task landed, and the goal's check found every criterion met."
            return (await move_goal(installation_id, repo, number, state, done)).state
        unmet = "; ".join(checked.check.unmet())
        found = f"The goal's check on `{checked.base_sha[:12]}` found unmet: {unmet}"
        if checks >= config.goal_checks:
            note = (
                f"{found}. That was check {checks} of {config.goal_checks} (`goal_checks`): "
                "`/swarm replan` with a direction, or `/swarm retry` to check again."
            )
            incomplete = GoalState.INCOMPLETE
            return (await move_goal(installation_id, repo, number, incomplete, note)).state
        created = await _plan_remainder(goal, checked.check)
        planned = ", ".join(f"#{n}" for n in created)
        note = f"{found}. Planned: {planned}."
        working = await move_goal(
            installation_id, repo, number, GoalState.WORKING, note, leaving=WORKING
        )
        if working.state != GoalState.WORKING:
            return working.state


async def _run_tasks(goal: IssueRef, config: RepoConfig, me: str, tag: str) -> GoalState | None:
    """Queue every ready task within the limits; wake on each task's end; return when none is
    left to run or wait for (None), or with the state the goal ended in meanwhile."""
    installation_id, repo, number = goal.installation_id, goal.repo, goal.number
    while True:
        if await goal_state(repo, number) in (GoalState.STOPPED, GoalState.PAUSED):
            return GoalState.STOPPED
        tasks = await load_tasks(repo, number)
        ready = ready_tasks(tasks)
        active = [t for t in tasks if t.state in WAITED_FOR]
        if ready:
            left, why = await budget_check(repo, number, config.budgets)
            if left <= 0:
                state = GoalState.BUDGET_EXHAUSTED
                note = _spent(why)
                return (await move_goal(installation_id, repo, number, state, note)).state
            slots = config.max_agents - await active_in_repo(repo)
            busy = [t for t in tasks if t.state in WAITED_FOR]
            for task in pick_tasks(ready, busy, slots):
                # A retried goal's runs carry its tag, so they are new runs, not the old ones.
                run = task_workflow_id(repo, task.number, tag)
                queued = await move_task(
                    installation_id, repo, task.number, TaskState.QUEUED, run=run
                )
                if queued.state == TaskState.QUEUED:
                    await enqueue_task(installation_id, repo, task.number, me, config, run)
                    active.append(task)
        if not active and not ready:
            return None
        await DBOS.recv_async(GOAL_TOPIC, timeout_seconds=WAKE_SECONDS)


async def _check(
    goal: IssueRef, config: RepoConfig, me: str, round_: int
) -> CheckResult | tuple[GoalState, str]:
    """The goal's check, as a queued agent run like the planner's; or, when none came back, the
    state and note the goal ends with."""
    installation_id, repo, number = goal.installation_id, goal.repo, goal.number
    note = "Every task landed: checking the goal against the base branch."
    await move_goal(installation_id, repo, number, GoalState.WORKING, note, leaving=WORKING)
    handle = await _enqueue_agent(
        check_workflow_id(me, round_), installation_id,
        checker_workflow, installation_id, repo, number, config,
    )  # fmt: skip
    again = "`/swarm retry` to check again"
    try:
        result: CheckResult | str = await handle.get_result()
    except Exception as exc:  # a model that cannot be reached, a crash: say so on the goal
        log.exception("goal %s: the check failed", goal)
        return (
            GoalState.INCOMPLETE,
            f"Every task landed, but the goal's check failed: {exc}. {again}.",
        )
    if isinstance(result, str):
        return GoalState.BUDGET_EXHAUSTED, _spent(result)
    if result.check is None:
        if result.report.status == "budget_exhausted":
            return GoalState.BUDGET_EXHAUSTED, _spent(result.report.reason)
        why = result.report.reason or "the checker did not hand in a valid check"
        return (
            GoalState.INCOMPLETE,
            f"Every task landed, but the goal is unchecked: {why}. {again}.",
        )
    return result


async def _plan_remainder(goal: IssueRef, check: GoalCheck) -> list[int]:
    """The remaining tasks a check planned, as sub-issues of the goal, after its earlier ones."""
    numbers = {t.key: t.number for t in await load_tasks(goal.repo, goal.number)}
    created = []
    for task in check.remainder().ordered():
        dependencies = [numbers[key] for key in task.depends_on]
        numbers[task.key] = await create_task(
            goal.installation_id, goal.repo, goal.number, task, dependencies
        )
        created.append(numbers[task.key])
    return created


@steps.github_step("github.finish_goal")
async def finish_goal(
    installation_id: int, repo: str, number: int, checked: CheckResult | None
) -> None:
    """The goal's summary as a comment, then the goal closed (both once, however replayed)."""
    runtime = current()
    goal = await runtime.store.goal(repo, number)
    assert goal is not None
    tasks = await runtime.store.tasks_of(repo, number)
    check = None
    if checked is not None and checked.check is not None:
        check = GoalCheckSummary(checked.base_ref, checked.base_sha, checked.check.criteria)
    body = goal_summary(goal, tasks, runtime.store.clock.now() - goal.created_at, check)
    gh = runtime.github.installation(installation_id)
    bot = (await runtime.github.identity()).bot_login
    ref = RepoRef.parse(repo)
    await ops.upsert_comment(gh, ref, number, "summary", str(number), body, bot)
    await close_issue(gh, ref, number)


async def start_goal(goal: IssueRef, start: GoalStart, tag: str = "") -> str:
    """Start (or join, for the same tag) the goal's run; returns its workflow id."""
    workflow_id = goal_workflow_id(goal.repo, goal.number, tag)
    with SetWorkflowID(workflow_id):
        await DBOS.start_workflow_async(goal_workflow, goal, start)
    return workflow_id
