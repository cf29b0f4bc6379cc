"""What happens on GitHub when refs move: a push event, open pull requests synchronised (closed
when their head branch is deleted, merged when their head lands in their base), their
`refs/pull/N/head` moved, mergeability recomputed in the background, CI started on the branches
its workflow selects.

Every ref change (git push, merge, update-branch, the git refs API) ends with `sync_refs`,
called with the repository's ref lock held, which compares the refs with the last ones seen.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from app.simulator.github.gitops import ZERO_SHA, CommitInfo, GitRepo
from app.simulator.github.globs import actions_branch_filter
from app.simulator.github.models import Repo, User
from app.simulator.github.pullfacts import (
    PullFacts,
    apply_facts,
    compute_facts,
    forget_mergeability,
)
from app.simulator.github.pullmerged import mark_merged
from app.simulator.github.util import utcnow

if TYPE_CHECKING:
    from app.simulator.github.core import Simulator

PUSH_COMMIT_LIMIT = 20  # GitHub lists at most 20 commits in a push payload
HEADS = "refs/heads/"


@dataclass(frozen=True)
class RefChange:
    ref: str
    old: str
    new: str
    commits: list[CommitInfo]
    head: CommitInfo | None  # the new tip, even when the push brought no new commit
    forced: bool


def _changes(git: GitRepo, before: dict[str, str], after: dict[str, str]) -> list[RefChange]:
    changes: list[RefChange] = []
    for ref in sorted(set(before) | set(after)):
        old, new = before.get(ref, ZERO_SHA), after.get(ref, ZERO_SHA)
        if old == new:
            continue
        commits: list[CommitInfo] = []
        head = None
        if new != ZERO_SHA:
            known = sorted(set(before.values()))
            shas = git.rev_list(f"--max-count={PUSH_COMMIT_LIMIT}", new, "--not", *known)
            commits = [git.commit_info(sha) for sha in reversed(shas)]
            head = commits[-1] if commits else git.commit_info(new)
        forced = old != ZERO_SHA and new != ZERO_SHA and not git.is_ancestor(old, new)
        changes.append(RefChange(ref, old, new, commits, head, forced))
    return changes


def ci_selects(repo: Repo, branch: str) -> bool:
    """Whether a push to `branch` runs the CI workflow (Actions' `on: push: branches:`)."""
    patterns = repo.ci_branches if repo.ci_branches is not None else [repo.default_branch]
    return actions_branch_filter(patterns, branch)


def sync_refs(sim: Simulator, repo: Repo, pusher: User) -> None:
    state = sim.state
    git = GitRepo(repo.path)
    after = git.refs()
    with state.lock:
        before = dict(repo.known_refs)
        pulls = [
            (i.number, i.pull.head_ref, i.pull.base_ref, i.pull.head_sha)
            for i in repo.open_pulls()
            if i.pull is not None
        ]
    changes = _changes(git, before, after)
    if not changes:
        return
    moved = {c.ref[len(HEADS) :]: c.new for c in changes if c.ref.startswith(HEADS)}
    touched = [p for p in pulls if p[1] in moved or p[2] in moved]
    facts: dict[int, PullFacts | None] = {}
    landed: dict[int, str] = {}
    for number, head_ref, base_ref, head_sha in touched:
        head = moved.get(head_ref, head_sha)
        base_tip = moved.get(base_ref)
        # A push that brings the head into its base merges the pull request, as on GitHub.
        contained = head if head != ZERO_SHA else head_sha
        if base_tip and base_tip != ZERO_SHA and git.is_ancestor(contained, base_tip):
            landed[number] = base_tip
        if head != ZERO_SHA:
            facts[number] = compute_facts(git, base_ref, head)
    ci: list[tuple[str, str]] = []
    new_heads: list[tuple[int, str]] = []
    still_open: list[int] = []
    with state.lock:
        repo.known_refs = after
        repo.pushed_at = utcnow()
        for change in changes:
            sim.events.push(
                repo,
                change.ref,
                change.old,
                change.new,
                change.commits,
                change.head,
                pusher,
                created=change.old == ZERO_SHA,
                deleted=change.new == ZERO_SHA,
                forced=change.forced,
            )
        for number, *_ in touched:
            outcome = _update_pull(
                sim, repo, number, moved, facts.get(number), pusher, landed.get(number)
            )
            ci += outcome.ci
            if outcome.new_head is not None:
                new_heads.append((number, outcome.new_head))
            if repo.issues[number].state == "open":
                still_open.append(number)
        for branch, sha in moved.items():
            if sha != ZERO_SHA and ci_selects(repo, branch):
                ci.append((sha, branch))
    for number, sha in new_heads:
        git.set_ref(f"refs/pull/{number}/head", sha)
    for sha, branch in ci:
        sim.ci.trigger(repo, sha, branch)
    for number in still_open:
        sim.mergeability.request(repo, number)


@dataclass(frozen=True)
class PullUpdate:
    ci: list[tuple[str, str]]  # (sha, branch) CI runs the update starts
    new_head: str | None  # where refs/pull/N/head must now point


def _update_pull(
    sim: Simulator,
    repo: Repo,
    number: int,
    moved: dict[str, str],
    facts: PullFacts | None,
    pusher: User,
    landed_at: str | None,
) -> PullUpdate:
    """Bring one open pull request up to date with moved refs."""
    issue = repo.issues[number]
    pull = issue.pull
    if pull is None or issue.state != "open":
        return PullUpdate([], None)
    new_head = moved.get(pull.head_ref)
    now = utcnow()
    started: list[tuple[str, str]] = []
    if new_head == ZERO_SHA:
        if landed_at is not None:
            mark_merged(sim, repo, issue, pusher, landed_at)
        else:
            # Deleting a pull request's head branch closes it, as on GitHub.
            issue.state, issue.closed_at, issue.updated_at = "closed", now, now
            sim.events.pull_request("closed", repo, issue, pusher)
        return PullUpdate([], None)
    head_moved = new_head is not None and new_head != pull.head_sha
    if head_moved:
        assert new_head is not None
        before, pull.head_sha = pull.head_sha, new_head
        issue.updated_at = now
        sim.events.pull_request("synchronize", repo, issue, pusher, before=before, after=new_head)
        started.append((new_head, pull.head_ref))
    forget_mergeability(pull)
    if landed_at is not None:
        # Merged by this push: its base stays where it was, so its files and commits are still
        # the change it made (GitHub keeps showing a merged pull request's diff).
        mark_merged(sim, repo, issue, pusher, landed_at)
    elif facts is not None:
        apply_facts(pull, facts)
    return PullUpdate(started, new_head if head_moved else None)
