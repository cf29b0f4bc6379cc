"""Merging a pull request and updating its branch, with GitHub's optimistic-concurrency answers:
409 when the head moved, 405 when it does not merge, 422 for a stale `expected_head_sha`."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from app.simulator.github.errors import GitHubError
from app.simulator.github.gitops import GitRepo, Identity
from app.simulator.github.models import Issue, Repo, User
from app.simulator.github.refs import sync_refs
from app.simulator.github.util import utcnow

if TYPE_CHECKING:
    from app.simulator.github.core import Simulator

HEAD_MODIFIED = "Head branch was modified. Review and try the merge again."
NOT_MERGEABLE = "Pull Request is not mergeable"
WEB_COMMITTER = Identity("GitHub", "noreply@github.com")
CLOSING = re.compile(r"\b(?:close[sd]?|fix(?:e[sd])?|resolve[sd]?)\s*:?\s+#(\d+)\b", re.IGNORECASE)
CAS_ATTEMPTS = 3


def identity_of(user: User) -> Identity:
    return Identity(user.login, f"{user.id}+{user.login}@users.noreply.github.com")


@dataclass(frozen=True)
class PullSnapshot:
    number: int
    title: str
    body: str | None
    head_ref: str
    head_sha: str
    base_ref: str
    draft: bool


def _snapshot(sim: Simulator, repo: Repo, number: int, closed_status: int = 405) -> PullSnapshot:
    with sim.state.lock:
        issue = sim.state.pull(repo, number)
        assert issue.pull is not None
        if issue.state != "open":
            raise GitHubError(closed_status, NOT_MERGEABLE)
        return PullSnapshot(
            number,
            issue.title,
            issue.body,
            issue.pull.head_ref,
            issue.pull.head_sha,
            issue.pull.base_ref,
            issue.pull.draft,
        )


def _merge_commit(
    git: GitRepo,
    pr: PullSnapshot,
    base_tip: str,
    method: str,
    author: User,
    title: str | None,
    message: str | None,
) -> str | None:
    """The commit the base branch will point at, or None when the merge conflicts."""
    if method == "rebase":
        return git.rebase_commits(base_tip, base_tip, pr.head_sha, WEB_COMMITTER)
    tree = git.merge_tree(base_tip, pr.head_sha)
    if tree is None:
        return None
    if method == "squash":
        shas = git.rev_list("--reverse", f"{base_tip}..{pr.head_sha}")
        default = "\n\n".join(f"* {git.commit_info(s).message}" for s in shas)
        subject = title or f"{pr.title} (#{pr.number})"
        text = f"{subject}\n\n{message if message is not None else default}"
        return git.commit_tree(
            tree, [base_tip], text.strip() + "\n", identity_of(author), WEB_COMMITTER
        )
    default_title = f"Merge pull request #{pr.number} from {pr.head_ref}"
    text = f"{title or default_title}\n\n{message if message is not None else pr.title}"
    return git.commit_tree(
        tree, [base_tip, pr.head_sha], text.strip() + "\n", identity_of(author), WEB_COMMITTER
    )


def merge_pull(
    sim: Simulator,
    repo: Repo,
    number: int,
    merger: User,
    sha: str | None,
    method: str,
    title: str | None,
    message: str | None,
) -> dict[str, Any]:
    if method not in ("merge", "squash", "rebase"):
        raise GitHubError(422, "Invalid merge_method", errors=[{"field": "merge_method"}])
    git = GitRepo(repo.path)
    with sim.repo_lock(repo):
        pr = _snapshot(sim, repo, number)
        if pr.draft:
            raise GitHubError(405, "Pull Request is still a draft")
        if sha is not None and sha != pr.head_sha:
            raise GitHubError(409, HEAD_MODIFIED)
        for _ in range(CAS_ATTEMPTS):
            base_tip = git.resolve(f"refs/heads/{pr.base_ref}")
            if base_tip is None:
                raise GitHubError(422, "Base branch was modified. Review and try the merge again.")
            new = _merge_commit(git, pr, base_tip, method, merger, title, message)
            if new is None:
                raise GitHubError(405, NOT_MERGEABLE)
            if git.update_ref(f"refs/heads/{pr.base_ref}", new, base_tip):
                break
        else:
            raise GitHubError(409, "Base branch was modified. Review and try the merge again.")
        with sim.state.lock:
            issue = sim.state.pull(repo, number)
            _mark_merged(sim, repo, issue, merger, new)
        sync_refs(sim, repo, merger)
    return {"sha": new, "merged": True, "message": "Pull Request successfully merged"}


def _mark_merged(sim: Simulator, repo: Repo, issue: Issue, merger: User, sha: str) -> None:
    pull = issue.pull
    assert pull is not None
    now = utcnow()
    pull.merged, pull.merged_at, pull.merged_by, pull.merge_commit_sha = True, now, merger, sha
    pull.mergeable = None
    issue.state, issue.closed_at, issue.closed_by, issue.updated_at = "closed", now, merger, now
    sim.events.pull_request("closed", repo, issue, merger)
    if pull.base_ref != repo.default_branch:
        return  # GitHub closes linked issues only for merges into the default branch
    for match in CLOSING.finditer(issue.body or ""):
        target = repo.issues.get(int(match.group(1)))
        if target is None or target.pull is not None or target.state != "open":
            continue
        target.state, target.state_reason = "closed", "completed"
        target.closed_at, target.closed_by, target.updated_at = now, merger, now
        sim.events.issue("closed", repo, target, merger)


def update_branch(
    sim: Simulator, repo: Repo, number: int, actor: User, expected_head_sha: str | None
) -> None:
    """Merge the base branch into the pull request's head branch (`PUT .../update-branch`)."""
    git = GitRepo(repo.path)
    with sim.repo_lock(repo):
        pr = _snapshot(sim, repo, number, closed_status=422)
        if expected_head_sha is not None and expected_head_sha != pr.head_sha:
            raise GitHubError(
                422,
                "expected head sha didn’t match current head ref.",
            )
        base_tip = git.resolve(f"refs/heads/{pr.base_ref}")
        if base_tip is None:
            raise GitHubError(422, "Base branch does not exist")
        if git.is_ancestor(base_tip, pr.head_sha):
            raise GitHubError(422, "There are no new commits on the base branch.")
        tree = git.merge_tree(pr.head_sha, base_tip)
        if tree is None:
            raise GitHubError(422, "merge conflict between base and head")
        text = f"Merge branch '{pr.base_ref}' into {pr.head_ref}\n"
        new = git.commit_tree(
            tree, [pr.head_sha, base_tip], text, identity_of(actor), WEB_COMMITTER
        )
        if not git.update_ref(f"refs/heads/{pr.head_ref}", new, pr.head_sha):
            raise GitHubError(422, "expected head sha didn’t match current head ref.")
        sync_refs(sim, repo, actor)
