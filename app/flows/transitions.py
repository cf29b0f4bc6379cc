"""Every change of a goal's or a task's state, from any flow: one compare-and-swap move, then the
goal's status comment refreshed — debounced, so a burst of moves costs GitHub one write and no
call site has to remember it.

A move the table refuses (the task was stopped, the goal retried meanwhile) is a stale writer
losing, not an error: the step returns the row as it is and the caller reads where things stand.
Call these from a workflow (the debounce is a child workflow), never from inside a step.
"""

from __future__ import annotations

import logging
from typing import Any

from dbos import DBOS, Debouncer

from app.domain.addresses import status_key
from app.domain.records import Goal, Task
from app.domain.states import GoalState, IllegalMove, TaskState
from app.flows import steps
from app.runtime import current

log = logging.getLogger(__name__)


@DBOS.workflow(name="status")
async def status_workflow(installation_id: int, repo: str, goal_number: int) -> None:
    await steps.refresh_status(installation_id, repo, goal_number)


_status = Debouncer.create_async(status_workflow)


async def status_soon(installation_id: int, repo: str, goal_number: int) -> None:
    """Rewrite the goal's status comment once the moves of the moment have settled."""
    period = current().settings.status_debounce_seconds
    await _status.debounce_async(
        status_key(repo, goal_number), period, installation_id, repo, goal_number
    )


@DBOS.step(name="store.move_task")
async def _move_task(repo: str, number: int, state: TaskState, values: dict[str, Any]) -> Task:
    store = current().store
    try:
        return await store.move_task(repo, number, state, **values)
    except IllegalMove as exc:
        log.info("%s: a stale move, dropped", exc)
        task = await store.task(repo, number)
        assert task is not None
        return task


async def move_task(
    installation_id: int, repo: str, number: int, state: TaskState, **values: Any
) -> Task:
    """Move the task; returns its row (in `state`, unless the move was refused)."""
    task = await _move_task(repo, number, state, values)
    await status_soon(installation_id, repo, task.goal_number)
    return task


@DBOS.step(name="store.move_goal")
async def _move_goal(
    repo: str, number: int, state: GoalState, values: dict[str, Any],
    leaving: frozenset[GoalState] | None = None,
) -> Goal:  # fmt: skip
    store = current().store
    try:
        return await store.move_goal(repo, number, state, leaving=leaving, **values)
    except IllegalMove as exc:
        log.info("%s: a stale move, dropped", exc)
        goal = await store.goal(repo, number)
        assert goal is not None
        return goal


async def move_goal(
    installation_id: int, repo: str, number: int, state: GoalState, note: str = "", *,
    leaving: frozenset[GoalState] | None = None,
) -> Goal:  # fmt: skip
    """Move the goal, saying why for people; returns its row (in `state` unless refused).
    `leaving`: the states this writer expects the goal in (see `Store.move_goal`)."""
    goal = await _move_goal(repo, number, state, {"note": note}, leaving)
    await status_soon(installation_id, repo, number)
    return goal
