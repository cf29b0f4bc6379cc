"""Sub-issues: a parent issue and its children, addressed by the child's issue *id*."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from app.simulator.github.core import Simulator
from app.simulator.github.errors import GitHubError, not_found
from app.simulator.github.models import Issue, Repo
from app.simulator.github.routes.deps import ActorDep, BodyDep, SimDep, paginate, repo_for

router = APIRouter()
MAX_SUB_ISSUES = 100


def _child(sim: Simulator, repo: Repo, body: dict[str, Any]) -> Issue:
    sub_id = body.get("sub_issue_id")
    if not isinstance(sub_id, int) or isinstance(sub_id, bool):
        raise GitHubError(
            422, "Invalid request.\n\nFor 'properties/sub_issue_id', is not an integer."
        )
    found = sim.state.issue_index.get(sub_id)
    # Sub-issues may live in another repository of the same owner.
    if found is None or found[0].owner.id != repo.owner.id:
        raise not_found()
    return found[1]


@router.post("/repos/{owner}/{repo}/issues/{number:int}/sub_issues", status_code=201)
def add_sub_issue(
    sim: SimDep, actor: ActorDep, owner: str, repo: str, number: int, body: BodyDep
) -> dict[str, Any]:
    found = repo_for(sim, actor, owner, repo, "triage", "issues")
    user = actor.require_user()
    with sim.state.lock:
        parent = sim.state.issue(found, number)
        child = _child(sim, found, body)
        if child.id == parent.id or child.pull is not None:
            raise GitHubError(
                422,
                "Validation Failed",
                errors=[{"resource": "Issue", "field": "sub_issue_id", "code": "invalid"}],
            )
        if child.parent_id is not None:
            if not body.get("replace_parent"):
                raise GitHubError(
                    422,
                    "Validation Failed",
                    errors=[
                        {
                            "resource": "Issue",
                            "code": "custom",
                            "field": "sub_issue_id",
                            "message": "Sub issue may only have one parent",
                        }
                    ],
                )
            _, old_parent = sim.state.issue_index[child.parent_id]
            old_parent.sub_issue_ids.remove(child.id)
        if len(parent.sub_issue_ids) >= MAX_SUB_ISSUES:
            raise GitHubError(422, "Parent issue has reached the maximum number of sub-issues")
        parent.sub_issue_ids.append(child.id)
        child.parent_id = parent.id
        sim.events.sub_issue_added(found, parent, child, user)
        return sim.render.issue(found, parent)


@router.delete("/repos/{owner}/{repo}/issues/{number:int}/sub_issue")
def remove_sub_issue(
    sim: SimDep, actor: ActorDep, owner: str, repo: str, number: int, body: BodyDep
) -> dict[str, Any]:
    found = repo_for(sim, actor, owner, repo, "triage", "issues")
    with sim.state.lock:
        parent = sim.state.issue(found, number)
        child = _child(sim, found, body)
        if child.id not in parent.sub_issue_ids:
            raise not_found()
        parent.sub_issue_ids.remove(child.id)
        child.parent_id = None
        return sim.render.issue(found, parent)


@router.get("/repos/{owner}/{repo}/issues/{number:int}/sub_issues")
def list_sub_issues(
    sim: SimDep,
    actor: ActorDep,
    owner: str,
    repo: str,
    number: int,
    request: Request,
    response: Response,
) -> list[dict[str, Any]]:
    found = repo_for(sim, actor, owner, repo, "read", "issues")
    with sim.state.lock:
        parent = sim.state.issue(found, number)
        children = [sim.state.issue_index[i] for i in parent.sub_issue_ids]
        return [sim.render.issue(r, i) for r, i in paginate(request, response, children)]


@router.get("/repos/{owner}/{repo}/issues/{number:int}/parent")
def get_parent(sim: SimDep, actor: ActorDep, owner: str, repo: str, number: int) -> dict[str, Any]:
    found = repo_for(sim, actor, owner, repo, "read", "issues")
    with sim.state.lock:
        issue = sim.state.issue(found, number)
        if issue.parent_id is None:
            raise not_found()
        parent_repo, parent = sim.state.issue_index[issue.parent_id]
        return sim.render.issue(parent_repo, parent)
