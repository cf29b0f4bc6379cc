"""Goal and task rows change by compare-and-swap on their version, on SQLite and PostgreSQL.

Every test runs on a real SQLite file and on a fresh PostgreSQL database (where reachable).
Concurrent writers are threads, each with a Store of its own (its own engine and connections).
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable, Coroutine
from typing import Any

import pytest
import sqlalchemy as sa

from app.clock import ManualClock
from app.domain.records import Goal, Task
from app.domain.states import GoalState, IllegalMove, TaskState, can_move_task
from app.store import Store
from app.store.tables import goals, tasks
from tests.store.conftest import run_in_threads

REPO = "octo/app"
GOAL = 1
T = TaskState


def row(store: Store, table: sa.Table, number: int) -> dict[str, Any]:
    """The row as the database has it, read on a connection of its own."""
    with store.engine.connect() as conn:
        found = conn.execute(
            table.select().where(table.c.repo == REPO, table.c.number == number)
        ).one()
    return dict(found._mapping)


async def planned(store: Store, number: int = 2) -> Task:
    await store.record_goal(REPO, GOAL, installation_id=9, title="ship it", requested_by="ann")
    task = Task(repo=REPO, number=number, goal_number=GOAL, key=f"k{number}", title="a part")
    return await store.upsert_task(task)


async def at(store: Store, state: TaskState, number: int = 2) -> Task:
    """A task moved along legal steps to `state`."""
    path = {
        T.PLANNED: [],
        T.QUEUED: [T.QUEUED],
        T.WORKING: [T.QUEUED, T.WORKING],
    }[state]
    task = await planned(store, number)
    for step in path:
        task = await store.move_task(REPO, number, step)
    assert task.state == state
    return task


def mover(store: Store, state: TaskState, **values: Any) -> Callable[[], Coroutine[Any, Any, Task]]:
    """A writer's call: move task 2 to `state` through `store`."""
    return lambda: store.move_task(REPO, 2, state, **values)


# Recording


async def test_recording_is_once_and_starts_at_version_one(store: Store) -> None:
    goal = await store.record_goal(REPO, GOAL, 9, "ship it", "ann")
    assert (goal.state, goal.version) == (GoalState.REQUESTED, 1)
    again = await store.record_goal(REPO, GOAL, 10, "another title", "bob")
    assert again == goal

    task = await planned(store)
    assert (task.state, task.version) == (T.PLANNED, 1)
    replay = Task(repo=REPO, number=2, goal_number=GOAL, key="other", title="changed")
    assert await store.upsert_task(replay) == task


# (a) a legal move


async def test_a_legal_task_move_bumps_the_version_and_persists(
    store: Store, stores: Callable[[], Store], clock: ManualClock
) -> None:
    task = await planned(store)
    assert row(store, tasks, 2)["updated_at"] == clock.now()

    clock.advance(60)
    queued = await store.move_task(REPO, 2, T.QUEUED, run="task:octo/app#2", note="")
    assert (queued.state, queued.version) == (T.QUEUED, task.version + 1)
    assert queued.run == "task:octo/app#2"

    fresh = await stores().task(REPO, 2)  # another engine: it is in the database
    assert fresh == queued
    assert row(store, tasks, 2)["updated_at"] == clock.now() == 1_700_000_060.0

    clock.advance(5)
    working = await store.move_task(REPO, 2, T.WORKING, agent="claude")
    assert (working.state, working.version, working.agent) == (T.WORKING, 3, "claude")
    assert working.run == "task:octo/app#2"  # fields not named are kept
    assert row(store, tasks, 2)["updated_at"] == 1_700_000_065.0


async def test_staying_in_a_state_is_a_change_that_bumps_the_version(store: Store) -> None:
    task = await at(store, T.QUEUED)
    same = await store.move_task(REPO, 2, T.QUEUED, note="still waiting")
    assert (same.state, same.version, same.note) == (T.QUEUED, task.version + 1, "still waiting")
    changed = await store.change_task(REPO, 2, ci="success", head_sha="abc")
    assert (changed.version, changed.ci, changed.head_sha) == (task.version + 2, "success", "abc")
    assert changed.note == "still waiting"


async def test_a_legal_goal_move_bumps_the_version_and_persists(
    store: Store, stores: Callable[[], Store], clock: ManualClock
) -> None:
    created = clock.now()
    await store.record_goal(REPO, GOAL, 9, "ship it", "ann")
    clock.advance(30)
    planning = await store.move_goal(REPO, GOAL, GoalState.PLANNING, note="planning")
    assert (planning.state, planning.version, planning.note) == (GoalState.PLANNING, 2, "planning")
    changed = await store.change_goal(REPO, GOAL, workflow_id="goal:octo/app#1")
    assert (changed.version, changed.state) == (3, GoalState.PLANNING)
    assert changed.workflow_id == "goal:octo/app#1"

    assert await stores().goal(REPO, GOAL) == changed
    stored = row(store, goals, GOAL)
    assert (stored["created_at"], stored["updated_at"]) == (created, created + 30)


# (b) an illegal move


async def test_an_illegal_task_move_raises_and_changes_nothing(
    store: Store, clock: ManualClock
) -> None:
    await planned(store)
    before = row(store, tasks, 2)
    clock.advance(10)
    with pytest.raises(IllegalMove) as raised:
        await store.move_task(REPO, 2, T.WORKING, agent="claude", note="should not land")
    assert (raised.value.current, raised.value.wanted) == (T.PLANNED, T.WORKING)
    assert "planned -> working" in str(raised.value)
    assert row(store, tasks, 2) == before  # no field, no version, no timestamp changed


async def test_a_move_from_a_state_the_writer_did_not_leave_the_goal_in_is_refused(
    store: Store,
) -> None:
    """Stopped while it planned: the planner's late "working" is legal from `stopped` (a retry
    makes that move) but not from where this writer left the goal, so the goal stays stopped."""
    await store.record_goal(REPO, GOAL, 9, "ship it", "ann")
    await store.move_goal(REPO, GOAL, GoalState.PLANNING)
    await store.move_goal(REPO, GOAL, GoalState.STOPPED, note="Stopped by @ann.")
    planning = frozenset({GoalState.PLANNING})
    with pytest.raises(IllegalMove):
        await store.move_goal(REPO, GOAL, GoalState.WORKING, leaving=planning)
    goal = await store.goal(REPO, GOAL)
    assert goal is not None and goal.state == GoalState.STOPPED and goal.note == "Stopped by @ann."
    # Without the expectation the table alone decides: a retry may move it on.
    moved = await store.move_goal(REPO, GOAL, GoalState.WORKING)
    assert moved.state == GoalState.WORKING
    # Staying where the writer wants to be is no conflict.
    assert (await store.move_goal(REPO, GOAL, GoalState.WORKING, leaving=planning)).version


async def test_an_illegal_goal_move_raises_and_changes_nothing(
    store: Store, clock: ManualClock
) -> None:
    await store.record_goal(REPO, GOAL, 9, "ship it", "ann")
    await store.move_goal(REPO, GOAL, GoalState.PLANNING)
    await store.move_goal(REPO, GOAL, GoalState.WORKING)
    await store.move_goal(REPO, GOAL, GoalState.DONE)
    before = row(store, goals, GOAL)
    clock.advance(10)
    with pytest.raises(IllegalMove) as raised:
        await store.move_goal(REPO, GOAL, GoalState.AWAITING_GO, note="no")
    assert (raised.value.current, raised.value.wanted) == (
        GoalState.DONE,
        GoalState.AWAITING_GO,
    )
    assert row(store, goals, GOAL) == before


async def test_moving_a_missing_row_is_an_error_not_an_insert(store: Store) -> None:
    with pytest.raises(KeyError):
        await store.move_task(REPO, 404, T.QUEUED)
    with pytest.raises(KeyError):
        await store.move_goal(REPO, 404, GoalState.PLANNING)
    assert await store.task(REPO, 404) is None
    assert await store.goal(REPO, 404) is None


# (c) concurrent writers


async def test_of_two_incompatible_moves_racing_exactly_one_side_wins(
    store: Store, stores: Callable[[], Store]
) -> None:
    """From WORKING, half the writers want PR_OPEN and half FAILED: each is legal now, but
    neither is legal from the other, so all of one side land and all of the other are refused."""
    start = await at(store, T.WORKING)
    wanted = [T.PR_OPEN, T.FAILED] * 10
    writers = [stores() for _ in wanted]
    results = await asyncio.to_thread(
        run_in_threads,
        [
            mover(s, w, note=f"by writer {i}")
            for i, (w, s) in enumerate(zip(wanted, writers, strict=True))
        ],
    )
    won = {w for w, r in zip(wanted, results, strict=True) if isinstance(r, Task)}
    assert len(won) == 1, results
    winner = won.pop()
    loser = T.FAILED if winner == T.PR_OPEN else T.PR_OPEN
    for w, result in zip(wanted, results, strict=True):
        if w == winner:
            assert isinstance(result, Task) and result.state == winner
        else:
            assert isinstance(result, IllegalMove), result
            assert (result.current, result.wanted) == (winner, loser)
    successes = [r for r in results if isinstance(r, Task)]
    assert sorted(r.version for r in successes) == list(
        range(start.version + 1, start.version + 11)
    )
    final = await store.task(REPO, 2)
    assert final is not None
    assert (final.state, final.version) == (winner, start.version + 10)


async def test_racing_moves_land_as_one_legal_sequence(
    store: Store, stores: Callable[[], Store]
) -> None:
    """20 writers each want some state from QUEUED; whatever lands forms one legal path, one
    version each, and every refusal was right about the state the row was in."""
    start = await at(store, T.QUEUED)
    wanted = [*list(TaskState), *list(TaskState)]
    writers = [stores() for _ in wanted]
    results = await asyncio.to_thread(
        run_in_threads,
        [mover(s, w) for w, s in zip(wanted, writers, strict=True)],
    )
    successes = sorted((r for r in results if isinstance(r, Task)), key=lambda t: t.version)
    refusals = [r for r in results if isinstance(r, IllegalMove)]
    assert len(successes) + len(refusals) == len(wanted), results  # no other error

    # One version per landed move, none lost or doubled.
    versions = [t.version for t in successes]
    assert versions == list(range(start.version + 1, start.version + 1 + len(successes)))
    # In version order, each landed move was legal from the one before.
    path = [start.state, *(t.state for t in successes)]
    for before, after in itertools.pairwise(path):
        assert can_move_task(before, after), path
    for refusal in refusals:
        assert refusal.current in path
        assert not can_move_task(TaskState(refusal.current), TaskState(refusal.wanted))

    final = await store.task(REPO, 2)
    assert final is not None
    assert final.version == start.version + len(successes)
    assert final.state == path[-1]
    assert len(successes) >= 1  # QUEUED -> QUEUED and -> WORKING, at least, were legal first


async def test_no_change_or_usage_is_lost_under_contention(
    store: Store, stores: Callable[[], Store]
) -> None:
    """50 changes of the note and 50 usage increments from 10 threads, each its own Store."""
    start = await at(store, T.WORKING)
    writers = [stores() for _ in range(10)]

    def work(writer: Store, n: int) -> Callable[[], Any]:
        async def run() -> list[Task]:
            changed = []
            for k in range(5):
                i = n * 5 + k
                changed.append(await writer.change_task(REPO, 2, note=f"note {i}"))
                await writer.add_task_usage(REPO, 2, tokens=i + 1, cost_usd=0.5)
            return changed

        return run

    results = await asyncio.to_thread(run_in_threads, [work(w, n) for n, w in enumerate(writers)])
    for result in results:
        assert isinstance(result, list), result
    changes = [task for result in results for task in result]  # type: ignore[union-attr]
    assert sorted(t.version for t in changes) == list(range(start.version + 1, start.version + 51))

    final = await store.task(REPO, 2)
    assert final is not None
    assert final.tokens == sum(range(1, 51))
    assert final.cost_usd == pytest.approx(25.0)
    assert final.version == start.version + 50
    assert final.note == max(changes, key=lambda t: t.version).note
    assert final.state == T.WORKING


# (d) a stale writer


async def test_a_writer_that_read_before_a_stop_is_refused(
    store: Store, stores: Callable[[], Store]
) -> None:
    """Read QUEUED; meanwhile someone stops the task; moving it to WORKING is then refused."""
    seen = await at(store, T.QUEUED)
    other = stores()
    stopped = await other.move_task(REPO, 2, T.STOPPED, note="stopped by @ann")
    assert stopped.version == seen.version + 1
    assert can_move_task(seen.state, T.WORKING)  # legal from what the writer read

    with pytest.raises(IllegalMove) as raised:
        await store.move_task(REPO, 2, T.WORKING, agent="claude")
    assert (raised.value.current, raised.value.wanted) == (T.STOPPED, T.WORKING)
    final = await store.task(REPO, 2)
    assert final == stopped


def interleave(store: Store, between: Callable[[], Any]) -> list[str]:
    """Run `between` (a write by another Store) after `store` has read its row and before its
    first UPDATE of it: the race a compare-and-swap exists for. Returns the UPDATEs it ran."""
    updates: list[str] = []

    @sa.event.listens_for(store.engine, "before_cursor_execute")
    def before(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.lstrip().upper().startswith("UPDATE SWARM_TASKS"):
            updates.append(statement)
            if len(updates) == 1:
                asyncio.run(between())  # on the store's worker thread, which has no loop

    return updates


async def test_a_move_that_lost_the_race_is_checked_again_on_fresh_state(
    store: Store, stores: Callable[[], Store], clock: ManualClock
) -> None:
    """The stop lands between the writer's read (QUEUED, legal to WORKING) and its write: the
    version no longer matches, so it reads again, and refuses the move from STOPPED."""
    seen = await at(store, T.QUEUED)
    other = stores()
    updates = interleave(store, lambda: other.move_task(REPO, 2, T.STOPPED, note="stopped"))

    clock.advance(1)
    with pytest.raises(IllegalMove) as raised:
        await store.move_task(REPO, 2, T.WORKING, agent="claude")
    assert (raised.value.current, raised.value.wanted) == (T.STOPPED, T.WORKING)
    assert len(updates) == 1  # its one attempt matched no row; the second read refused
    final = await store.task(REPO, 2)
    assert final is not None
    assert (final.state, final.version, final.agent, final.note) == (
        T.STOPPED,
        seen.version + 1,
        "",
        "stopped",
    )


async def test_a_move_that_lost_to_a_compatible_change_lands_after_it(
    store: Store, stores: Callable[[], Store]
) -> None:
    seen = await at(store, T.QUEUED)
    other = stores()
    updates = interleave(store, lambda: other.change_task(REPO, 2, note="from the other"))

    moved = await store.move_task(REPO, 2, T.WORKING, agent="claude")
    assert len(updates) == 2  # its first attempt matched no row, its second landed
    assert (moved.state, moved.version) == (T.WORKING, seen.version + 2)
    assert (moved.agent, moved.note) == ("claude", "from the other")  # neither overwrote


async def test_a_goal_move_after_a_stop_is_refused(
    store: Store, stores: Callable[[], Store]
) -> None:
    await store.record_goal(REPO, GOAL, 9, "ship it", "ann")
    await store.move_goal(REPO, GOAL, GoalState.PLANNING)
    other = stores()
    with pytest.raises(IllegalMove):
        await store.move_goal(REPO, GOAL, GoalState.DONE)  # PLANNING -> PRS_OPEN: never

    stopped = await other.move_goal(REPO, GOAL, GoalState.STOPPED, note="Stopped by @ann.")
    with pytest.raises(IllegalMove) as raised:
        await store.move_goal(REPO, GOAL, GoalState.AWAITING_GO, note="plan posted")
    assert raised.value.current == GoalState.STOPPED
    assert await store.goal(REPO, GOAL) == stopped
    assert isinstance(stopped, Goal)
