"""What GitHub shows about a pull request that only git can tell.

The diff figures (commits, additions, deletions, changed files) are computed when the pull
request opens or moves, so that its webhooks carry them. Mergeability is not: GitHub answers
`mergeable: null` until a background job has tried the merge (mergeability.py runs it here).
"""

from __future__ import annotations

from dataclasses import dataclass

from app.simulator.github.gitops import GitError, GitRepo
from app.simulator.github.models import PullInfo


@dataclass(frozen=True)
class PullFacts:
    base_sha: str
    head_sha: str
    commits: int
    additions: int
    deletions: int
    changed_files: int


@dataclass(frozen=True)
class Mergeability:
    base_sha: str
    head_sha: str
    mergeable: bool | None
    behind: bool | None


def compute_facts(git: GitRepo, base_ref: str, head_sha: str) -> PullFacts | None:
    """Diff figures of `head_sha` against the tip of `base_ref`; None if either is gone."""
    base_sha = git.resolve(f"refs/heads/{base_ref}")
    if base_sha is None or not git.object_exists(head_sha):
        return None
    try:
        merge_base = git.merge_base(base_sha, head_sha) or base_sha
        files = git.changed_files(merge_base, head_sha)
        commits = len(git.rev_list(f"{base_sha}..{head_sha}"))
    except GitError:
        return PullFacts(base_sha, head_sha, 0, 0, 0, 0)
    return PullFacts(
        base_sha=base_sha,
        head_sha=head_sha,
        commits=commits,
        additions=sum(f.additions for f in files),
        deletions=sum(f.deletions for f in files),
        changed_files=len(files),
    )


def compute_mergeability(git: GitRepo, base_ref: str, head_sha: str) -> Mergeability | None:
    """Whether `head_sha` merges cleanly into the tip of `base_ref`, and whether it is behind."""
    base_sha = git.resolve(f"refs/heads/{base_ref}")
    if base_sha is None or not git.object_exists(head_sha):
        return None
    try:
        mergeable = git.merge_tree(base_sha, head_sha) is not None
        behind = not git.is_ancestor(base_sha, head_sha)
    except GitError:
        return Mergeability(base_sha, head_sha, None, None)
    return Mergeability(base_sha, head_sha, mergeable, behind)


def apply_facts(pull: PullInfo, facts: PullFacts) -> None:
    """Record diff figures on the pull request if they are about its current head."""
    if facts.head_sha != pull.head_sha:
        return
    pull.base_sha = facts.base_sha
    pull.commits = facts.commits
    pull.additions = facts.additions
    pull.deletions = facts.deletions
    pull.changed_files = facts.changed_files


def forget_mergeability(pull: PullInfo) -> None:
    """The head or the base moved: GitHub answers null again until the job has run."""
    pull.mergeable = None
    pull.behind = None
    pull.generation += 1
