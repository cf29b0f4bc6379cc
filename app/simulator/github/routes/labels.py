"""Labels of a repository and of an issue."""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, Request, Response

from app.simulator.github import issueops
from app.simulator.github.errors import GitHubError, not_found
from app.simulator.github.models import Label
from app.simulator.github.routes.deps import (
    ActorDep,
    AnyBodyDep,
    BodyDep,
    SimDep,
    opt_str,
    paginate,
    repo_for,
    req_str,
)

router = APIRouter()
COLOR = re.compile(r"^[0-9a-fA-F]{6}$")


def _label_names(body: Any) -> list[str]:
    """`{"labels": [...]}` or a bare array; items are names or `{"name": ...}`."""
    items = body.get("labels", []) if isinstance(body, dict) else body
    if not isinstance(items, list):
        raise GitHubError(422, "Invalid request.\n\nFor 'links/0/schema', nil is not an array.")
    names = [i.get("name") if isinstance(i, dict) else i for i in items]
    checked = [n for n in names if isinstance(n, str) and n]
    if len(checked) != len(names):
        raise GitHubError(422, "Invalid request.")
    return checked


@router.get("/repos/{owner}/{repo}/labels")
def list_labels(
    sim: SimDep, actor: ActorDep, owner: str, repo: str, request: Request, response: Response
) -> list[dict[str, Any]]:
    found = repo_for(sim, actor, owner, repo, "read", "issues")
    with sim.state.lock:
        labels = sorted(found.labels.values(), key=lambda lb: lb.id)
        return [sim.render.label(found, lb) for lb in paginate(request, response, labels)]


@router.post("/repos/{owner}/{repo}/labels", status_code=201)
def create_label(
    sim: SimDep, actor: ActorDep, owner: str, repo: str, body: BodyDep
) -> dict[str, Any]:
    found = repo_for(sim, actor, owner, repo, "write", "issues")
    name = req_str(body, "name", "Label")
    color = (opt_str(body, "color", "Label") or "ededed").lstrip("#")
    if not COLOR.match(color):
        raise GitHubError(
            422,
            "Validation Failed",
            errors=[{"resource": "Label", "code": "invalid", "field": "color"}],
        )
    with sim.state.lock:
        if name.lower() in found.labels:
            raise GitHubError(
                422,
                "Validation Failed",
                errors=[{"resource": "Label", "code": "already_exists", "field": "name"}],
            )
        label = Label(
            sim.state.next_id(), name, color.lower(), opt_str(body, "description", "Label")
        )
        found.labels[name.lower()] = label
        return sim.render.label(found, label)


@router.get("/repos/{owner}/{repo}/labels/{name:path}")
def get_label(sim: SimDep, actor: ActorDep, owner: str, repo: str, name: str) -> dict[str, Any]:
    found = repo_for(sim, actor, owner, repo, "read", "issues")
    with sim.state.lock:
        label = found.labels.get(name.lower())
        if label is None:
            raise not_found()
        return sim.render.label(found, label)


@router.patch("/repos/{owner}/{repo}/labels/{name:path}")
def update_label(
    sim: SimDep, actor: ActorDep, owner: str, repo: str, name: str, body: BodyDep
) -> dict[str, Any]:
    found = repo_for(sim, actor, owner, repo, "write", "issues")
    with sim.state.lock:
        label = found.labels.get(name.lower())
        if label is None:
            raise not_found()
        new_name = opt_str(body, "new_name", "Label")
        if new_name and new_name.lower() != name.lower():
            if new_name.lower() in found.labels:
                raise GitHubError(
                    422,
                    "Validation Failed",
                    errors=[{"resource": "Label", "code": "already_exists", "field": "name"}],
                )
            del found.labels[name.lower()]
            label.name = new_name
            found.labels[new_name.lower()] = label
        if body.get("color"):
            label.color = str(body["color"]).lstrip("#").lower()
        if "description" in body:
            label.description = opt_str(body, "description", "Label")
        return sim.render.label(found, label)


@router.delete("/repos/{owner}/{repo}/labels/{name:path}", status_code=204)
def delete_label(sim: SimDep, actor: ActorDep, owner: str, repo: str, name: str) -> Response:
    found = repo_for(sim, actor, owner, repo, "write", "issues")
    with sim.state.lock:
        label = found.labels.pop(name.lower(), None)
        if label is None:
            raise not_found()
        for issue in found.issues.values():
            issue.labels = [lb for lb in issue.labels if lb.id != label.id]
    return Response(status_code=204)


@router.get("/repos/{owner}/{repo}/issues/{number:int}/labels")
def issue_labels(
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
        issue = sim.state.issue(found, number)
        return [sim.render.label(found, lb) for lb in paginate(request, response, issue.labels)]


@router.post("/repos/{owner}/{repo}/issues/{number:int}/labels")
def add_issue_labels(
    sim: SimDep, actor: ActorDep, owner: str, repo: str, number: int, body: AnyBodyDep
) -> list[dict[str, Any]]:
    found = repo_for(sim, actor, owner, repo, "triage", "issues")
    names = _label_names(body)
    with sim.state.lock:
        issue = sim.state.issue(found, number)
        issueops.add_labels(sim, found, issue, names, actor.require_user())
        return [sim.render.label(found, lb) for lb in issue.labels]


@router.put("/repos/{owner}/{repo}/issues/{number:int}/labels")
def set_issue_labels(
    sim: SimDep, actor: ActorDep, owner: str, repo: str, number: int, body: AnyBodyDep
) -> list[dict[str, Any]]:
    found = repo_for(sim, actor, owner, repo, "triage", "issues")
    names = _label_names(body)
    with sim.state.lock:
        issue = sim.state.issue(found, number)
        issueops.set_labels(sim, found, issue, names, actor.require_user())
        return [sim.render.label(found, lb) for lb in issue.labels]


@router.delete("/repos/{owner}/{repo}/issues/{number:int}/labels/{name:path}")
def remove_issue_label(
    sim: SimDep, actor: ActorDep, owner: str, repo: str, number: int, name: str
) -> list[dict[str, Any]]:
    found = repo_for(sim, actor, owner, repo, "triage", "issues")
    with sim.state.lock:
        issue = sim.state.issue(found, number)
        issueops.remove_label(sim, found, issue, name, actor.require_user())
        return [sim.render.label(found, lb) for lb in issue.labels]


@router.delete("/repos/{owner}/{repo}/issues/{number:int}/labels", status_code=204)
def clear_issue_labels(
    sim: SimDep, actor: ActorDep, owner: str, repo: str, number: int
) -> Response:
    found = repo_for(sim, actor, owner, repo, "triage", "issues")
    with sim.state.lock:
        issue = sim.state.issue(found, number)
        issueops.set_labels(sim, found, issue, [], actor.require_user())
    return Response(status_code=204)
