"""What GitHub shows about a pull request that only git can tell: mergeability and diff size."""

from __future__ import annotations

from dataclasses import dataclass

from app.simulator.github.gitops import GitError, GitRepo
from app.simulator.github.models import PullInfo


@dataclass(frozen=True)
class PullFacts:
    base_sha: str
    head_sha: str
    mergeable: bool | None
    commits: int
    additions: int
    deletions: int
    changed_files: int


def compute_facts(git: GitRepo, base_ref: str, head_sha: str) -> PullFacts | None:
    """Facts for merging `head_sha` into the tip of `base_ref`; None if the base is gone."""
    base_sha = git.resolve(f"refs/heads/{base_ref}")
    if base_sha is None or not git.object_exists(head_sha):
        return None
    try:
        mergeable = git.merge_tree(base_sha, head_sha) is not None
        merge_base = git.merge_base(base_sha, head_sha) or base_sha
        files = git.changed_files(merge_base, head_sha)
        commits = len(git.rev_list(f"{base_sha}..{head_sha}"))
    except GitError:
        return PullFacts(base_sha, head_sha, None, 0, 0, 0, 0)
    return PullFacts(
        base_sha=base_sha,
        head_sha=head_sha,
        mergeable=mergeable,
        commits=commits,
        additions=sum(f.additions for f in files),
        deletions=sum(f.deletions for f in files),
        changed_files=len(files),
    )


def apply_facts(pull: PullInfo, facts: PullFacts) -> None:
    """Record facts on the pull request if they are about its current head."""
    if facts.head_sha != pull.head_sha:
        return
    pull.base_sha = facts.base_sha
    pull.mergeable = facts.mergeable
    pull.commits = facts.commits
    pull.additions = facts.additions
    pull.deletions = facts.deletions
    pull.changed_files = facts.changed_files
