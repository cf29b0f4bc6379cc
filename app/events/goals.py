"""`swarm` (or `swarm:plan`) labelled on an issue by a permitted user starts a goal."""

from __future__ import annotations

import logging

from app.domain.refs import IssueRef
from app.events.payloads import IssueEvent
from app.events.router import Delivery, Router
from app.events.trigger import permitted_sender
from app.flows import steps
from app.flows.goal import GoalStart, start_goal

log = logging.getLogger(__name__)
router = Router()

GOAL_LABELS = {"swarm", "swarm:plan"}


@router.on("issues", "labeled")
async def on_labeled(delivery: Delivery) -> str:
    event = IssueEvent.model_validate(delivery.payload)
    if event.label is None or event.label.name not in GOAL_LABELS:
        return "ignored: not a swarm label"
    if event.issue.is_pull_request:
        return "ignored: a pull request is not a goal"
    refusal = await permitted_sender(event)
    if refusal:
        log.info("delivery %s: %s; not starting a goal", delivery.id, refusal)
        return f"ignored: {refusal}"
    assert event.installation and event.repository and event.sender  # checked above
    repo = event.repository.full_name
    await steps.react_to_issue(event.installation.id, repo, event.issue.number, "eyes")
    plan_only = event.label.name == "swarm:plan"
    start = GoalStart(event.issue.title, event.sender.login, plan_only, delivery=delivery.id)
    await start_goal(IssueRef(event.installation.id, repo, event.issue.number), start)
    return f"goal {repo}#{event.issue.number} started by {event.sender.login}"
