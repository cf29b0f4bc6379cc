"""People steer the swarm from GitHub: `/swarm …` comments, reviews, the `swarm` label.

Only a permitted human's text changes what the swarm does; every command is acknowledged with
a reaction at once and answered with a comment when done.
"""

from __future__ import annotations

import logging

from app.domain.actions import FollowUp, StopGoal
from app.domain.states import GoalState
from app.events.command_text import parse_command
from app.events.decisions import decide_command
from app.events.payloads import Event, IssueCommentEvent, IssueEvent
from app.events.router import Delivery, Router
from app.events.trigger import permitted_sender
from app.flows import commands, steps
from app.flows.actions import Asked, perform

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
    asked = Asked(installation, repo, event.sender.login, delivery.id)
    answer = await perform(decide_command(command, target), asked)
    reply = f"> {command.verb} {command.text}".rstrip() + f"\n\n@{event.sender.login} {answer}"
    await steps.comment(installation, repo, event.issue.number, "reply", delivery.id, reply)
    return f"/swarm {command.verb}: {answer}"


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
    asked = Asked(installation, repo, event.sender.login, delivery.id)
    return await perform(FollowUp(target.number, target.goal_number, instructions), asked)


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
    if target.kind != "goal" or target.state in {GoalState.STOPPED, GoalState.DONE}:
        return "ignored: no running goal"
    asked = Asked(event.installation.id, repo, event.sender.login, delivery.id)
    await perform(StopGoal(event.issue.number), asked)
    return f"goal {repo}#{event.issue.number} stopped: label removed"
