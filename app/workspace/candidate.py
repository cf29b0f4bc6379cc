"""A merge gate's candidate: the base branch's tip with a pull request merged in, as a real commit.

Made on the mirror with `git merge-tree --write-tree` and `commit-tree` — git merges objects, never
a work tree, so nothing in the repository (attributes, hooks, config) runs. The commit's dates
come from its parents, so building the same candidate twice (a step repeated after a crash)
makes the same sha, and the checks that already ran on it still count.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from app.workspace.git import GitError, auth_env, git
from app.workspace.worktree import Identity, Mirror

OID = re.compile(r"^[0-9a-f]{40}(?:[0-9a-f]{24})?$")
MergeMethod = Literal["merge", "squash", "rebase"]


@dataclass(frozen=True)
class Candidate:
    base: str  # the base branch's tip it is built on
    sha: str
    tree: str


@dataclass(frozen=True)
class Conflict:
    base: str
    files: tuple[str, ...]


@dataclass(frozen=True)
class PullRequestHead:
    number: int
    title: str
    head_sha: str
    head_ref: str


def gate_branch(pr_number: int) -> str:
    """The gate-owned branch a pull request's candidate is pushed to (CI runs on it)."""
    return f"swarm/gate/{pr_number}"


async def merged_tree(mirror: Mirror, base: str, head: str) -> tuple[str, tuple[str, ...]]:
    """The tree of `head` merged into `base`, and the files that conflict (their markers are in
    the tree)."""
    out = await git(
        "--git-dir", str(mirror.path), "merge-tree", "--write-tree", "--name-only",
        "--no-messages", base, head, check=False,
    )  # fmt: skip
    lines = out.splitlines()
    if not lines or not OID.match(lines[0]):
        raise GitError(f"git merge-tree {base[:12]} {head[:12]} failed: {out[:500]}")
    return lines[0], tuple(line for line in lines[1:] if line)


async def build_candidate(
    mirror: Mirror, base_branch: str, pr: PullRequestHead, method: MergeMethod, author: Identity
) -> Candidate | Conflict:
    """The candidate on the mirror's current view of `base_branch` (fetch first)."""
    base = await _rev(mirror, f"refs/remotes/origin/{base_branch}")
    return await merge_onto(mirror, base, pr, method, author)


async def merge_onto(
    mirror: Mirror, base: str, pr: PullRequestHead, method: MergeMethod, author: Identity
) -> Candidate | Conflict:
    """The pull request merged into the commit `base` (a branch's tip, or a merge train's
    candidate ahead of it)."""
    head = await _rev(mirror, pr.head_sha)
    if await _is_ancestor(mirror, base, head) and method == "merge":
        tree = await git("--git-dir", str(mirror.path), "rev-parse", f"{head}^{{tree}}")
        return Candidate(base, head, tree)  # the head already has the base: a fast-forward
    tree, conflicts = await merged_tree(mirror, base, head)
    if conflicts:
        return Conflict(base, conflicts)
    if method == "merge":
        message = f"Merge pull request #{pr.number} from {pr.head_ref}\n\n{pr.title}\n"
        parents = [base, head]
    else:  # squash (and rebase, which lands as one commit per pull request)
        message = f"{pr.title} (#{pr.number})\n"
        parents = [base]
    sha = await commit_tree(mirror, tree, parents, message, author, dates_of=[base, head])
    return Candidate(base, sha, tree)


async def commit_tree(
    mirror: Mirror, tree: str, parents: list[str], message: str, author: Identity,
    dates_of: list[str],
) -> str:  # fmt: skip
    """A commit dated like the latest of `dates_of`: the same inputs make the same sha."""
    stamps = await git("--git-dir", str(mirror.path), "show", "-s", "--format=%ct", *dates_of)
    when = f"{max(int(s) for s in stamps.split())} +0000"
    env = {**author.env(), "GIT_AUTHOR_DATE": when, "GIT_COMMITTER_DATE": when}
    args = [a for p in parents for a in ("-p", p)]
    return await git(
        "--git-dir", str(mirror.path), "commit-tree", tree, *args, "-F", "-", env=env,
        stdin=message,
    )  # fmt: skip


async def push_candidate(mirror: Mirror, url: str, token: str, sha: str, branch: str) -> None:
    """Put the candidate on its gate branch: the branch is the gate's own, so it is replaced."""
    await git(
        "--git-dir", str(mirror.path), "push", "--quiet", "--no-recurse-submodules", url,
        f"+{sha}:refs/heads/{branch}", env=auth_env(token),
    )  # fmt: skip


async def landed_since(mirror: Mirror, head: str, base: str, limit: int = 30) -> list[str]:
    """The subjects of what reached `base` since `head` left it (newest first)."""
    fork = await git("--git-dir", str(mirror.path), "merge-base", base, head, check=False)
    span = f"{fork}..{base}" if fork else base
    out = await git(
        "--git-dir", str(mirror.path), "log", "--first-parent", f"--max-count={limit}",
        "--format=%h %s", span,
    )  # fmt: skip
    return out.splitlines()


async def changed_files(mirror: Mirror, old: str, new: str) -> list[str]:
    """The paths that differ between two commits (renames as two paths)."""
    out = await git(
        "--git-dir", str(mirror.path), "diff", "--name-only", "--no-renames", "-z", old, new
    )  # fmt: skip
    return [path for path in out.split("\0") if path]


async def footprint(mirror: Mirror, base: str, head: str) -> list[str]:
    """What `head` changed since it left `base`: the files of a pull request."""
    fork = await git("--git-dir", str(mirror.path), "merge-base", base, head, check=False)
    return await changed_files(mirror, fork, head) if fork else []


async def branch_edits(mirror: Mirror, base: str, branch: str) -> list[str]:
    """What a branch changed since it left `base` (as of the mirror's last fetch); nothing when
    the branch is not on the remote yet."""
    head = await mirror.remote_sha(branch)
    if head is None:
        return []
    return await footprint(mirror, base, head)


async def _rev(mirror: Mirror, name: str) -> str:
    return await git("--git-dir", str(mirror.path), "rev-parse", "--verify", f"{name}^{{commit}}")


async def _is_ancestor(mirror: Mirror, older: str, newer: str) -> bool:
    fork = await git("--git-dir", str(mirror.path), "merge-base", older, newer, check=False)
    return fork == older
