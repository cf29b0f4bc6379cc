"""How a pull request's time at the gate ends, whether its own gate or the merge train ends it:
landed (the sub-issue closed, the task done with the tested and landed commits), handed back to
its worker (a new run told what to fix, one round more), blocked (labelled, with the reason), or
the loud mismatch of a landed commit that is not the tested one. Each tells the goal.
"""

from __future__ import annotations

import logging

from dbos import DBOS

from app.domain.addresses import GOAL_TOPIC, GoalMessage, task_workflow_id
from app.domain.gate import HandBackKind
from app.domain.states import GoalState, TaskState
from app.flows import gate_steps as do
from app.flows import steps
from app.flows.gate_steps import GateStart
from app.flows.render import hand_back_text
from app.flows.task import enqueue_task
from app.flows.transitions import move_goal, move_task
from app.repo_config import RepoConfig

log = logging.getLogger(__name__)


async def tell_goal(repo: str, goal_number: int, task: int) -> None:
    goal_workflow = await do.goal_workflow_of(repo, goal_number)
    if goal_workflow:
        await DBOS.send_async(goal_workflow, GoalMessage("task_ended", task).as_dict(), GOAL_TOPIC)


async def hand_back(
    start: GateStart, goal_number: int, config: RepoConfig, kind: HandBackKind, why: str,
    details: str, rounds: int, merge_base: str,
) -> None:  # fmt: skip
    """A new run of the task's worker, told what to fix; it counts one round. `merge_base`:
    for a conflict, the commit its worker merges to resolve it."""
    await do.count(start.repo, start.task, "rounds")
    if kind == "conflict":
        await do.count(start.repo, start.task, "conflicts")
    rounds += 1
    run = task_workflow_id(start.repo, start.task, f"r{rounds}-{start.head[:12]}")
    note = f"handed back ({rounds}/{config.gate.max_rounds}): {why}"
    queued = await move_task(
        start.installation_id, start.repo, start.task, TaskState.QUEUED, run=run, note=note
    )
    if queued.state != TaskState.QUEUED:
        return  # stopped meanwhile
    goal_workflow = await do.goal_workflow_of(start.repo, goal_number)
    await enqueue_task(
        start.installation_id, start.repo, start.task, goal_workflow, config, run,
        instructions=hand_back_text(kind, why, details), requested_by="swarm",
        merge_base=merge_base if kind == "conflict" else "",
    )  # fmt: skip


async def budget_exhausted(start: GateStart, goal_number: int, why: str) -> None:
    """No budget left for the judge: the task stops there, and says why."""
    await move_task(start.installation_id, start.repo, start.task, TaskState.BUDGET_EXHAUSTED,
                    note=f"no budget left for the judge: {why}")  # fmt: skip
    await tell_goal(start.repo, goal_number, start.task)


async def block(start: GateStart, goal_number: int, why: str) -> None:
    await move_task(start.installation_id, start.repo, start.task, TaskState.BLOCKED, note=why)
    await do.label_blocked(start)
    await tell_goal(start.repo, goal_number, start.task)


async def landed(
    start: GateStart, goal_number: int, base: do.Base, before: str, tested: str, landed_sha: str
) -> None:
    """The pull request landed in `landed_sha`, the commit that passed (`tested`)."""
    await do.after_landing(start)
    try:
        await do.landing_notices(start, base, before, landed_sha)
    except Exception:  # a courtesy to other workers: the landing stands without it
        log.exception("landing notices for #%s not sent", start.pr)
    await move_task(
        start.installation_id, start.repo, start.task, TaskState.DONE, note="",
        tested_sha=tested, landed_sha=landed_sha,
    )  # fmt: skip
    await tell_goal(start.repo, goal_number, start.task)


async def mismatch(start: GateStart, goal_number: int, why: str) -> None:
    """What landed is not what was tested: say so loudly and pause the goal."""
    loud = f"**The landed commit is not the tested one**: {why}. The goal is paused."
    await steps.comment(start.installation_id, start.repo, start.pr, "mismatch", start.head, loud)
    # Paused before it is told: the goal must not take the blocked task for an ordinary one.
    await move_goal(start.installation_id, start.repo, goal_number, GoalState.PAUSED, loud)
    await block(start, goal_number, loud)
