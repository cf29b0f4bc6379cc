"""What a `/swarm` command decides, from the command and the state of its goal or task alone."""

from __future__ import annotations

import pytest

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
from app.domain.records import Target
from app.domain.states import SETTLED_GOAL_STATES, GoalState, TaskState
from app.events.command_text import Command, parse_command
from app.events.decisions import decide_command

GOAL = Target("goal", 1, 1, GoalState.WORKING)
TASK = Target("task", 7, 1, TaskState.WORKING)


def decide(text: str, target: Target) -> Action:
    command = parse_command(text, "swarm")
    assert command is not None
    return decide_command(command, target)


@pytest.mark.parametrize(
    ("text", "action"),
    [
        ("/swarm status", ShowStatus(1, "the status comment above is up to date.")),
        ("/swarm go", SendGo(1)),
        ("/swarm stop", StopGoal(1)),
        ("/swarm use a dataclass, not a dict", TellPlanner(1, "use a dataclass, not a dict")),
        ("@swarm split the parser task", TellPlanner(1, "split the parser task")),
    ],
)
def test_commands_on_a_running_goal(text: str, action: Action) -> None:
    assert decide(text, GOAL) == action


@pytest.mark.parametrize("state", sorted(SETTLED_GOAL_STATES))
def test_a_settled_goal_can_be_retried_or_replanned(state: GoalState) -> None:
    settled = Target("goal", 1, 1, state)
    assert decide("/swarm retry", settled) == RestartGoal(1, replan=False)
    assert decide("/swarm replan fewer tasks", settled) == RestartGoal(1, True, "fewer tasks")


@pytest.mark.parametrize(
    "state",
    [GoalState.REQUESTED, GoalState.PLANNING, GoalState.AWAITING_GO, GoalState.WORKING],
)
def test_a_goal_at_work_is_not_started_twice(state: GoalState) -> None:
    """A second run beside the first would schedule the same tasks twice."""
    for verb in ("retry", "replan"):
        action = decide(f"/swarm {verb}", Target("goal", 1, 1, state))
        assert isinstance(action, Answer) and "`/swarm stop` it first" in action.text


@pytest.mark.parametrize(
    ("text", "action"),
    [
        ("/swarm status", ShowStatus(1, "task #7 is working; see #1.")),
        ("/swarm stop", StopTask(7, 1)),
        ("/swarm keep the old name", TellWorker(7, 1, "keep the old name")),
        ("/swarm retry", FollowUp(7, 1, "")),
        ("/swarm retry with the fix from #3", FollowUp(7, 1, "with the fix from #3")),
    ],
)
def test_commands_on_a_task_or_its_pull_request(text: str, action: Action) -> None:
    assert decide(text, TASK) == action


@pytest.mark.parametrize("verb", ["go", "replan"])
def test_goal_commands_on_a_task_point_to_the_goal(verb: str) -> None:
    assert decide(f"/swarm {verb}", TASK) == Answer(f"`/swarm {verb}` works on the goal, #1.")


def test_a_command_outside_any_goal_says_how_to_start_one() -> None:
    action = decide_command(Command("stop", ""), Target("none"))
    assert isinstance(action, Answer) and "label it `swarm`" in action.text


def test_a_tasks_state_is_said_in_words() -> None:
    spent = Target("task", 7, 1, TaskState.BUDGET_EXHAUSTED)
    assert decide("/swarm status", spent) == ShowStatus(1, "task #7 is budget exhausted; see #1.")
