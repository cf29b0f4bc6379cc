"""DBOS steps around GitHub operations: each runs once per workflow, its result recorded.

Steps take plain values (installation id, `owner/name`), so their inputs and outputs are
recorded as they are and a replay never repeats a completed write.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ParamSpec, TypeVar

from dbos import DBOS
from githubkit import GitHub
from githubkit_schemas.latest.models import PullRequestReviewComment

from app.agent.untrusted import quoted
from app.domain.refs import RepoRef
from app.github import gate as gh_gate
from app.github import ops
from app.repo_config import CONFIG_PATH, RepoConfig, RepoConfigError, parse_repo_config
from app.runtime import current
from app.store import Task

P = ParamSpec("P")
R = TypeVar("R")


def github_step(name: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """A GitHub write: retried (after githubkit's own retries) since each one is idempotent."""
    return DBOS.step(name=name, retries_allowed=True, max_attempts=3, interval_seconds=2.0)


def _gh(installation_id: int) -> GitHub:
    return current().github.installation(installation_id)


async def _bot() -> str:
    """The App's bot login (asked once per process): only its own comments are edited."""
    return (await current().github.identity()).bot_login


@DBOS.step(name="github.permission")
async def permission_of(installation_id: int, repo: str, login: str) -> str:
    return await ops.permission_of(_gh(installation_id), RepoRef.parse(repo), login)


@github_step("github.ensure_labels")
async def ensure_labels(installation_id: int, repo: str) -> list[str]:
    return await ops.ensure_labels(_gh(installation_id), RepoRef.parse(repo))


@github_step("github.react_issue")
async def react_to_issue(
    installation_id: int, repo: str, number: int, content: ops.Reaction
) -> None:
    await ops.react_to_issue(_gh(installation_id), RepoRef.parse(repo), number, content)


@github_step("github.react_comment")
async def react_to_comment(
    installation_id: int, repo: str, comment_id: int, content: ops.Reaction
) -> None:
    await ops.react_to_comment(_gh(installation_id), RepoRef.parse(repo), comment_id, content)


@github_step("github.upsert_comment")
async def upsert_comment(
    installation_id: int, repo: str, number: int, kind: str, key: str, body: str
) -> int:
    return await ops.upsert_comment(
        _gh(installation_id), RepoRef.parse(repo), number, kind, key, body, await _bot()
    )


@DBOS.step(name="github.repo_config", retries_allowed=True, max_attempts=3)
async def load_config(installation_id: int, repo: str) -> RepoConfig | str:
    """The repository's config from its default branch, or what is wrong with it."""
    gh = current().github.installation(installation_id)
    ref = RepoRef.parse(repo)
    info = await ops.repo_info(gh, ref)
    text = await ops.file_text(gh, ref, CONFIG_PATH, info.default_branch)
    try:
        return parse_repo_config(text)
    except RepoConfigError as exc:
        return str(exc)


@DBOS.step(name="store.installation")
async def record_installation(installation_id: int, account: str, active: bool) -> None:
    await current().store.record_installation(installation_id, account, active)


@DBOS.step(name="store.load_task")
async def load_task(repo: str, number: int) -> Task:
    task = await current().store.task(repo, number)
    if task is None:
        raise KeyError(f"no task {repo}#{number}")
    return task


@github_step("github.status_comment")
async def refresh_status(installation_id: int, repo: str, goal_number: int) -> None:
    """Rewrite the goal's one status comment from the store (in place, found by its marker)."""
    from app.flows.render import status_comment

    store = current().store
    goal = await store.goal(repo, goal_number)
    if goal is None:
        return
    notes = await store.goal_notes(repo, goal_number)
    _, _, train = await store.train(repo)
    body = status_comment(goal, await store.tasks_of(repo, goal_number), notes, train)
    await ops.upsert_comment(
        _gh(installation_id), RepoRef.parse(repo), goal_number, "status", str(goal_number), body,
        await _bot(),
    )  # fmt: skip


@github_step("github.remove_label")
async def remove_label(installation_id: int, repo: str, numbers: list[int], label: str) -> None:
    for number in numbers:
        await gh_gate.remove_label(_gh(installation_id), RepoRef.parse(repo), number, label)


@github_step("github.comment")
async def comment(
    installation_id: int, repo: str, number: int, kind: str, key: str, body: str
) -> int:
    """A one-off comment of the bot's, created once per (kind, key) however often replayed."""
    return await ops.upsert_comment(
        _gh(installation_id), RepoRef.parse(repo), number, kind, key, body, await _bot()
    )


async def quote_for_agents(repo: str, goal_number: int, source: str, kind: str, text: str) -> str:
    """GitHub text cleaned and framed for a prompt (see `app.agent.untrusted`); what cleaning
    removed is noted on the goal, for its status comment. Call it inside a step."""
    framed, removed = quoted(kind, text)
    await note_removed(repo, goal_number, source, removed)
    return framed


async def note_removed(repo: str, goal_number: int, source: str, removed: list[str]) -> None:
    """What cleaning removed from GitHub text, as notes on the goal (once each, however often
    replayed) for its status comment. Call it inside a step."""
    for what in removed:
        note = f"{source}: {what}"
        await current().store.add_goal_note(repo, goal_number, note[:255], note)


@DBOS.step(name="github.app_identity")
async def app_identity() -> str:
    """The App's slug (mentions are `@slug`; its bot is `slug[bot]`)."""
    return (await current().github.identity()).slug


@github_step("github.review_comments")
async def review_comments(
    installation_id: int, repo: str, pr_number: int, review_id: int
) -> list[str]:
    """The inline comments of one review, as `path:line: text` lines for the worker."""
    ref = RepoRef.parse(repo)
    gh = _gh(installation_id)
    found = []
    comment: PullRequestReviewComment
    async for comment in gh.rest.paginate(
        gh.rest.pulls.async_list_review_comments,
        owner=ref.owner,
        repo=ref.name,
        pull_number=pr_number,
    ):
        if comment.pull_request_review_id == review_id:
            line: int | str = comment.line or comment.original_line or ""
            found.append(f"{comment.path}:{line}: {comment.body}")
    return found
