"""Doing what a maintainer's command decided (`app.events.decisions`), inside the delivery's
workflow: each write is a step, so a redelivered comment does nothing twice. Returns the answer
for the reply comment."""

from __future__ import annotations

from dataclasses import dataclass

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
from app.domain.addresses import goal_workflow_id, task_workflow_id
from app.domain.refs import IssueRef
from app.domain.states import TaskState
from app.flows import commands, steps
from app.flows.goal import GoalStart, start_goal
from app.flows.task import enqueue_task
from app.flows.transitions import move_task, status_soon
from app.github.gate import BLOCKED_LABEL


@dataclass(frozen=True)
class Asked:
    """Who asked, where, in which delivery."""

    installation_id: int
    repo: str
    by: str
    delivery: str


async def perform(action: Action, asked: Asked) -> str:
    installation, repo, by = asked.installation_id, asked.repo, asked.by
    match action:
        case Answer(text):
            return text
        case ShowStatus(goal, answer):
            await steps.refresh_status(installation, repo, goal)
            return answer
        case SendGo(goal):
            sent = await commands.send_go(repo, goal)
            return "going: the tasks are being created." if sent else "nothing is waiting for go."
        case StopGoal(goal):
            for task_number in await commands.stop_goal(repo, goal, by):
                await commands.stop_task(repo, task_number, by)
            await status_soon(installation, repo, goal)
            return "stopped the goal and its agents."
        case RestartGoal(goal, replan, direction):
            reset = await commands.reset_unfinished_tasks(repo, goal)
            await steps.remove_label(installation, repo, reset.unblocked, BLOCKED_LABEL)
            start = GoalStart("", by, replan=direction, resume=not replan, delivery=asked.delivery)
            await start_goal(IssueRef(installation, repo, goal), start, tag=asked.delivery)
            return (
                "re-planning the goal."
                if replan
                else f"retrying: {reset.count} task(s) back in the queue."
            )
        case TellPlanner(goal, text):
            if await commands.redirect_planner(repo, goal, by, text):
                return "delivered to the planner at its next turn."
            return (
                "no agent is working on the goal itself: comment on a task or its pull request, "
                "or `/swarm replan <direction>`."
            )
        case StopTask(task, goal):
            answer = await commands.stop_task(repo, task, by)
            await status_soon(installation, repo, goal)
            return answer + "."
        case TellWorker(task, goal, text):
            if await commands.redirect(repo, task, by, text):
                return "delivered to the agent at its next turn."
            return await follow_up(asked, task, goal, text)
        case FollowUp(task, goal, instructions):
            return await follow_up(asked, task, goal, instructions)
    raise AssertionError(f"no way to do {action!r}")


async def follow_up(asked: Asked, number: int, goal_number: int, instructions: str) -> str:
    """A new run on the task's branch, with `instructions` (nobody is working there now)."""
    installation, repo = asked.installation_id, asked.repo
    config = await steps.load_config(installation, repo)
    if isinstance(config, str):
        return f"cannot start: {config}"
    run = task_workflow_id(repo, number, asked.delivery)
    queued = await move_task(installation, repo, number, TaskState.QUEUED, run=run)
    if queued.state != TaskState.QUEUED:
        return f"task #{number} is {queued.state.replace('_', ' ')}: nothing started."
    await enqueue_task(
        installation, repo, number, goal_workflow_id(repo, goal_number), config, run,
        instructions=instructions, requested_by=asked.by,
    )  # fmt: skip
    return "started a follow-up run on the task's branch."
