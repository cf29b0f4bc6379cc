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
    gate_workflow_id,
    run_name,
)
from app.domain.states import TaskState
from app.flows import gate_steps as do
from app.flows import outcomes, steps, train_steps
from app.flows.budget import budget_check
from app.flows.gate_steps import GateStart
from app.flows.judging import judge
from app.flows.train import IN_TRAIN, join_train, wake_train
from app.flows.train_steps import TrainStart
from app.flows.transitions import move_task
from app.repo_config import CONFIG_PATH, RepoConfig
from app.runtime import current
from app.store import Task

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
            await outcomes.block(start, task.goal_number, why)
            return f"failed: {exc}"


async def _run_gate(start: GateStart, me: str) -> str:
    task = await steps.load_task(start.repo, start.task)
    config = await steps.load_config(start.installation_id, start.repo)
    if isinstance(config, str):
        await outcomes.block(start, task.goal_number, f"{config}. Fix `{CONFIG_PATH}`.")
        return "blocked"
    base = await do.base_of(start)
    if config.gate.train.enabled:
        return await _ride_train(start, task, config, base)
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
                    await outcomes.budget_exhausted(start, task.goal_number, why)
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
            case policy.HandBack(kind, why, details):
                await outcomes.hand_back(
                    start, task.goal_number, config, kind, why, details, state.rounds, state.base
                )
                return f"handed back: {why}"
            case policy.Block(why):
                await outcomes.block(start, task.goal_number, why)
                return f"blocked: {why}"
            case policy.Finish("landed"):
                assert state.landed is not None
                await outcomes.landed(
                    start, task.goal_number, base, state.base, state.candidate, state.landed.sha
                )
                return "landed"
            case policy.Finish("mismatch", why):
                await outcomes.mismatch(start, task.goal_number, why)
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


async def _ride_train(start: GateStart, task: Task, config: RepoConfig, base: do.Base) -> str:
    """The gate of a repository with a merge train: the pull request joins the train at once
    (CI runs on the train's candidates), and the gate judges it and reads people meanwhile; the
    train lands it once it is approved, or hands it back."""
    repo = start.repo
    if not await train_steps.place(repo, start.task, start.head, "in", ("", "in")):
        return "superseded"  # a newer head, or the train has it approved already
    await move_task(start.installation_id, repo, start.task, TaskState.PR_OPEN,
                    note="in the merge train")  # fmt: skip
    await join_train(TrainStart(start.installation_id, repo))
    if not (task.verdict == "approved" and task.verdict_sha == start.head):
        left, why = await budget_check(repo, task.goal_number, config.budgets)
        if left <= 0:
            if await train_steps.place(repo, start.task, start.head, "", IN_TRAIN):
                await outcomes.budget_exhausted(start, task.goal_number, why)
            return "budget exhausted"
        candidate, merge_base = await do.judge_candidate(start, base)
        name = run_name(f"{gate_workflow_id(repo, start.pr, start.head)}:judge:{candidate[:12]}")
        verdict = await judge(
            start, base, candidate, merge_base, None, config, task.goal_number, left, name,
            check_on=start.head,
        )  # fmt: skip
        if not verdict.approved:
            if not await train_steps.place(repo, start.task, start.head, "", IN_TRAIN):
                return "left the train"  # the train handed it back meanwhile, or it landed
            await wake_train(repo)
            decided = policy.hand_back_within(
                task.rounds, do.configured_rules(config), "judge", "the judge asked for changes",
                verdict.summary,
            )  # fmt: skip
            if isinstance(decided, policy.Block):
                await outcomes.block(start, task.goal_number, decided.why)
                return f"blocked: {decided.why}"
            await outcomes.hand_back(
                start, task.goal_number, config, "judge", decided.why, decided.details,
                task.rounds, "",
            )  # fmt: skip
            return "handed back: the judge asked for changes"
    while True:
        people = (await do.people(start, task.goal_number)).people
        if people.head != start.head:
            return "superseded"  # its new head has a gate of its own
        if people.closed:
            if await train_steps.place(repo, start.task, start.head, "", IN_TRAIN):
                await outcomes.block(start, task.goal_number, "the pull request was closed")
            return "blocked: closed"
        waiting = policy.waiting_for(people, config.require_human_approval)
        if not waiting:
            break
        await move_task(start.installation_id, repo, start.task, TaskState.PR_OPEN,
                        note=f"in the merge train, waiting for {waiting}")  # fmt: skip
        await _wait(current().settings.gate_people_poll_seconds)
    if not await train_steps.place(repo, start.task, start.head, "approved", ("in",)):
        return "left the train"
    await move_task(start.installation_id, repo, start.task, TaskState.PR_OPEN,
                    note="in the merge train, approved")  # fmt: skip
    await wake_train(repo)
    return "in the train"
