"""Pull request reviews and review comments."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from app.simulator.github.auth import require
from app.simulator.github.errors import GitHubError, not_found
from app.simulator.github.models import Review, ReviewComment
from app.simulator.github.routes.deps import ActorDep, BodyDep, SimDep, opt_str, paginate, repo_for
from app.simulator.github.util import utcnow

router = APIRouter()
EVENT_STATES = {
    "APPROVE": "APPROVED",
    "REQUEST_CHANGES": "CHANGES_REQUESTED",
    "COMMENT": "COMMENTED",
}


def _comments(body: dict[str, Any]) -> list[dict[str, Any]]:
    comments = body.get("comments") or []
    if not isinstance(comments, list) or not all(
        isinstance(c, dict) and isinstance(c.get("path"), str) and isinstance(c.get("body"), str)
        for c in comments
    ):
        raise GitHubError(
            422, "Unprocessable Entity", errors=["Review comments need a path and a body"]
        )
    return comments


@router.post("/repos/{owner}/{repo}/pulls/{number:int}/reviews")
def create_review(
    sim: SimDep, actor: ActorDep, owner: str, repo: str, number: int, body: BodyDep
) -> dict[str, Any]:
    found = repo_for(sim, actor, owner, repo, "read", "pull_requests")
    user = actor.require_user()
    if actor.token is not None:
        require(sim.state, actor, found, "write", "pull_requests")
    event = opt_str(body, "event", "PullRequestReview")
    if event is not None and event not in EVENT_STATES:
        raise GitHubError(422, "Unprocessable Entity", errors=[f"Invalid event: {event}"])
    text = opt_str(body, "body", "PullRequestReview") or ""
    comments = _comments(body)
    if event in ("REQUEST_CHANGES", "COMMENT") and not text and not comments:
        raise GitHubError(
            422, "Unprocessable Entity", errors=[f"Review body is required for {event}"]
        )
    with sim.state.lock:
        issue = sim.state.pull(found, number)
        pull = issue.pull
        assert pull is not None
        if event in ("APPROVE", "REQUEST_CHANGES") and issue.user.id == user.id:
            verb = "approve" if event == "APPROVE" else "request changes on"
            raise GitHubError(
                422, "Unprocessable Entity", errors=[f"Can not {verb} your own pull request"]
            )
        now = utcnow()
        review = Review(
            id=sim.state.next_id(),
            user=user,
            body=text,
            state=EVENT_STATES.get(event or "", "PENDING"),
            commit_id=opt_str(body, "commit_id", "PullRequestReview") or pull.head_sha,
            submitted_at=now if event else None,
        )
        pull.reviews.append(review)
        for item in comments:
            line = item.get("line") or item.get("position")
            pull.review_comments.append(
                ReviewComment(
                    id=sim.state.next_id(),
                    review_id=review.id,
                    user=user,
                    body=item["body"],
                    path=item["path"],
                    line=line if isinstance(line, int) else None,
                    side=str(item.get("side") or "RIGHT"),
                    commit_id=review.commit_id,
                    created_at=now,
                    updated_at=now,
                )
            )
        if event:
            sim.events.review_submitted(found, issue, review, user)
        return sim.render.review(found, issue, review)


@router.get("/repos/{owner}/{repo}/pulls/{number:int}/reviews")
def list_reviews(
    sim: SimDep,
    actor: ActorDep,
    owner: str,
    repo: str,
    number: int,
    request: Request,
    response: Response,
) -> list[dict[str, Any]]:
    found = repo_for(sim, actor, owner, repo, "read", "pull_requests")
    with sim.state.lock:
        issue = sim.state.pull(found, number)
        reviews = issue.pull.reviews if issue.pull else []
        return [sim.render.review(found, issue, r) for r in paginate(request, response, reviews)]


@router.get("/repos/{owner}/{repo}/pulls/{number:int}/reviews/{review_id:int}")
def get_review(
    sim: SimDep, actor: ActorDep, owner: str, repo: str, number: int, review_id: int
) -> dict[str, Any]:
    found = repo_for(sim, actor, owner, repo, "read", "pull_requests")
    with sim.state.lock:
        issue = sim.state.pull(found, number)
        review = (
            next((r for r in issue.pull.reviews if r.id == review_id), None) if issue.pull else None
        )
        if review is None:
            raise not_found()
        return sim.render.review(found, issue, review)


@router.get("/repos/{owner}/{repo}/pulls/{number:int}/comments")
def list_review_comments(
    sim: SimDep,
    actor: ActorDep,
    owner: str,
    repo: str,
    number: int,
    request: Request,
    response: Response,
) -> list[dict[str, Any]]:
    found = repo_for(sim, actor, owner, repo, "read", "pull_requests")
    with sim.state.lock:
        issue = sim.state.pull(found, number)
        comments = issue.pull.review_comments if issue.pull else []
        return [
            sim.render.review_comment(found, issue, c)
            for c in paginate(request, response, comments)
        ]


@router.get("/repos/{owner}/{repo}/pulls/{number:int}/reviews/{review_id:int}/comments")
def list_review_comments_of_review(
    sim: SimDep,
    actor: ActorDep,
    owner: str,
    repo: str,
    number: int,
    review_id: int,
    request: Request,
    response: Response,
) -> list[dict[str, Any]]:
    found = repo_for(sim, actor, owner, repo, "read", "pull_requests")
    with sim.state.lock:
        issue = sim.state.pull(found, number)
        comments = [
            c
            for c in (issue.pull.review_comments if issue.pull else [])
            if c.review_id == review_id
        ]
        return [
            sim.render.review_comment(found, issue, c)
            for c in paginate(request, response, comments)
        ]
