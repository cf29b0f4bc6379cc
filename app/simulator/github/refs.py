"""What happens on GitHub when refs move: a push event, open pull requests synchronised (or
closed when their head branch is deleted), mergeability recomputed, CI started.

Every ref change (git push, merge, update-branch, the git refs API) ends with `sync_refs`,
called with the repository's ref lock held, which compares the refs with the last ones seen.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from app.simulator.github.gitops import ZERO_SHA, CommitInfo, GitRepo
from app.simulator.github.models import Repo, User
from app.simulator.github.pullfacts import PullFacts, apply_facts, compute_facts
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
    facts: dict[int, PullFacts | None] = {}
    for number, head_ref, base_ref, head_sha in pulls:
        if head_ref in moved or base_ref in moved:
            head = moved.get(head_ref, head_sha)
            if head != ZERO_SHA:
                facts[number] = compute_facts(git, base_ref, head)
    ci: list[tuple[str, str]] = []
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
        touched = {n for n, head, base, _ in pulls if head in moved or base in moved}
        for number in sorted(touched):
            ci += _update_pull(sim, repo, number, moved, facts.get(number), pusher)
        default_tip = moved.get(repo.default_branch)
        if default_tip and default_tip != ZERO_SHA:
            ci.append((default_tip, repo.default_branch))
    for sha, branch in ci:
        sim.ci.trigger(repo, sha, branch)


def _update_pull(
    sim: Simulator,
    repo: Repo,
    number: int,
    moved: dict[str, str],
    facts: PullFacts | None,
    pusher: User,
) -> list[tuple[str, str]]:
    """Bring one open pull request up to date with moved refs; the CI runs it needs."""
    issue = repo.issues[number]
    pull = issue.pull
    if pull is None or issue.state != "open":
        return []
    new_head = moved.get(pull.head_ref)
    now = utcnow()
    if new_head == ZERO_SHA:
        # Deleting a pull request's head branch closes it, as on GitHub.
        issue.state, issue.closed_at, issue.updated_at = "closed", now, now
        sim.events.pull_request("closed", repo, issue, pusher)
        return []
    started: list[tuple[str, str]] = []
    if new_head is not None and new_head != pull.head_sha:
        before, pull.head_sha = pull.head_sha, new_head
        pull.mergeable = None
        issue.updated_at = now
        if facts is not None:
            apply_facts(pull, facts)
        sim.events.pull_request("synchronize", repo, issue, pusher, before=before, after=new_head)
        started.append((new_head, pull.head_ref))
    elif facts is not None:
        apply_facts(pull, facts)
    return started
