"""What `/swarm` commands and review events do: steps that stop, retry, re-plan and redirect.

Each runs inside the delivery's workflow, so a redelivered comment does nothing twice.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from dbos import DBOS

from app.agent.untrusted import clean
from app.domain.addresses import GOAL_TOPIC, GoalMessage, goal_inbox, task_inbox
from app.domain.records import Target, Task
from app.domain.states import (
    ACTIVE_TASK_STATES,
    RETRYABLE_TASK_STATES,
    GoalState,
    IllegalMove,
    TaskState,
)
from app.flows.steps import note_removed
from app.runtime import current

log = logging.getLogger(__name__)


@DBOS.step(name="command.stop_task")
async def stop_task(repo: str, number: int, by: str) -> str:
    """Tell the task's agent to stop at its next turn and cancel its run."""
    store = current().store
    task = await store.task(repo, number)
    if task is None or task.state not in ACTIVE_TASK_STATES:
        return f"#{number} has no agent running"
    try:
        await store.move_task(repo, number, TaskState.STOPPED, note=f"stopped by @{by}")
    except IllegalMove:  # its run ended meanwhile
        return f"#{number} has no agent running"
    await store.post_message(task_inbox(repo, number), by, f"stop requested by @{by}", kind="stop")
    if task.run:
        await DBOS.cancel_workflow_async(task.run)
    return f"stopped the agent on #{number}"


@DBOS.step(name="command.stop_goal")
async def stop_goal(repo: str, number: int, by: str) -> list[int]:
    """Mark the goal stopped; return the numbers of its tasks that still have agents."""
    store = current().store
    goal = await store.move_goal(repo, number, GoalState.STOPPED, note=f"Stopped by @{by}.")
    if goal.workflow_id:
        await DBOS.send_async(goal.workflow_id, GoalMessage("stop").as_dict(), GOAL_TOPIC)
    return [t.number for t in await store.tasks_of(repo, number) if t.state in ACTIVE_TASK_STATES]


@DBOS.step(name="command.go")
async def send_go(repo: str, number: int) -> bool:
    goal = await current().store.goal(repo, number)
    if goal is None or goal.state != GoalState.AWAITING_GO:
        return False
    await DBOS.send_async(goal.workflow_id, GoalMessage("go").as_dict(), GOAL_TOPIC)
    return True


# A task stopped in the merge gate (blocked, or no budget left for its judge) goes back to its
# gate on a retry, not to a new worker: its pull request is there.
GATED_AGAIN = frozenset({TaskState.BLOCKED, TaskState.BUDGET_EXHAUSTED})


@dataclass(frozen=True)
class Reset:
    count: int  # tasks back in the queue or in the gate
    unblocked: list[int]  # their issues and pull requests that carry `swarm:blocked`


@DBOS.step(name="command.reset_tasks")
async def reset_unfinished_tasks(repo: str, number: int) -> Reset:
    """Put the goal's failed, stopped or budget-stopped tasks back to planned, and its blocked
    pull requests back in the merge gate with their rounds counted afresh."""
    store = current().store
    count, unblocked = 0, []
    for task in await store.tasks_of(repo, number):
        try:
            if task.pr_number and task.state in GATED_AGAIN:  # its pull request: gated again
                await store.move_task(repo, task.number, TaskState.PR_OPEN, note="", rounds=0)
                if task.state == TaskState.BLOCKED:
                    unblocked += [task.number, task.pr_number]
            elif task.state in RETRYABLE_TASK_STATES:
                await store.move_task(repo, task.number, TaskState.PLANNED, note="")
            else:
                continue
        except IllegalMove:  # retried by someone else meanwhile
            continue
        count += 1
    return Reset(count, unblocked)


@DBOS.step(name="command.redirect")
async def redirect(repo: str, number: int, by: str, text: str) -> bool:
    """Deliver text to the task's running agent; False when none is running."""
    store = current().store
    task = await store.task(repo, number)
    if task is None or task.state != TaskState.WORKING:
        return False
    await _note_hidden(repo, task.goal_number, f"#{number} (from @{by})", text)
    await store.post_message(task_inbox(repo, number), by, text)
    return True


@DBOS.step(name="command.redirect_planner")
async def redirect_planner(repo: str, number: int, by: str, text: str) -> bool:
    store = current().store
    goal = await store.goal(repo, number)
    if goal is None or goal.state != GoalState.PLANNING:
        return False
    await _note_hidden(repo, number, f"#{number} (from @{by})", text)
    await store.post_message(goal_inbox(repo, number), by, text)
    return True


async def _note_hidden(repo: str, goal_number: int, source: str, text: str) -> None:
    """The agent will see the text cleaned (the inbox frames it); the maintainer sees what
    cleaning removed in the goal's status comment."""
    await note_removed(repo, goal_number, source, clean(text).removed)


@DBOS.step(name="store.find_target")
async def find_target(repo: str, number: int) -> Target:
    """A goal, a task (found by its issue or its pull request), or nothing."""
    store = current().store
    goal = await store.goal(repo, number)
    if goal is not None:
        return Target("goal", goal.number, goal.number, goal.state)
    task: Task | None = await store.task(repo, number) or await store.task_by_pr(repo, number)
    if task is not None:
        return Target("task", task.number, task.goal_number, task.state)
    return Target("none")
