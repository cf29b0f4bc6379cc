"""Issues: create, get, update, list, and assignees. Pull requests are issues too."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request, Response

from app.simulator.github import issueops
from app.simulator.github.auth import Actor, require, role_on
from app.simulator.github.core import Simulator
from app.simulator.github.errors import GitHubError
from app.simulator.github.models import Issue, Repo, permission_at_least
from app.simulator.github.routes.deps import (
    ActorDep,
    BodyDep,
    SimDep,
    opt_str,
    opt_str_list,
    paginate,
    repo_for,
    req_str,
)

router = APIRouter()


def can_triage(sim: Simulator, actor: Actor, repo: Repo) -> bool:
    return permission_at_least(role_on(sim.state, actor, repo), "triage")


def writable_issue(
    sim: Simulator, actor: Actor, owner: str, name: str, number: int
) -> tuple[Repo, Issue]:
    """The issue, if the caller may change it: its author, or triage access and up."""
    repo = repo_for(sim, actor, owner, name, "read", "issues")
    with sim.state.lock:
        issue = sim.state.issue(repo, number)
        user = actor.require_user()
        if actor.token is not None or issue.user.id != user.id:
            require(sim.state, actor, repo, "triage", "issues")
        return repo, issue


@router.post("/repos/{owner}/{repo}/issues", status_code=201)
def create_issue(
    sim: SimDep, actor: ActorDep, owner: str, repo: str, body: BodyDep
) -> dict[str, Any]:
    found = repo_for(sim, actor, owner, repo, "read", "issues")
    user = actor.require_user()
    if actor.token is not None:
        require(sim.state, actor, found, "write", "issues")
    title = req_str(body, "title", "Issue")
    text = opt_str(body, "body", "Issue")
    labels = opt_str_list(body, "labels", "Issue") or []
    assignees = opt_str_list(body, "assignees", "Issue") or []
    if isinstance(body.get("assignee"), str):
        assignees.append(body["assignee"])
    with sim.state.lock:
        issue = issueops.new_issue(sim, found, user, title, text)
        sim.events.issue("opened", found, issue, user)
        # Only people who may triage set labels and assignees; GitHub drops them silently.
        if can_triage(sim, actor, found):
            issueops.add_labels(sim, found, issue, labels, user)
            issueops.add_assignees(sim, found, issue, assignees, user)
        return sim.render.issue(found, issue)


@router.get("/repos/{owner}/{repo}/issues/{number:int}")
def get_issue(sim: SimDep, actor: ActorDep, owner: str, repo: str, number: int) -> dict[str, Any]:
    found = repo_for(sim, actor, owner, repo, "read", "issues")
    with sim.state.lock:
        return sim.render.issue(found, sim.state.issue(found, number))


@router.patch("/repos/{owner}/{repo}/issues/{number:int}")
def update_issue(
    sim: SimDep, actor: ActorDep, owner: str, repo: str, number: int, body: BodyDep
) -> dict[str, Any]:
    found, issue = writable_issue(sim, actor, owner, repo, number)
    user = actor.require_user()
    title = opt_str(body, "title", "Issue")
    text = opt_str(body, "body", "Issue")
    state = opt_str(body, "state", "Issue")
    reason = opt_str(body, "state_reason", "Issue")
    labels = opt_str_list(body, "labels", "Issue")
    assignees = opt_str_list(body, "assignees", "Issue")
    if assignees is None and "assignee" in body:
        assignees = [body["assignee"]] if body["assignee"] else []
    with sim.state.lock:
        if (labels is not None or assignees is not None) and not can_triage(sim, actor, found):
            raise GitHubError(403, "Must have triage access to repository.")
        issueops.edit_text(sim, found, issue, title, text, "body" in body, user)
        if state is not None:
            issueops.set_state(sim, found, issue, state, reason, user)
        if labels is not None:
            issueops.set_labels(sim, found, issue, labels, user)
        if assignees is not None:
            issueops.set_assignees(sim, found, issue, assignees, user)
        return sim.render.issue(found, issue)


def _matches(issue: Issue, query: dict[str, str], since: datetime | None) -> bool:
    state = query.get("state", "open")
    if state != "all" and issue.state != state:
        return False
    wanted = [n.strip().lower() for n in query.get("labels", "").split(",") if n.strip()]
    names = {label.name.lower() for label in issue.labels}
    if any(n not in names for n in wanted):
        return False
    creator = query.get("creator")
    if creator and issue.user.login.lower() != creator.lower():
        return False
    assignee = query.get("assignee")
    if assignee == "none" and issue.assignees:
        return False
    if (
        assignee
        and assignee not in ("*", "none")
        and all(a.login.lower() != assignee.lower() for a in issue.assignees)
    ):
        return False
    if assignee == "*" and not issue.assignees:
        return False
    return since is None or issue.updated_at >= since


@router.get("/repos/{owner}/{repo}/issues")
def list_issues(
    sim: SimDep, actor: ActorDep, owner: str, repo: str, request: Request, response: Response
) -> list[dict[str, Any]]:
    found = repo_for(sim, actor, owner, repo, "read", "issues")
    query = dict(request.query_params)
    since = None
    if query.get("since"):
        try:
            since = datetime.fromisoformat(query["since"].replace("Z", "+00:00"))
        except ValueError as exc:
            raise GitHubError(422, "Invalid since") from exc
    sort_key = {"updated": "updated_at", "comments": "comments"}.get(
        query.get("sort", ""), "created_at"
    )
    with sim.state.lock:
        items = [i for i in found.issues.values() if _matches(i, query, since)]

        def key(issue: Issue) -> Any:
            return len(issue.comments) if sort_key == "comments" else getattr(issue, sort_key)

        items.sort(
            key=lambda i: (key(i), i.number), reverse=query.get("direction", "desc") != "asc"
        )
        return [sim.render.issue(found, i) for i in paginate(request, response, items)]


@router.post("/repos/{owner}/{repo}/issues/{number:int}/assignees", status_code=201)
def add_assignees(
    sim: SimDep, actor: ActorDep, owner: str, repo: str, number: int, body: BodyDep
) -> dict[str, Any]:
    found = repo_for(sim, actor, owner, repo, "triage", "issues")
    logins = opt_str_list(body, "assignees", "Issue") or []
    with sim.state.lock:
        issue = sim.state.issue(found, number)
        issueops.add_assignees(sim, found, issue, logins, actor.require_user())
        return sim.render.issue(found, issue)


@router.delete("/repos/{owner}/{repo}/issues/{number:int}/assignees")
def remove_assignees(
    sim: SimDep, actor: ActorDep, owner: str, repo: str, number: int, body: BodyDep
) -> dict[str, Any]:
    found = repo_for(sim, actor, owner, repo, "triage", "issues")
    logins = opt_str_list(body, "assignees", "Issue") or []
    with sim.state.lock:
        issue = sim.state.issue(found, number)
        issueops.remove_assignees(sim, found, issue, logins, actor.require_user())
        return sim.render.issue(found, issue)
