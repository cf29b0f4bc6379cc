"""The states of goals and tasks and the moves between them, checked as data."""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from typing import TypeVar

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.domain.states import (
    ACTIVE_TASK_STATES,
    GOAL_MOVES,
    RETRYABLE_TASK_STATES,
    SETTLED_GOAL_STATES,
    TASK_MOVES,
    GoalState,
    IllegalMove,
    TaskState,
    can_move_goal,
    can_move_task,
)

T = TaskState
G = GoalState
S = TypeVar("S")


def reachable(moves: Mapping[S, frozenset[S]], start: S) -> set[S]:
    """Every state the table's graph reaches from `start` (itself included)."""
    seen, todo = {start}, deque([start])
    while todo:
        for nxt in moves[todo.popleft()]:
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


# The table as data


def test_every_task_state_has_an_entry_and_moves_only_to_task_states() -> None:
    assert set(TASK_MOVES) == set(TaskState)
    for targets in TASK_MOVES.values():
        assert targets <= set(TaskState)


def test_every_goal_state_has_an_entry_and_moves_only_to_goal_states() -> None:
    assert set(GOAL_MOVES) == set(GoalState)
    for targets in GOAL_MOVES.values():
        assert targets <= set(GoalState)


@pytest.mark.parametrize("state", list(TaskState))
def test_a_task_may_always_stay_where_it_is(state: TaskState) -> None:
    assert can_move_task(state, state)


@pytest.mark.parametrize("state", list(GoalState))
def test_a_goal_may_always_stay_where_it_is(state: GoalState) -> None:
    assert can_move_goal(state, state)


@pytest.mark.parametrize("current", list(TaskState))
@pytest.mark.parametrize("wanted", list(TaskState))
def test_can_move_task_allows_exactly_the_table(current: TaskState, wanted: TaskState) -> None:
    """The table is the whole truth: no move is allowed that it does not list (or staying)."""
    assert can_move_task(current, wanted) == (wanted == current or wanted in TASK_MOVES[current])


@pytest.mark.parametrize("current", list(GoalState))
@pytest.mark.parametrize("wanted", list(GoalState))
def test_can_move_goal_allows_exactly_the_table(current: GoalState, wanted: GoalState) -> None:
    assert can_move_goal(current, wanted) == (wanted == current or wanted in GOAL_MOVES[current])


def test_every_state_is_reachable_from_the_first() -> None:
    assert reachable(TASK_MOVES, T.PLANNED) == set(TaskState)
    assert reachable(GOAL_MOVES, G.REQUESTED) == set(GoalState)


@pytest.mark.parametrize(
    ("current", "wanted"),
    [
        (T.QUEUED, T.WORKING),  # an agent picks it up
        (T.PLANNED, T.QUEUED),
        (T.WORKING, T.PR_OPEN),
        (T.PR_OPEN, T.DONE),
        (T.PR_OPEN, T.QUEUED),  # a review asks for changes
        (T.FAILED, T.QUEUED),  # a retry
        (T.STOPPED, T.QUEUED),
        (T.BUDGET_EXHAUSTED, T.QUEUED),
        (T.FAILED, T.PLANNED),  # a reset
        (T.DONE, T.QUEUED),  # a follow-up
        (T.BLOCKED, T.QUEUED),
        (T.PLANNED, T.SUBGOAL),
    ],
)
def test_legal_task_moves(current: TaskState, wanted: TaskState) -> None:
    assert can_move_task(current, wanted)


@pytest.mark.parametrize(
    ("current", "wanted"),
    [
        (T.PLANNED, T.WORKING),  # must be queued first
        (T.PLANNED, T.DONE),
        (T.STOPPED, T.WORKING),  # a stopped task does not resume by itself
        (T.DONE, T.WORKING),
        (T.WORKING, T.QUEUED),
        (T.WORKING, T.DONE),  # only through its pull request
        (T.PR_OPEN, T.WORKING),
        (T.PR_OPEN, T.STOPPED),
        (T.FAILED, T.DONE),
        (T.QUEUED, T.PLANNED),
    ],
)
def test_illegal_task_moves(current: TaskState, wanted: TaskState) -> None:
    assert not can_move_task(current, wanted)


def test_an_active_task_can_be_stopped_and_a_stopped_one_retried() -> None:
    for state in ACTIVE_TASK_STATES:
        assert can_move_task(state, T.STOPPED)
    for state in RETRYABLE_TASK_STATES:
        assert can_move_task(state, T.QUEUED)
        assert can_move_task(state, T.PLANNED)


@pytest.mark.parametrize("settled", sorted(SETTLED_GOAL_STATES))
def test_a_settled_goal_can_start_again_or_be_stopped(settled: GoalState) -> None:
    for wanted in (G.PLANNING, G.WORKING, G.STOPPED):
        assert can_move_goal(settled, wanted)
    assert not can_move_goal(settled, G.AWAITING_GO)
    assert not can_move_goal(settled, G.REQUESTED)


def test_settled_goal_states_are_the_ends_of_a_run() -> None:
    assert G.DONE in SETTLED_GOAL_STATES
    assert G.STOPPED in SETTLED_GOAL_STATES
    assert not {G.REQUESTED, G.PLANNING, G.AWAITING_GO, G.WORKING} & SETTLED_GOAL_STATES


@pytest.mark.parametrize(
    ("current", "wanted", "legal"),
    [
        (G.REQUESTED, G.PLANNING, True),
        (G.PLANNING, G.AWAITING_GO, True),
        (G.AWAITING_GO, G.WORKING, True),
        (G.AWAITING_GO, G.STOPPED, True),
        (G.WORKING, G.DONE, True),
        (G.DONE, G.AWAITING_GO, False),  # a settled goal is not re-approved
        (G.REQUESTED, G.AWAITING_GO, False),  # no plan yet
        (G.REQUESTED, G.DONE, False),
        (G.AWAITING_GO, G.PLANNING, False),
        (G.WORKING, G.PLANNING, False),
        (G.WORKING, G.AWAITING_GO, False),
    ],
)
def test_named_goal_moves(current: GoalState, wanted: GoalState, legal: bool) -> None:
    assert can_move_goal(current, wanted) is legal


# Properties over any sequence of requested moves


@given(st.lists(st.sampled_from(list(TaskState)), max_size=40))
def test_requested_task_moves_only_ever_reach_reachable_states(wanted: list[TaskState]) -> None:
    graph_reach = reachable(TASK_MOVES, T.PLANNED)
    state = T.PLANNED
    for want in wanted:
        if can_move_task(state, want):
            assert want == state or want in TASK_MOVES[state]  # each step is an edge
            state = want
        assert state in graph_reach


@given(st.lists(st.sampled_from(list(GoalState)), max_size=40))
def test_requested_goal_moves_only_ever_reach_reachable_states(wanted: list[GoalState]) -> None:
    graph_reach = reachable(GOAL_MOVES, G.REQUESTED)
    state = G.REQUESTED
    for want in wanted:
        if can_move_goal(state, want):
            assert want == state or want in GOAL_MOVES[state]
            state = want
        assert state in graph_reach


@given(st.sampled_from(list(TaskState)), st.sampled_from(list(TaskState)))
def test_illegal_move_names_both_states(current: TaskState, wanted: TaskState) -> None:
    error = IllegalMove("task o/r#7", current, wanted)
    message = str(error)
    assert "task o/r#7" in message
    assert f"{current} -> {wanted}" in message
    assert (error.current, error.wanted) == (current, wanted)


def test_illegal_move_message_reads_plainly() -> None:
    error = IllegalMove("goal o/r#3", G.DONE, G.AWAITING_GO)
    assert str(error) == "goal o/r#3: done -> awaiting_go is not a legal move"
