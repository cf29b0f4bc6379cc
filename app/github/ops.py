"""The few typed GitHub operations the handlers and flows call.

Every write is idempotent: it looks for what it would create (by name, or by the hidden
marker in the bot's own text) before it creates it, so a replayed workflow step never makes
a twin.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Literal

from githubkit import GitHub
from githubkit.exception import RequestFailed
from githubkit_schemas.latest.models import (
    Issue,
    IssueComment,
    Label,
    PullRequestSimple,
)

from app.credentials import redact
from app.domain.refs import RepoRef

Reaction = Literal["+1", "-1", "laugh", "confused", "heart", "hooray", "rocket", "eyes"]

log = logging.getLogger(__name__)

WRITE_PERMISSIONS = frozenset({"admin", "maintain", "write"})

# The labels the swarm reads: name -> (colour, description).
SWARM_LABELS: dict[str, tuple[str, str]] = {
    "swarm": ("5319e7", "Swarm: plan and implement this issue"),
    "swarm:plan": ("c5def5", "Swarm: post a plan and wait for /swarm go"),
    "swarm:task": ("bfd4f2", "Swarm: a task of a goal"),
    "swarm:blocked": ("d93f0b", "Swarm: needs a human"),
}


def marker(kind: str, key: str) -> str:
    """The hidden tag that makes the bot's own text findable again."""
    return f"<!-- swarm:{kind}:{key} -->"


async def permission_of(gh: GitHub, repo: RepoRef, login: str) -> str:
    """The user's permission on the repository as GitHub reports it ("none" if unknown)."""
    try:
        resp = await gh.rest.repos.async_get_collaborator_permission_level(
            repo.owner, repo.name, login
        )
    except RequestFailed as exc:
        if exc.response.status_code == 404:
            return "none"
        raise
    return resp.parsed_data.permission


async def can_write(gh: GitHub, repo: RepoRef, login: str) -> bool:
    return await permission_of(gh, repo, login) in WRITE_PERMISSIONS


async def ensure_labels(gh: GitHub, repo: RepoRef) -> list[str]:
    """Create the swarm's labels that the repository lacks; return the names created."""
    existing: set[str] = set()
    label: Label
    async for label in gh.rest.paginate(
        gh.rest.issues.async_list_labels_for_repo, owner=repo.owner, repo=repo.name
    ):
        existing.add(label.name.lower())  # GitHub's label names ignore case
    created = []
    for name, (color, description) in SWARM_LABELS.items():
        if name.lower() in existing:
            continue
        try:
            await gh.rest.issues.async_create_label(
                repo.owner, repo.name, name=name, color=color, description=description
            )
        except RequestFailed as exc:
            if exc.response.status_code != 422:  # 422: created meanwhile by someone else
                raise
            continue
        created.append(name)
    return created


async def react_to_issue(gh: GitHub, repo: RepoRef, number: int, content: Reaction) -> None:
    """Add a reaction; GitHub answers 200 instead of 201 when it exists, so replays are safe."""
    await gh.rest.reactions.async_create_for_issue(
        repo.owner,
        repo.name,
        number,
        content=content,  # type: ignore[arg-type]
    )


async def react_to_comment(gh: GitHub, repo: RepoRef, comment_id: int, content: Reaction) -> None:
    await gh.rest.reactions.async_create_for_issue_comment(
        repo.owner,
        repo.name,
        comment_id,
        content=content,  # type: ignore[arg-type]
    )


def _written_by_bot(comment: IssueComment, login: str | None) -> bool:
    if comment.user is None or comment.user.type != "Bot":
        return False
    return login is None or comment.user.login == login


async def upsert_comment(
    gh: GitHub, repo: RepoRef, number: int, kind: str, key: str, body: str,
    author: str | None = None,
) -> int:  # fmt: skip
    """Create the bot's comment tagged (kind, key), or edit it in place; return its id.
    `author`: the App's bot login; without it, any bot's comment with the tag is taken."""
    tag = marker(kind, key)
    text = f"{redact(body)}\n\n{tag}"
    comment: IssueComment
    async for comment in gh.rest.paginate(
        gh.rest.issues.async_list_comments,
        owner=repo.owner,
        repo=repo.name,
        issue_number=number,
    ):
        # Only the bot's own comment: anyone may write the marker into a comment of theirs.
        if _written_by_bot(comment, author) and comment.body and tag in comment.body:
            if comment.body != text:
                await gh.rest.issues.async_update_comment(
                    repo.owner, repo.name, comment.id, body=text
                )
            return comment.id
    resp = await gh.rest.issues.async_create_comment(repo.owner, repo.name, number, body=text)
    return resp.parsed_data.id


@dataclass(frozen=True)
class RepoInfo:
    clone_url: str
    default_branch: str


async def repo_info(gh: GitHub, repo: RepoRef) -> RepoInfo:
    data = (await gh.rest.repos.async_get(repo.owner, repo.name)).parsed_data
    return RepoInfo(clone_url=data.clone_url, default_branch=data.default_branch)


async def file_text(gh: GitHub, repo: RepoRef, path: str, ref: str) -> str | None:
    """A file's text on `ref`, or None when it does not exist there."""
    import base64

    try:
        resp = await gh.rest.repos.async_get_content(repo.owner, repo.name, path, ref=ref)
    except RequestFailed as exc:
        if exc.response.status_code == 404:
            return None
        raise
    content = resp.json()
    if not isinstance(content, dict) or content.get("type") != "file":
        return None
    return base64.b64decode(str(content.get("content") or "")).decode("utf-8", errors="replace")


async def find_issue_by_marker(gh: GitHub, repo: RepoRef, label: str, tag: str) -> int | None:
    """The number of an issue (open or closed) with `label` whose body carries `tag`."""
    issue: Issue
    async for issue in gh.rest.paginate(
        gh.rest.issues.async_list_for_repo,
        owner=repo.owner,
        repo=repo.name,
        labels=label,
        state="all",
    ):
        if issue.body and tag in issue.body:
            return issue.number
    return None


async def create_issue(
    gh: GitHub, repo: RepoRef, title: str, body: str, labels: list[str]
) -> tuple[int, int]:
    """Create an issue; return (number, id)."""
    data = (
        await gh.rest.issues.async_create(
            repo.owner,
            repo.name,
            title=redact(title),
            body=redact(body),
            labels=labels,  # type: ignore[arg-type]
        )
    ).parsed_data
    return data.number, data.id


async def issue_id(gh: GitHub, repo: RepoRef, number: int) -> int:
    return (await gh.rest.issues.async_get(repo.owner, repo.name, number)).parsed_data.id


async def ensure_sub_issue(gh: GitHub, repo: RepoRef, parent: int, child: int) -> None:
    """Link `child` under `parent` unless it already is."""
    sub: Issue
    async for sub in gh.rest.paginate(
        gh.rest.issues.async_list_sub_issues,
        owner=repo.owner,
        repo=repo.name,
        issue_number=parent,
    ):
        if sub.number == child:
            return
    child_id = await issue_id(gh, repo, child)
    await gh.rest.issues.async_add_sub_issue(repo.owner, repo.name, parent, sub_issue_id=child_id)


async def comment(gh: GitHub, repo: RepoRef, number: int, body: str) -> int:
    resp = await gh.rest.issues.async_create_comment(
        repo.owner, repo.name, number, body=redact(body)
    )
    return resp.parsed_data.id


@dataclass(frozen=True)
class PullRequestRef:
    number: int
    head_sha: str


async def open_pull_request(
    gh: GitHub, repo: RepoRef, *, head: str, base: str, title: str, body: str
) -> PullRequestRef:
    """The open pull request for `head`, updated to `body`; created when there is none."""
    title, body = redact(title), redact(body)
    pr: PullRequestSimple
    async for pr in gh.rest.paginate(
        gh.rest.pulls.async_list,
        owner=repo.owner,
        repo=repo.name,
        state="open",
        head=f"{repo.owner}:{head}",
    ):
        if pr.head.ref == head:
            if pr.body != body:
                await gh.rest.pulls.async_update(repo.owner, repo.name, pr.number, body=body)
            return PullRequestRef(pr.number, pr.head.sha)
    data = (
        await gh.rest.pulls.async_create(
            repo.owner, repo.name, head=head, base=base, title=title, body=body
        )
    ).parsed_data
    return PullRequestRef(data.number, data.head.sha)
