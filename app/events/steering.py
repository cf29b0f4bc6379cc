"""People steer the swarm from GitHub: `/swarm …` comments, reviews, the `swarm` label.

Only a permitted human's text changes what the swarm does; every command is acknowledged with
a reaction at once and answered with a comment when done.
"""

from __future__ import annotations

import logging

from app.domain.addresses import goal_workflow_id, task_workflow_id
from app.domain.refs import IssueRef
from app.domain.states import SETTLED_GOAL_STATES, GoalState, TaskState
from app.events.command_text import Command, parse_command
from app.events.payloads import Event, IssueCommentEvent, IssueEvent
from app.events.router import Delivery, Router
from app.events.trigger import permitted_sender
from app.flows import commands, steps
from app.flows.commands import Target
from app.flows.goal import GoalStart, load_config, start_goal
from app.flows.task import enqueue_task
from app.flows.transitions import move_task, status_soon

log = logging.getLogger(__name__)
router = Router()


@router.on("issue_comment", "created")
async def on_comment(delivery: Delivery) -> str:
    event = IssueCommentEvent.model_validate(delivery.payload)
    if event.comment.user.is_bot:
        return "ignored: a bot's comment"
    if "/swarm" not in event.comment.body.lower() and "@" not in event.comment.body:
        return "ignored: no command"  # most comments: no need to ask who we are
    identity = await steps.app_identity()
    command = parse_command(event.comment.body, identity)
    if command is None:
        return "ignored: no command"
    refusal = await permitted_sender(event)
    if refusal:
        log.info("delivery %s: %s; command ignored", delivery.id, refusal)
        return f"ignored: {refusal}"
    assert event.installation and event.repository and event.sender
    installation, repo = event.installation.id, event.repository.full_name
    await steps.react_to_comment(installation, repo, event.comment.id, "eyes")
    target = await commands.find_target(repo, event.issue.number)
    answer = await _execute(delivery, installation, repo, event, command, target)
    reply = f"> {command.verb} {command.text}".rstrip() + f"\n\n@{event.sender.login} {answer}"
    await steps.comment(installation, repo, event.issue.number, "reply", delivery.id, reply)
    return f"/swarm {command.verb}: {answer}"


async def _execute(
    delivery: Delivery, installation: int, repo: str, event: IssueCommentEvent,
    command: Command, target: Target,
) -> str:  # fmt: skip
    assert event.sender is not None
    by = event.sender.login
    if target.kind == "none":
        return "this issue is not part of a swarm goal: label it `swarm` to start one."
    if target.kind == "goal":
        return await _on_goal(delivery, installation, repo, event.issue.number, command, by)
    return await _on_task(delivery, installation, repo, target, command, by)


async def _on_goal(
    delivery: Delivery, installation: int, repo: str, number: int, command: Command, by: str
) -> str:
    if command.verb == "status":
        await steps.refresh_status(installation, repo, number)
        return "the status comment above is up to date."
    if command.verb == "go":
        sent = await commands.send_go(repo, number)
        return "going: the tasks are being created." if sent else "nothing is waiting for go."
    if command.verb == "stop":
        for task_number in await commands.stop_goal(repo, number, by):
            await commands.stop_task(repo, task_number, by)
        await status_soon(installation, repo, number)
        return "stopped the goal and its agents."
    if command.verb in {"retry", "replan"}:
        state = (await commands.find_target(repo, number)).state
        if state not in SETTLED_GOAL_STATES:
            return f"the goal is {state.replace('_', ' ')}: `/swarm stop` it first."
        reset = await commands.reset_unfinished_tasks(repo, number)
        replan = command.verb == "replan"
        start = GoalStart("", by, replan=command.text, resume=not replan, delivery=delivery.id)
        await start_goal(IssueRef(installation, repo, number), start, tag=delivery.id)
        if replan:
            return "re-planning the goal."
        return f"retrying: {reset} task(s) back in the queue."
    delivered = await commands.redirect_planner(repo, number, by, command.text)
    if delivered:
        return "delivered to the planner at its next turn."
    return (
        "no agent is working on the goal itself: comment on a task or its pull request, "
        "or `/swarm replan <direction>`."
    )


async def _on_task(
    delivery: Delivery, installation: int, repo: str, target: Target, command: Command, by: str
) -> str:
    number, goal_number = target.number, target.goal_number
    if command.verb == "status":
        await steps.refresh_status(installation, repo, goal_number)
        return f"task #{number} is {target.state.replace('_', ' ')}; see #{goal_number}."
    if command.verb == "stop":
        answer = await commands.stop_task(repo, number, by)
        await status_soon(installation, repo, goal_number)
        return answer + "."
    if command.verb in {"go", "replan"}:
        return f"`/swarm {command.verb}` works on the goal, #{goal_number}."
    if command.verb == "say" and await commands.redirect(repo, number, by, command.text):
        return "delivered to the agent at its next turn."
    # Nobody is working there: a retry, or a follow-up run on the same branch.
    return await follow_up(delivery, installation, repo, number, goal_number, by, command.text)


async def follow_up(
    delivery: Delivery, installation: int, repo: str, number: int, goal_number: int, by: str,
    instructions: str,
) -> str:  # fmt: skip
    config = await load_config(installation, repo)
    if isinstance(config, str):
        return f"cannot start: {config}"
    run = task_workflow_id(repo, number, delivery.id)
    queued = await move_task(installation, repo, number, TaskState.QUEUED, run=run)
    if queued.state != TaskState.QUEUED:
        return f"task #{number} is {queued.state.replace('_', ' ')}: nothing started."
    await enqueue_task(
        installation, repo, number, goal_workflow_id(repo, goal_number), config, run,
        instructions=instructions, requested_by=by,
    )  # fmt: skip
    return "started a follow-up run on the task's branch."


@router.on("pull_request_review", "submitted")
async def on_review(delivery: Delivery) -> str:
    review = delivery.payload.get("review") or {}
    pull = delivery.payload.get("pull_request") or {}
    if str(review.get("state", "")).lower() != "changes_requested":
        return "ignored: not a request for changes"
    event = Event.model_validate(delivery.payload)
    refusal = await permitted_sender(event)
    if refusal:
        return f"ignored: {refusal}"
    assert event.installation and event.repository and event.sender
    repo, installation = event.repository.full_name, event.installation.id
    target = await commands.find_target(repo, int(pull.get("number", 0)))
    if target.kind != "task":
        return "ignored: not a swarm pull request"
    comments = await steps.review_comments(
        installation, repo, int(pull["number"]), int(review.get("id", 0))
    )
    text = "\n\n".join(filter(None, [review.get("body") or "", *comments])) or "(no text)"
    instructions = f"A review on the pull request requests changes:\n\n{text}"
    return await follow_up(
        delivery, installation, repo, target.number, target.goal_number, event.sender.login,
        instructions,
    )  # fmt: skip


@router.on("issues", "unlabeled")
async def on_unlabeled(delivery: Delivery) -> str:
    event = IssueEvent.model_validate(delivery.payload)
    if event.label is None or event.label.name != "swarm":
        return "ignored: not the swarm label"
    refusal = await permitted_sender(event)
    if refusal:
        return f"ignored: {refusal}"
    assert event.installation and event.repository and event.sender
    repo = event.repository.full_name
    target = await commands.find_target(repo, event.issue.number)
    if target.kind != "goal" or target.state in {GoalState.STOPPED, GoalState.PRS_OPEN}:
        return "ignored: no running goal"
    for task_number in await commands.stop_goal(repo, event.issue.number, event.sender.login):
        await commands.stop_task(repo, task_number, event.sender.login)
    await status_soon(event.installation.id, repo, event.issue.number)
    return f"goal {repo}#{event.issue.number} stopped: label removed"


@router.on("check_run", "completed")
async def on_check_run(delivery: Delivery) -> str:
    """Record CI's verdict on a swarm pull request's head (no model, no write to GitHub)."""
    event = Event.model_validate(delivery.payload)
    run = delivery.payload.get("check_run") or {}
    if event.repository is None or not run.get("head_sha"):
        return "ignored: no repository or head"
    name, conclusion = str(run.get("name", "")), str(run.get("conclusion") or "")
    repo = event.repository.full_name
    goals = await steps.record_check(repo, str(run["head_sha"]), f"{name}: {conclusion}")
    if event.installation is not None:
        for goal_number in goals:
            await status_soon(event.installation.id, repo, goal_number)
    updated = len(goals)
    return f"check {name} {conclusion} recorded on {updated} task(s)"
