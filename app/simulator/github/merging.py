"""Merging a pull request and updating its branch, with GitHub's optimistic-concurrency answers:
409 when the head moved, 405 when it does not merge, 422 for a stale `expected_head_sha`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from app.simulator.github import policy
from app.simulator.github.errors import GitHubError
from app.simulator.github.gitops import GitRepo, Identity
from app.simulator.github.models import Repo, User
from app.simulator.github.pullmerged import mark_merged
from app.simulator.github.pushrules import Change, Pusher
from app.simulator.github.refs import sync_refs

if TYPE_CHECKING:
    from app.simulator.github.core import Simulator

HEAD_MODIFIED = "Head branch was modified. Review and try the merge again."
NOT_MERGEABLE = "Pull Request is not mergeable"
WEB_COMMITTER = Identity("GitHub", "noreply@github.com")
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


def _check_rules(
    sim: Simulator, repo: Repo, git: GitRepo, pr: PullSnapshot, pusher: Pusher
) -> None:
    """The base branch's protection and rulesets: 405 with their words when they refuse."""
    base_tip = git.resolve(f"refs/heads/{pr.base_ref}")
    if base_tip is None:
        return
    behind = not git.is_ancestor(base_tip, pr.head_sha)
    with sim.state.lock:
        issue = sim.state.pull(repo, pr.number)
    refusal = policy.merge_refusal(sim, repo, issue, pusher, base_tip, behind)
    if refusal is not None:
        raise GitHubError(405, refusal, documentation_url=policy.MERGE_DOCS)


def merge_pull(
    sim: Simulator,
    repo: Repo,
    number: int,
    merger: User,
    pusher: Pusher,
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
        _check_rules(sim, repo, git, pr, pusher)
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
            mark_merged(sim, repo, issue, merger, new)
        sync_refs(sim, repo, merger)
    return {"sha": new, "merged": True, "message": "Pull Request successfully merged"}


def update_branch(
    sim: Simulator,
    repo: Repo,
    number: int,
    actor: User,
    pusher: Pusher,
    expected_head_sha: str | None,
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
        policy.enforce_push(sim, repo, pusher, Change(pr.head_ref, pr.head_sha, new))
        if not git.update_ref(f"refs/heads/{pr.head_ref}", new, pr.head_sha):
            raise GitHubError(422, "expected head sha didn’t match current head ref.")
        sync_refs(sim, repo, actor)
