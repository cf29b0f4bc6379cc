"""The goal: one workflow per labelled issue, id `goal:<owner/repo>#<number>`.

Starting it twice (a second label event, a redelivery) joins the running one.
"""

from __future__ import annotations

from dbos import DBOS, SetWorkflowID

from app.runtime import current


def goal_workflow_id(repo: str, number: int) -> str:
    return f"goal:{repo}#{number}"


@DBOS.step(name="store.record_goal")
async def record_goal(
    installation_id: int, repo: str, number: int, title: str, requested_by: str
) -> str:
    goal = await current().store.record_goal(repo, number, installation_id, title, requested_by)
    return goal.state


@DBOS.workflow(name="goal")
async def goal_workflow(
    installation_id: int, repo: str, number: int, title: str, requested_by: str, plan_only: bool
) -> str:
    await record_goal(installation_id, repo, number, title, requested_by)
    return "recorded"


async def start_goal(
    *,
    installation_id: int,
    repo: str,
    number: int,
    title: str,
    requested_by: str,
    plan_only: bool,
) -> str:
    workflow_id = goal_workflow_id(repo, number)
    with SetWorkflowID(workflow_id):
        await DBOS.start_workflow_async(
            goal_workflow, installation_id, repo, number, title, requested_by, plan_only
        )
    return workflow_id
