"""How workflows and inboxes are addressed, and the messages a goal's workflow is told."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.domain.addresses import (
    GoalMessage,
    goal_inbox,
    goal_workflow_id,
    planner_workflow_id,
    run_name,
    status_key,
    task_inbox,
    task_workflow_id,
)
from app.domain.records import Task


def test_workflow_ids_name_the_kind_the_repository_and_the_issue() -> None:
    assert goal_workflow_id("octo/app", 12) == "goal:octo/app#12"
    assert goal_workflow_id("octo/app", 12, "retry-2") == "goal:octo/app#12:retry-2"
    assert task_workflow_id("octo/app", 13) == "task:octo/app#13"
    assert task_workflow_id("octo/app", 13, "r1") == "task:octo/app#13:r1"
    assert planner_workflow_id("goal:octo/app#12") == "goal:octo/app#12:planner"
    assert status_key("octo/app", 12) == "status:octo/app#12"
    assert task_inbox("octo/app", 13) == "task:octo/app#13"
    assert goal_inbox("octo/app", 12) == "goal:octo/app#12"


def test_goal_and_task_ids_never_collide() -> None:
    assert goal_workflow_id("o/r", 1) != task_workflow_id("o/r", 1)
    assert task_workflow_id("o/r", 1) != task_workflow_id("o/r", 11)
    assert task_workflow_id("o/r", 1, "a") != task_workflow_id("o/r", 1)


def test_a_task_record_knows_its_workflow_id() -> None:
    task = Task(repo="octo/app", number=13, goal_number=12, key="k", title="t")
    assert task.workflow_id == task_workflow_id("octo/app", 13)


@given(
    st.from_regex(r"[A-Za-z0-9][A-Za-z0-9-]{0,20}/[A-Za-z0-9._-]{1,30}", fullmatch=True),
    st.integers(min_value=1, max_value=10**9),
    st.from_regex(r"[a-z0-9:-]{0,12}", fullmatch=True),
)
def test_run_name_is_a_plain_file_name(repo: str, number: int, tag: str) -> None:
    for workflow_id in (
        goal_workflow_id(repo, number, tag),
        task_workflow_id(repo, number, tag),
        planner_workflow_id(goal_workflow_id(repo, number, tag)),
    ):
        name = run_name(workflow_id)
        assert "/" not in name
        assert ":" not in name
        assert len(name) == len(workflow_id)  # one character for one: nothing dropped


def test_run_name_of_a_task() -> None:
    assert run_name("task:octo/app#13:r1") == "task_octo_app#13_r1"


@pytest.mark.parametrize(
    "message", [GoalMessage("task_ended", 7), GoalMessage("stop"), GoalMessage("go")]
)
def test_goal_message_round_trips(message: GoalMessage) -> None:
    assert GoalMessage.of(message.as_dict()) == message


def test_goal_message_number_defaults_to_zero_and_is_an_int() -> None:
    assert GoalMessage.of({"kind": "go"}) == GoalMessage("go", 0)
    assert GoalMessage.of({"kind": "task_ended", "number": "9"}) == GoalMessage("task_ended", 9)
    assert GoalMessage.of({"kind": "stop", "number": None}) == GoalMessage("stop", 0)


@pytest.mark.parametrize(
    "junk",
    [
        None,  # a timeout
        "go",
        ["go"],
        42,
        {},
        {"kind": "explode"},
        {"kind": None},
        {"number": 3},
        {"kind": "GO"},
    ],
)
def test_goal_message_rejects_junk(junk: Any) -> None:
    assert GoalMessage.of(junk) is None


def test_a_goal_message_whose_number_is_not_one_is_junk() -> None:
    assert GoalMessage.of({"kind": "go", "number": "x"}) is None
    assert GoalMessage.of({"kind": "task_ended", "number": [7]}) is None
