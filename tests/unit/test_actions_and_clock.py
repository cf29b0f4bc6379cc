"""The actions a command decides on (`app.domain.actions`) and the clocks records read
(`app.clock`)."""

from __future__ import annotations

import dataclasses
import typing
from typing import Any

import pytest

from app.clock import SYSTEM_CLOCK, ManualClock, SystemClock
from app.domain import actions
from app.domain.actions import (
    Action,
    Answer,
    FollowUp,
    RestartGoal,
    SendGo,
    ShowStatus,
    StopGoal,
    StopTask,
    TellPlanner,
    TellWorker,
)

EXAMPLES: list[Any] = [
    Answer("nothing to do"),
    ShowStatus(7, "status refreshed"),
    SendGo(7),
    StopGoal(7),
    RestartGoal(7, replan=True, direction="smaller tasks"),
    TellPlanner(7, "use sqlite"),
    StopTask(8, 7),
    TellWorker(8, 7, "rename the flag"),
    FollowUp(8, 7, "address the review"),
]


def test_the_action_union_names_every_action() -> None:
    """`app.flows.actions.perform` matches on `Action`: an action missing from it is unhandled."""
    defined = {
        value
        for value in vars(actions).values()
        if dataclasses.is_dataclass(value) and value.__module__ == actions.__name__
    }
    assert set(typing.get_args(Action)) == defined
    assert {type(example) for example in EXAMPLES} == defined


def test_positional_fields_are_in_the_order_perform_matches_them() -> None:
    """`perform` matches positionally (`case StopTask(task, goal)`): a swapped field swaps two
    issue numbers silently, so the order is part of the contract."""
    assert {type(a).__name__: type(a).__match_args__ for a in EXAMPLES} == {
        "Answer": ("text",),
        "ShowStatus": ("goal", "answer"),
        "SendGo": ("goal",),
        "StopGoal": ("goal",),
        "RestartGoal": ("goal", "replan", "direction"),
        "TellPlanner": ("goal", "text"),
        "StopTask": ("task", "goal"),
        "TellWorker": ("task", "goal", "text"),
        "FollowUp": ("task", "goal", "instructions"),
    }
    match StopTask(8, 7):
        case StopTask(task, goal):
            assert (task, goal) == (8, 7)


@pytest.mark.parametrize("action", EXAMPLES, ids=lambda a: type(a).__name__)
def test_actions_are_frozen_values(action: Any) -> None:
    field = dataclasses.fields(action)[0].name
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(action, field, "changed")
    twin = dataclasses.replace(action)
    assert twin == action and hash(twin) == hash(action)
    assert twin != dataclasses.replace(action, **{field: 999})


def test_a_retry_is_a_restart_without_replanning_or_direction() -> None:
    retry = RestartGoal(7, replan=False)
    assert retry.direction == ""
    assert retry != RestartGoal(7, replan=True)


def test_a_manual_clock_stands_still_until_advanced() -> None:
    manual = ManualClock()
    assert manual.now() == 1_700_000_000.0
    assert manual.now() == manual.now()
    manual.advance(90)
    assert manual.now() == 1_700_000_090.0
    manual.advance(0.5)
    manual.advance(0)
    assert manual.now() == 1_700_000_090.5


def test_manual_clocks_start_where_told_and_move_on_their_own() -> None:
    first, second = ManualClock(at=10.0), ManualClock(at=10.0)
    first.advance(5)
    assert (first.now(), second.now()) == (15.0, 10.0)


def test_the_system_clock_reads_seconds_since_the_epoch() -> None:
    now = SystemClock().now()
    assert isinstance(now, float)
    assert now > 1.7e9
    assert isinstance(SYSTEM_CLOCK, SystemClock)
    assert isinstance(SYSTEM_CLOCK.now(), float)
