"""Issue comments and reactions (on issues and on issue comments)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from app.simulator.github.auth import Actor, require
from app.simulator.github.core import Simulator
from app.simulator.github.errors import GitHubError, not_found, validation_failed
from app.simulator.github.models import Comment, Issue, Reaction, Repo
from app.simulator.github.render import REACTION_CONTENTS
from app.simulator.github.routes.deps import ActorDep, BodyDep, SimDep, paginate, repo_for, req_str
from app.simulator.github.util import utcnow

router = APIRouter()


def _comment(sim: Simulator, repo: Repo, comment_id: int) -> tuple[Issue, Comment]:
    found = sim.state.comment_index.get(comment_id)
    if found is None or found[0].id != repo.id:
        raise not_found()
    return found[1], found[2]


def _may_write(sim: Simulator, actor: Actor, repo: Repo) -> None:
    """Commenting or reacting: anyone who can read, but an App needs `issues: write`."""
    actor.require_user()
    if actor.token is not None:
        require(sim.state, actor, repo, "write", "issues")


@router.get("/repos/{owner}/{repo}/issues/{number:int}/comments")
def list_comments(
    sim: SimDep,
    actor: ActorDep,
    owner: str,
    repo: str,
    number: int,
    request: Request,
    response: Response,
) -> list[dict[str, Any]]:
    found = repo_for(sim, actor, owner, repo, "read", "issues")
    since = request.query_params.get("since")
    with sim.state.lock:
        issue = sim.state.issue(found, number)
        items = [
            c
            for c in issue.comments
            if not since or c.updated_at.isoformat() >= since.replace("Z", "+00:00")
        ]
        return [sim.render.comment(found, issue, c) for c in paginate(request, response, items)]


@router.get("/repos/{owner}/{repo}/issues/comments")
def list_repo_comments(
    sim: SimDep, actor: ActorDep, owner: str, repo: str, request: Request, response: Response
) -> list[dict[str, Any]]:
    found = repo_for(sim, actor, owner, repo, "read", "issues")
    with sim.state.lock:
        pairs = sorted(
            ((i, c) for i in found.issues.values() for c in i.comments), key=lambda pair: pair[1].id
        )
        return [sim.render.comment(found, i, c) for i, c in paginate(request, response, pairs)]


@router.post("/repos/{owner}/{repo}/issues/{number:int}/comments", status_code=201)
def create_comment(
    sim: SimDep, actor: ActorDep, owner: str, repo: str, number: int, body: BodyDep
) -> dict[str, Any]:
    found = repo_for(sim, actor, owner, repo, "read", "issues")
    _may_write(sim, actor, found)
    text = req_str(body, "body", "IssueComment")
    user = actor.require_user()
    with sim.state.lock:
        issue = sim.state.issue(found, number)
        if issue.locked:
            raise GitHubError(403, "Unable to create comment because issue is locked.")
        now = utcnow()
        comment = Comment(
            sim.state.next_id(), number, user, text, now, now, via_app=actor.token is not None
        )
        issue.comments.append(comment)
        issue.updated_at = now
        sim.state.comment_index[comment.id] = (found, issue, comment)
        sim.events.issue_comment("created", found, issue, comment, user)
        return sim.render.comment(found, issue, comment)


@router.get("/repos/{owner}/{repo}/issues/comments/{comment_id:int}")
def get_comment(
    sim: SimDep, actor: ActorDep, owner: str, repo: str, comment_id: int
) -> dict[str, Any]:
    found = repo_for(sim, actor, owner, repo, "read", "issues")
    with sim.state.lock:
        issue, comment = _comment(sim, found, comment_id)
        return sim.render.comment(found, issue, comment)


def _owned_comment(
    sim: Simulator, actor: Actor, repo: Repo, comment_id: int
) -> tuple[Issue, Comment]:
    issue, comment = _comment(sim, repo, comment_id)
    if actor.token is not None or comment.user.id != actor.require_user().id:
        require(sim.state, actor, repo, "write", "issues")
    return issue, comment


@router.patch("/repos/{owner}/{repo}/issues/comments/{comment_id:int}")
def update_comment(
    sim: SimDep, actor: ActorDep, owner: str, repo: str, comment_id: int, body: BodyDep
) -> dict[str, Any]:
    found = repo_for(sim, actor, owner, repo, "read", "issues")
    text = req_str(body, "body", "IssueComment")
    with sim.state.lock:
        issue, comment = _owned_comment(sim, actor, found, comment_id)
        previous = comment.body
        comment.body, comment.updated_at = text, utcnow()
        if previous != text:
            sim.events.issue_comment(
                "edited",
                found,
                issue,
                comment,
                actor.require_user(),
                changes={"body": {"from": previous}},
            )
        return sim.render.comment(found, issue, comment)


@router.delete("/repos/{owner}/{repo}/issues/comments/{comment_id:int}", status_code=204)
def delete_comment(
    sim: SimDep, actor: ActorDep, owner: str, repo: str, comment_id: int
) -> Response:
    found = repo_for(sim, actor, owner, repo, "read", "issues")
    with sim.state.lock:
        issue, comment = _owned_comment(sim, actor, found, comment_id)
        issue.comments.remove(comment)
        del sim.state.comment_index[comment.id]
        sim.events.issue_comment("deleted", found, issue, comment, actor.require_user())
    return Response(status_code=204)


# reactions -------------------------------------------------------------------------------------
def _react(
    sim: Simulator, actor: Actor, reactions: list[Reaction], body: dict[str, Any]
) -> JSONResponse:
    content = body.get("content")
    if content not in REACTION_CONTENTS:
        raise validation_failed("Reaction", "content")
    user = actor.require_user()
    existing = next((r for r in reactions if r.user.id == user.id and r.content == content), None)
    if existing is not None:
        return JSONResponse(sim.render.reaction(existing), status_code=200)
    reaction = Reaction(sim.state.next_id(), user, str(content), utcnow())
    reactions.append(reaction)
    return JSONResponse(sim.render.reaction(reaction), status_code=201)


def _listed(
    sim: Simulator, request: Request, response: Response, reactions: list[Reaction]
) -> list[dict[str, Any]]:
    content = request.query_params.get("content")
    chosen = [r for r in reactions if content is None or r.content == content]
    return [sim.render.reaction(r) for r in paginate(request, response, chosen)]


@router.post("/repos/{owner}/{repo}/issues/{number:int}/reactions")
def react_issue(
    sim: SimDep, actor: ActorDep, owner: str, repo: str, number: int, body: BodyDep
) -> JSONResponse:
    found = repo_for(sim, actor, owner, repo, "read", "issues")
    _may_write(sim, actor, found)
    with sim.state.lock:
        return _react(sim, actor, sim.state.issue(found, number).reactions, body)


@router.get("/repos/{owner}/{repo}/issues/{number:int}/reactions")
def issue_reactions(
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
        return _listed(sim, request, response, sim.state.issue(found, number).reactions)


@router.post("/repos/{owner}/{repo}/issues/comments/{comment_id:int}/reactions")
def react_comment(
    sim: SimDep, actor: ActorDep, owner: str, repo: str, comment_id: int, body: BodyDep
) -> JSONResponse:
    found = repo_for(sim, actor, owner, repo, "read", "issues")
    _may_write(sim, actor, found)
    with sim.state.lock:
        return _react(sim, actor, _comment(sim, found, comment_id)[1].reactions, body)


@router.get("/repos/{owner}/{repo}/issues/comments/{comment_id:int}/reactions")
def comment_reactions(
    sim: SimDep,
    actor: ActorDep,
    owner: str,
    repo: str,
    comment_id: int,
    request: Request,
    response: Response,
) -> list[dict[str, Any]]:
    found = repo_for(sim, actor, owner, repo, "read", "issues")
    with sim.state.lock:
        return _listed(sim, request, response, _comment(sim, found, comment_id)[1].reactions)


@router.delete(
    "/repos/{owner}/{repo}/issues/comments/{comment_id:int}/reactions/{reaction_id:int}",
    status_code=204,
)
def delete_comment_reaction(
    sim: SimDep, actor: ActorDep, owner: str, repo: str, comment_id: int, reaction_id: int
) -> Response:
    found = repo_for(sim, actor, owner, repo, "read", "issues")
    with sim.state.lock:
        reactions = _comment(sim, found, comment_id)[1].reactions
        mine = [
            r for r in reactions if r.id == reaction_id and r.user.id == actor.require_user().id
        ]
        if not mine:
            raise not_found()
        reactions.remove(mine[0])
    return Response(status_code=204)
