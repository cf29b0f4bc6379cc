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
from githubkit.utils import UNSET
from githubkit_schemas.latest.models import (
    CheckRun,
    Issue,
    IssueComment,
    Label,
    PullRequestReview,
    PullRequestSimple,
    SimpleUser,
)
from githubkit_schemas.latest.types import (
    ReposOwnerRepoCheckRunsCheckRunIdPatchBodyPropOutputType as CheckRunUpdateOutput,
)
from githubkit_schemas.latest.types import (
    ReposOwnerRepoCheckRunsPostBodyPropOutputType as CheckRunOutput,
)

from app.credentials import redact
from app.domain.refs import RepoRef

Reaction = Literal["+1", "-1", "laugh", "confused", "heart", "hooray", "rocket", "eyes"]
CheckConclusion = Literal[
    "success", "failure", "neutral", "cancelled", "skipped", "timed_out", "action_required"
]

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


def _is_bot(user: SimpleUser | None, login: str | None) -> bool:
    """A bot's account (the App's own, `login`, when given)."""
    if user is None or user.type != "Bot":
        return False
    return login is None or user.login == login


def _written_by_bot(comment: IssueComment, login: str | None) -> bool:
    return _is_bot(comment.user, login)


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


# reviews and check runs ------------------------------------------------------------------------
# GitHub refuses a check run's output.summary or output.text above 65,535 characters.
CHECK_TEXT_LIMIT = 65_535


async def post_review(
    gh: GitHub, repo: RepoRef, pr_number: int, commit_id: str, body: str, marker_key: str,
    author: str | None = None,
) -> int:  # fmt: skip
    """Post the bot's review of `commit_id` tagged `marker_key`, unless it already did; return
    the review's id. `author`: the App's bot login; without it, any bot's review with the tag
    is taken.

    The review is always a COMMENT: GitHub answers 422 to APPROVE or REQUEST_CHANGES from the
    pull request's own author ("Can not approve your own pull request"), and the App's bot
    opened the swarm's pull requests. What gates the merge is the `swarm/judge` check run,
    not the review's state. A review once posted is not edited: a new verdict (on a new commit)
    is posted under a new key."""
    tag = marker("review", marker_key)
    review: PullRequestReview
    async for review in gh.rest.paginate(
        gh.rest.pulls.async_list_reviews, owner=repo.owner, repo=repo.name, pull_number=pr_number
    ):
        # Only the bot's own review: anyone may write the marker into a review of theirs.
        if _is_bot(review.user, author) and tag in (review.body or ""):
            return review.id
    resp = await gh.rest.pulls.async_create_review(
        repo.owner,
        repo.name,
        pr_number,
        commit_id=commit_id,
        body=f"{redact(body)}\n\n{tag}",
        event="COMMENT",
    )
    return resp.parsed_data.id


def _check_text(text: str) -> str:
    text = redact(text)
    if len(text) <= CHECK_TEXT_LIMIT:
        return text
    note = "\n\n[… cut at GitHub's limit]"
    return text[: CHECK_TEXT_LIMIT - len(note)] + note


async def set_check_run(
    gh: GitHub, repo: RepoRef, head_sha: str, name: str, conclusion: CheckConclusion,
    title: str, summary: str, text: str, details_url: str | None = None,
    *, app_slug: str | None = None,
) -> int:  # fmt: skip
    """The App's check run `name` on `head_sha`, completed with `conclusion` and this output:
    its existing run is updated in place (unchanged, nothing is written), else one is created.
    Returns the run's id.

    `app_slug`: the App's slug, so that only its own run is taken — a CI job may carry the same
    name, and GitHub lets only the App that made a run change it. Without it, a run of that
    name by any App is taken, and one GitHub refuses to let us change (403) is left as it is
    while ours is created beside it."""
    output: CheckRunOutput = {
        "title": redact(title)[:1000],
        "summary": _check_text(summary),
        "text": _check_text(text),
    }
    run: CheckRun
    async for run in gh.rest.paginate(
        gh.rest.checks.async_list_for_ref,
        map_func=lambda resp: resp.parsed_data.check_runs,
        owner=repo.owner,
        repo=repo.name,
        ref=head_sha,
        check_name=name,
        filter_="all",
    ):
        if run.name != name or run.head_sha != head_sha:
            continue
        if app_slug is not None and (run.app is None or run.app.slug != app_slug):
            continue
        same = (
            run.status == "completed"
            and run.conclusion == conclusion
            and (run.output.title, run.output.summary, run.output.text)
            == (output["title"], output["summary"], output.get("text"))
            and (details_url is None or run.details_url == details_url)
        )
        if same:
            return run.id
        try:
            await gh.rest.checks.async_update(
                repo.owner,
                repo.name,
                run.id,
                status="completed",
                conclusion=conclusion,
                output=CheckRunUpdateOutput(**output),
                details_url=details_url or UNSET,
            )
        except RequestFailed as exc:
            if exc.response.status_code != 403 or app_slug is not None:
                raise
            continue  # another App's run of that name: not ours to change
        return run.id
    resp = await gh.rest.checks.async_create(
        repo.owner,
        repo.name,
        name=name,
        head_sha=head_sha,
        status="completed",
        conclusion=conclusion,
        output=output,
        details_url=details_url or UNSET,
    )
    return resp.parsed_data.id
