"""The merge gate: one durable workflow per pull request head, id `gate:<repo>#<pr>:<head sha>`.

It executes what the gate's policy (`app.domain.gate`) decides — build the candidate, wait for its
checks (webhooks wake it; it polls when one is lost), re-run a failed check once, ask the judge,
read what people said, land by compare-and-swap — and ends by landing, handing the task back to
its worker (red CI, the judge's changes, a conflict), blocking it, or finding that a newer head
has its own gate. A push to the pull request starts a new gate; the old one ends at its next
look. Webhooks reach a waiting gate as DBOS messages on `GATE_TOPIC`.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

from dbos import DBOS, SetEnqueueOptions, SetWorkflowID

from app.context import bound
from app.domain import gate as policy
from app.domain.addresses import (
    GOAL_TOPIC,
    GoalMessage,
    gate_workflow_id,
    run_name,
    task_workflow_id,
)
from app.domain.states import GoalState, TaskState
from app.flows import gate_steps as do
from app.flows import steps
from app.flows.budget import budget_check
from app.flows.gate_steps import GateStart
from app.flows.judging import judge
from app.flows.render import hand_back_text
from app.flows.task import enqueue_task
from app.flows.transitions import move_goal, move_task
from app.repo_config import CONFIG_PATH, RepoConfig
from app.runtime import current

log = logging.getLogger(__name__)

GATE_TOPIC = "gate"


async def start_gate(start: GateStart, tag: str = "") -> str:
    """Start (or join) the gate of this pull request head; `tag`: a retry's new gate."""
    workflow_id = gate_workflow_id(start.repo, start.pr, start.head, tag)
    runtime = current()
    # A turn to land is one more candidate in CI, beside the gates: with a CI budget of one
    # gate (one pull request at a time, as a lock), it waits for that one slot instead.
    alone = runtime.settings.gate_concurrency == 1
    queue = runtime.landing if start.in_turn and not alone else runtime.gates
    assert queue is not None
    with SetWorkflowID(workflow_id), SetEnqueueOptions(queue_partition_key=start.repo):
        await queue.enqueue_async(gate_workflow, start)
    return workflow_id


async def restart_gate(start: GateStart, current_gate: str, tag: str) -> None:
    """A retried goal's pull request back in a gate: the running one if there is one, else a
    new one (the one that ran ended: blocked, or handed back)."""
    if current_gate:
        status = await DBOS.get_workflow_status_async(current_gate)
        if status is not None and status.status in ("PENDING", "ENQUEUED"):
            return
    await start_gate(start, tag)


async def wake_gate(gate_id: str, kind: str, head: str = "") -> None:
    """Tell a waiting gate that something it waits for may have changed."""
    await DBOS.send_async(gate_id, {"kind": kind, "head": head}, GATE_TOPIC)


@DBOS.workflow(name="gate")
async def gate_workflow(start: GateStart) -> str:
    me = DBOS.workflow_id or gate_workflow_id(start.repo, start.pr, start.head)
    with bound(gate=me):
        if not await do.claim(start, me):
            return "superseded"
        try:
            return await _run_gate(start, me)
        except Exception as exc:  # GitHub down past every retry, a bug: the task says so
            log.exception("gate %s failed", me)
            task = await steps.load_task(start.repo, start.task)
            why = f"the merge gate failed: {exc}. `/swarm retry` on the goal to gate it again"
            await _block(start, task.goal_number, why)
            return f"failed: {exc}"


async def _run_gate(start: GateStart, me: str) -> str:
    task = await steps.load_task(start.repo, start.task)
    config = await steps.load_config(start.installation_id, start.repo)
    if isinstance(config, str):
        await _block(start, task.goal_number, f"{config}. Fix `{CONFIG_PATH}`.")
        return "blocked"
    base = await do.base_of(start)
    verdict = None
    if task.verdict and task.verdict_sha == start.head:  # a verdict on this head still stands
        verdict = policy.Judged(start.head, task.verdict == "approved", "")
    state = policy.GateState(
        head=start.head, rules=do.configured_rules(config), rounds=task.rounds, verdict=verdict,
        own_heads=start.own_heads,
    )  # fmt: skip
    waited_since = 0.0
    while True:
        action = policy.decide(state)
        log.info("gate %s: %s", me, action)
        event: policy.Event
        match action:
            case policy.Build():
                event = await do.build(start, base, config.merge_method)
                waited_since = 0.0
            case policy.AwaitChecks(candidate):
                if state.checks is not None:  # looked once already: wait for news, or poll
                    moved = await _wait(current().settings.gate_poll_seconds)
                    if moved:
                        state = policy.advance(state, policy.PeopleSeen(policy.People(moved)))
                        continue
                now = await do.now()
                waited_since = waited_since or now
                event = await do.checks(start, candidate, base, config.gate.required_checks)
                counted, missing = policy.required_checks(event)
                finished = counted and not missing and all(c.done for c in counted)
                minutes = (now - waited_since) / 60
                if not finished and minutes >= config.gate.check_timeout_minutes:
                    event = policy.ChecksTimedOut(config.gate.check_timeout_minutes)
            case policy.Rerun(check):
                event = await do.rerun(start, check)
            case policy.Judge(candidate):
                left, why = await budget_check(start.repo, task.goal_number, config.budgets)
                if left <= 0:
                    state_now = TaskState.BUDGET_EXHAUSTED
                    note = f"no budget left for the judge: {why}"
                    await move_task(start.installation_id, start.repo, start.task, state_now,
                                    note=note)  # fmt: skip
                    await _tell_goal(start.repo, task.goal_number, start.task)
                    return "budget exhausted"
                event = await judge(
                    start, base, candidate, state.base, state.checks, config, task.goal_number,
                    left, run_name(f"{me}:judge:{candidate[:12]}"),
                )  # fmt: skip
            case policy.AskPeople():
                if state.verdict and state.verdict.candidate != state.candidate:
                    # The same head on a newer base: its verdict stands, and says so there.
                    await do.carry_verdict(start, state.candidate, state.verdict.candidate)
                event = await do.people(start, task.goal_number)
            case policy.AwaitPeople(why):
                await move_task(start.installation_id, start.repo, start.task,
                                TaskState.PR_OPEN, note=f"waiting for {why}")  # fmt: skip
                moved = await _wait(current().settings.gate_people_poll_seconds)
                if moved:
                    state = policy.advance(state, policy.PeopleSeen(policy.People(moved)))
                    continue
                event = await do.people(start, task.goal_number)
            case policy.Land(candidate):
                pr_head = state.people.head if state.people else start.head
                event = await do.land(start, base, candidate, config.merge_method, pr_head)
                if config.merge_method != "merge":  # the branch was moved to the candidate
                    state = replace(state, own_heads=(*state.own_heads, candidate))
                if isinstance(event, policy.LandRefused) and not start.in_turn:
                    # Main moved (most often: another landing). Rebuilding now would race every
                    # other gate again; this pull request takes its turn to land instead.
                    log.info("gate %s: landing refused (%s); landing in turn", me, event.why)
                    turn = replace(start, in_turn=True, own_heads=state.own_heads)
                    await start_gate(turn, f"land-r{state.rounds}")
                    return "landing in turn"
                if isinstance(event, policy.LandRefused):
                    log.info("gate %s: landing refused (%s); a new candidate", me, event.why)
            case policy.HandBack(_, why):
                await _hand_back(start, task.goal_number, config, action, state)
                return f"handed back: {why}"
            case policy.Block(why):
                await _block(start, task.goal_number, why)
                return f"blocked: {why}"
            case policy.Finish("landed"):
                await _landed(start, task.goal_number, base, state)
                return "landed"
            case policy.Finish("mismatch", why):
                await _mismatch(start, task.goal_number, why)
                return f"mismatch: {why}"
            case policy.Finish(outcome, why):
                log.info("gate %s ends: %s %s", me, outcome, why)
                return outcome
        before = state
        state = policy.advance(state, event)
        if len(state.flakes) > len(before.flakes):
            await do.count(start.repo, start.task, "flakes")


async def _wait(seconds: float) -> str:
    """Wait for a message (or the poll); the new head when the pull request moved, else ""."""
    message: Any = await DBOS.recv_async(GATE_TOPIC, timeout_seconds=seconds)
    if isinstance(message, dict) and message.get("kind") == "moved":
        return str(message.get("head") or "")
    return ""


async def _tell_goal(repo: str, goal_number: int, task: int) -> None:
    goal_workflow = await do.goal_workflow_of(repo, goal_number)
    if goal_workflow:
        await DBOS.send_async(goal_workflow, GoalMessage("task_ended", task).as_dict(), GOAL_TOPIC)


async def _hand_back(
    start: GateStart, goal_number: int, config: RepoConfig, action: policy.HandBack,
    state: policy.GateState,
) -> None:  # fmt: skip
    """A new run of the task's worker, told what to fix; it counts one round."""
    await do.count(start.repo, start.task, "rounds")
    if action.kind == "conflict":
        await do.count(start.repo, start.task, "conflicts")
    rounds = state.rounds + 1
    run = task_workflow_id(start.repo, start.task, f"r{rounds}-{start.head[:12]}")
    note = f"handed back ({rounds}/{state.rules.max_rounds}): {action.why}"
    queued = await move_task(
        start.installation_id, start.repo, start.task, TaskState.QUEUED, run=run, note=note
    )
    if queued.state != TaskState.QUEUED:
        return  # stopped meanwhile
    merge_base = state.base if action.kind == "conflict" else ""
    goal_workflow = await do.goal_workflow_of(start.repo, goal_number)
    await enqueue_task(
        start.installation_id, start.repo, start.task, goal_workflow, config, run,
        instructions=hand_back_text(action.kind, action.why, action.details),
        requested_by="swarm", merge_base=merge_base,
    )  # fmt: skip


async def _block(start: GateStart, goal_number: int, why: str) -> None:
    await move_task(start.installation_id, start.repo, start.task, TaskState.BLOCKED, note=why)
    await do.label_blocked(start)
    await _tell_goal(start.repo, goal_number, start.task)


async def _landed(
    start: GateStart, goal_number: int, base: do.Base, state: policy.GateState
) -> None:
    assert state.landed is not None
    await do.after_landing(start)
    try:
        await do.landing_notices(start, base, state.base, state.landed.sha)
    except Exception:  # a courtesy to other workers: the landing stands without it
        log.exception("gate for #%s: landing notices not sent", start.pr)
    await move_task(
        start.installation_id, start.repo, start.task, TaskState.DONE, note="",
        tested_sha=state.candidate, landed_sha=state.landed.sha,
    )  # fmt: skip
    await _tell_goal(start.repo, goal_number, start.task)


async def _mismatch(start: GateStart, goal_number: int, why: str) -> None:
    """What landed is not what was tested: say so loudly and pause the goal."""
    loud = f"**The landed commit is not the tested one**: {why}. The goal is paused."
    await steps.comment(start.installation_id, start.repo, start.pr, "mismatch", start.head, loud)
    # Paused before it is told: the goal must not take the blocked task for an ordinary one.
    await move_goal(start.installation_id, start.repo, goal_number, GoalState.PAUSED, loud)
    await _block(start, goal_number, loud)
