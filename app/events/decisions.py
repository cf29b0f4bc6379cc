"""What a `/swarm` command means where it was written. Pure: a command and the state of its goal
or task in, one action out (`app.domain.actions`); `app.flows.actions` does it."""

from __future__ import annotations

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
from app.domain.states import SETTLED_GOAL_STATES, GoalState
from app.events.command_text import Command


def decide_command(command: Command, target: Target) -> Action:
    if target.kind == "none":
        return Answer("this issue is not part of a swarm goal: label it `swarm` to start one.")
    if target.kind == "goal":
        return _on_goal(command, target)
    return _on_task(command, target)


def _on_goal(command: Command, target: Target) -> Action:
    goal, verb = target.number, command.verb
    if verb == "status":
        return ShowStatus(goal, "the status comment above is up to date.")
    if verb == "go":
        return SendGo(goal)
    if verb == "stop":
        return StopGoal(goal)
    if verb in {"retry", "replan"}:
        if GoalState(target.state) not in SETTLED_GOAL_STATES:
            state = target.state.replace("_", " ")
            return Answer(f"the goal is {state}: `/swarm stop` it first.")
        return RestartGoal(goal, replan=verb == "replan", direction=command.text)
    return TellPlanner(goal, command.text)


def _on_task(command: Command, target: Target) -> Action:
    task, goal, verb = target.number, target.goal_number, command.verb
    if verb == "status":
        state = target.state.replace("_", " ")
        return ShowStatus(goal, f"task #{task} is {state}; see #{goal}.")
    if verb == "stop":
        return StopTask(task, goal)
    if verb in {"go", "replan"}:
        return Answer(f"`/swarm {verb}` works on the goal, #{goal}.")
    if verb == "say":
        return TellWorker(task, goal, command.text)
    return FollowUp(task, goal, command.text)  # `retry` (with any text): a new run
