"""Webhooks that concern a merge gate: checks finishing on a candidate, reviews and the hold
label on a swarm pull request, and a push to one. They only wake the gate (a DBOS message): the
gate reads GitHub itself, so a lost or repeated delivery changes nothing but the timing.
"""

from __future__ import annotations

import logging

from app.domain.records import Task
from app.events.payloads import Event
from app.events.router import Delivery, Router
from app.flows.gate import start_gate, wake_gate
from app.flows.gate_steps import GateStart, gates_testing, record_new_head, task_of_pr
from app.flows.train import wake_train

log = logging.getLogger(__name__)
router = Router()


async def _wake_candidate(delivery: Delivery, sha: str) -> str:
    event = Event.model_validate(delivery.payload)
    if event.repository is None or not sha:
        return "ignored: no repository or commit"
    repo = event.repository.full_name
    gates = await gates_testing(repo, sha)
    for gate in gates:
        await wake_gate(gate, "checks")
    train = " and the merge train" if gates and await wake_train(repo) else ""
    return f"woke {len(gates)} gate(s){train} testing {sha[:12]}"


@router.on("check_run", "completed")
async def on_check_run(delivery: Delivery) -> str:
    run = delivery.payload.get("check_run") or {}
    return await _wake_candidate(delivery, str(run.get("head_sha") or ""))


@router.on("check_suite", "completed")
async def on_check_suite(delivery: Delivery) -> str:
    suite = delivery.payload.get("check_suite") or {}
    return await _wake_candidate(delivery, str(suite.get("head_sha") or ""))


@router.on("status")
async def on_status(delivery: Delivery) -> str:
    if delivery.payload.get("state") == "pending":
        return "ignored: pending"
    return await _wake_candidate(delivery, str(delivery.payload.get("sha") or ""))


async def _swarm_pull(delivery: Delivery) -> tuple[str, Task] | None:
    event = Event.model_validate(delivery.payload)
    pull = delivery.payload.get("pull_request") or {}
    if event.repository is None or not pull.get("number"):
        return None
    repo = event.repository.full_name
    task = await task_of_pr(repo, int(pull["number"]))
    return (repo, task) if task is not None else None


@router.on("pull_request_review")
@router.on("pull_request", "labeled")
@router.on("pull_request", "unlabeled")
async def on_people(delivery: Delivery) -> str:
    """A review submitted or dismissed, a label (`swarm:hold`) put or taken: a gate waiting on
    people looks again."""
    found = await _swarm_pull(delivery)
    if found is None or not found[1].gate:
        return "ignored: no gate"
    await wake_gate(found[1].gate, "people")
    return f"woke the gate: {delivery.kind}"


@router.on("pull_request", "synchronize")
async def on_push(delivery: Delivery) -> str:
    """A push to a swarm pull request that the swarm did not make (a person's): its head is a
    new head, with a gate of its own; the old gate ends at its next look."""
    found = await _swarm_pull(delivery)
    pull = delivery.payload.get("pull_request") or {}
    head = str((pull.get("head") or {}).get("sha") or "")
    if found is None or not head:
        return "ignored: not a swarm pull request"
    repo, task = found
    if head in (task.head_sha, task.candidate_sha):
        return "ignored: the swarm's own push"
    installation = Event.model_validate(delivery.payload).installation
    if installation is None or task.pr_number is None or task.state != "pr_open":
        return "ignored: no gate to move"
    old = task.gate
    await record_new_head(repo, task.number, head)
    await start_gate(
        GateStart(installation.id, repo, task.number, task.pr_number, head, task.title,
                  task.branch)
    )  # fmt: skip
    if old:
        await wake_gate(old, "moved", head)
    return f"a new head {head[:12]}: a new gate"
