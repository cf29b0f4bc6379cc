"""The GitHub operations of the merge gate: checks on a commit, the rules of a branch, what people
said on a pull request, and the compare-and-swap landing.

Reads return plain records of the gate's policy (`app.domain.gate`); writes are idempotent: a
landing repeated after a crash finds itself landed, a closed issue is not closed again.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from githubkit import GitHub
from githubkit.exception import RequestFailed
from githubkit_schemas.latest.models import PullRequestReview

from app.domain.gate import JUDGE_CHECK, Check, People
from app.domain.refs import RepoRef
from app.github.ops import WRITE_PERMISSIONS, permission_of

log = logging.getLogger(__name__)

EXCERPT_CHARS = 3000  # the end of a failing check's output, for the agent
HOLD_LABEL = "swarm:hold"
BLOCKED_LABEL = "swarm:blocked"


async def checks_on(gh: GitHub, repo: RepoRef, sha: str) -> tuple[Check, ...]:
    """The latest run of each check on `sha`, and each commit status (by context)."""
    latest: dict[str, Check] = {}
    resp = await gh.rest.checks.async_list_for_ref(
        repo.owner, repo.name, sha, filter_="all", per_page=100
    )
    for run in resp.parsed_data.check_runs:
        if run.name in latest and latest[run.name].id > run.id:
            continue
        output = run.output
        text = "\n".join(p for p in (output.summary, output.text) if p) if output else ""
        latest[run.name] = Check(
            name=run.name,
            id=run.id,
            status=run.status,
            conclusion=run.conclusion,
            url=run.details_url or run.html_url or "",
            excerpt=text[-EXCERPT_CHARS:],
        )
    combined = await gh.rest.repos.async_get_combined_status_for_ref(
        repo.owner, repo.name, sha, per_page=100
    )
    for status in combined.parsed_data.statuses:
        if status.context in latest:
            continue
        done = status.state != "pending"
        latest[status.context] = Check(
            name=status.context,
            status="completed" if done else "in_progress",
            conclusion=status.state if done else None,
            url=status.target_url or "",
            excerpt=status.description or "",
        )
    return tuple(latest.values())


async def required_check_names(
    gh: GitHub, repo: RepoRef, branch: str, configured: list[str] | None
) -> tuple[str, ...] | None:
    """The checks a landing needs: the branch's protection and rulesets where the API shows
    them, else the repository's config, else None (every check that ran)."""
    names: list[str] = []
    # The branch as anyone who may read it sees it: its classic protection's required checks
    # (reading the protection itself needs the administration permission, which the App lacks).
    seen = (await gh.rest.repos.async_get_branch(repo.owner, repo.name, branch)).parsed_data
    required = seen.protection.required_status_checks if seen.protection else None
    if required:
        names += list(required.contexts or [])
        names += [c.context for c in required.checks or []]
    try:
        rules = await gh.rest.repos.async_get_branch_rules(repo.owner, repo.name, branch)
        found: list[Any] = rules.json()
        for rule in found:
            if isinstance(rule, dict) and rule.get("type") == "required_status_checks":
                listed = (rule.get("parameters") or {}).get("required_status_checks") or []
                names += [str(c.get("context")) for c in listed if isinstance(c, dict)]
    except RequestFailed as exc:
        if exc.response.status_code not in (403, 404):
            raise
    if not names and configured:
        names = list(configured)
    unique = tuple(dict.fromkeys(n for n in names if n and n != JUDGE_CHECK))
    return unique or None


async def rerun_check(gh: GitHub, repo: RepoRef, check_id: int) -> None:
    await gh.rest.checks.async_rerequest_run(repo.owner, repo.name, check_id)


async def people_on(gh: GitHub, repo: RepoRef, pr_number: int, bot_login: str) -> People:
    """The pull request's head, its hold label, and the latest review of each person: changes
    requested by anyone with write access block; their approvals count.

    The reviews are read before the pull request: a hold put on before an approval is then
    always seen with it (read the other way round, a hold and an approval given a moment apart
    could be seen as the approval alone, and landed)."""
    latest: dict[str, str] = {}
    review: PullRequestReview
    async for review in gh.rest.paginate(
        gh.rest.pulls.async_list_reviews, owner=repo.owner, repo=repo.name, pull_number=pr_number
    ):
        author: str = review.user.login if review.user else ""
        if not author or author == bot_login or review.state in ("COMMENTED", "PENDING"):
            continue
        latest[author] = review.state  # reviews come oldest first: the last one stands
    pr = (await gh.rest.pulls.async_get(repo.owner, repo.name, pr_number)).parsed_data
    hold = any(label.name.lower() == HOLD_LABEL for label in pr.labels)
    writers: dict[str, str] = {}
    for login, state in latest.items():
        if state != "DISMISSED" and await permission_of(gh, repo, login) in WRITE_PERMISSIONS:
            writers[login] = state
    return People(
        head=pr.head.sha,
        hold=hold,
        changes_requested_by=tuple(w for w, s in writers.items() if s == "CHANGES_REQUESTED"),
        approved_by=tuple(w for w, s in writers.items() if s == "APPROVED"),
        closed=pr.state == "closed" and not pr.merged,
    )


@dataclass(frozen=True)
class Landing:
    landed: bool
    sha: str  # where the base branch is now
    tree: str  # the tree of `sha`
    why: str = ""


async def tip(gh: GitHub, repo: RepoRef, branch: str) -> str:
    """Where `branch` is now."""
    ref = f"heads/{branch}"
    return (await gh.rest.git.async_get_ref(repo.owner, repo.name, ref)).parsed_data.object_.sha


async def land(gh: GitHub, repo: RepoRef, branch: str, candidate: str) -> Landing:
    """Move `branch` to `candidate` only as a fast-forward (`force=false`): GitHub refuses it
    when the branch moved meanwhile, so nothing untested lands. A landing repeated after a
    crash finds the branch at (or past) the candidate and says landed. The sha returned is
    where GitHub says the branch went, for the caller to check against what it tested."""
    ref = f"heads/{branch}"
    landed = await tip(gh, repo, branch)
    if landed != candidate:
        try:
            resp = await gh.rest.git.async_update_ref(
                repo.owner, repo.name, ref, sha=candidate, force=False
            )
            landed = resp.parsed_data.object_.sha
        except RequestFailed as exc:
            if exc.response.status_code != 422:
                raise
            if not await _contains(gh, repo, branch, candidate):
                return Landing(False, landed, "", f"the base moved: {_message(exc)}")
            landed = candidate  # an earlier attempt landed it; more landed after it since
    commit = (await gh.rest.git.async_get_commit(repo.owner, repo.name, landed)).parsed_data
    return Landing(True, landed, commit.tree.sha)


async def _contains(gh: GitHub, repo: RepoRef, branch: str, sha: str) -> bool:
    """Whether `branch` contains `sha`."""
    compare = await gh.rest.repos.async_compare_commits(
        repo.owner, repo.name, f"{sha}...{branch}", per_page=1
    )
    return compare.parsed_data.status in ("identical", "ahead")


def _message(exc: RequestFailed) -> str:
    try:
        return str(exc.response.json().get("message") or exc.response.status_code)
    except ValueError:
        return str(exc.response.status_code)


async def close_issue(gh: GitHub, repo: RepoRef, number: int) -> bool:
    """Close the issue as completed unless it is closed; True when this call closed it."""
    issue = (await gh.rest.issues.async_get(repo.owner, repo.name, number)).parsed_data
    if issue.state == "closed":
        return False
    await gh.rest.issues.async_update(
        repo.owner, repo.name, number, state="closed", state_reason="completed"
    )
    return True


async def add_label(gh: GitHub, repo: RepoRef, number: int, label: str) -> None:
    await gh.rest.issues.async_add_labels(repo.owner, repo.name, number, labels=[label])


async def remove_label(gh: GitHub, repo: RepoRef, number: int, label: str) -> None:
    try:
        await gh.rest.issues.async_remove_label(repo.owner, repo.name, number, label)
    except RequestFailed as exc:
        if exc.response.status_code != 404:  # not there (any more)
            raise


async def delete_branch(gh: GitHub, repo: RepoRef, branch: str) -> None:
    try:
        await gh.rest.git.async_delete_ref(repo.owner, repo.name, f"heads/{branch}")
    except RequestFailed as exc:
        if exc.response.status_code not in (404, 422):  # gone already
            raise
