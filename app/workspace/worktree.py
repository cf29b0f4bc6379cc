"""Mirrors, worktrees, commits and pushes for the swarm's branches.

One bare mirror per repository is fetched (never re-cloned) for each task; each task works in
its own worktree of it. The orchestrator always names the git directory explicitly, so a `.git`
an agent planted is never read, and it never runs git's porcelain on the work tree: a commit is
built from a snapshot of the files (`snapshot.py`) and made with `commit-tree` on the mirror.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from app.credentials import SecretScanner, redact
from app.sandbox.users import hand_over
from app.workspace.git import GitError, auth_env, git
from app.workspace.snapshot import Snapshot, take_snapshot

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Identity:
    name: str
    email: str

    def env(self) -> dict[str, str]:
        """git's variables that make this identity a commit's author and committer."""
        return {
            "GIT_AUTHOR_NAME": self.name, "GIT_AUTHOR_EMAIL": self.email,
            "GIT_COMMITTER_NAME": self.name, "GIT_COMMITTER_EMAIL": self.email,
        }  # fmt: skip

    @classmethod
    def bot(cls, slug: str, app_id: int) -> Identity:
        login = f"{slug}[bot]"
        return cls(login, f"{app_id}+{login}@users.noreply.github.com")


def slugify(title: str, max_length: int = 40) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")
    return slug[:max_length].rstrip("-") or "task"


def branch_name(issue_number: int, title: str) -> str:
    return f"swarm/{issue_number}-{slugify(title)}"


# git does not survive two commands changing one repository at once (a fetch reading the
# worktrees' HEADs while `worktree add` writes one fails with "bad object"). The mirror is this
# machine's private cache, so its few short writes take turns inside the process; agents never
# wait on each other for anything else.
_MIRROR_TURNS: dict[Path, asyncio.Lock] = {}


def _turn(path: Path) -> asyncio.Lock:
    return _MIRROR_TURNS.setdefault(path, asyncio.Lock())


class Mirror:
    """A bare mirror of one repository, under `<data>/mirrors/<owner>/<name>.git`."""

    def __init__(self, data_dir: Path, full_name: str) -> None:
        self.full_name = full_name
        self.path = data_dir / "mirrors" / f"{full_name}.git"
        self.worktrees_root = data_dir / "worktrees" / full_name

    async def fetch(self, clone_url: str, token: str | None) -> None:
        async with _turn(self.path):
            await self._fetch(clone_url, token)

    async def _fetch(self, clone_url: str, token: str | None) -> None:
        if not (self.path / "HEAD").exists():
            self.path.mkdir(parents=True, exist_ok=True)
            await git("init", "--bare", "-q", str(self.path))
        await git(
            "--git-dir", str(self.path),
            "fetch", "--prune", "--quiet", clone_url,
            "+refs/heads/*:refs/remotes/origin/*",
            env=auth_env(token),
        )  # fmt: skip

    async def remote_sha(self, branch: str) -> str | None:
        out = await git(
            "--git-dir", str(self.path), "rev-parse", "--verify", "--quiet",
            f"refs/remotes/origin/{branch}^{{commit}}", check=False,
        )  # fmt: skip
        return out or None

    async def worktree(self, name: str, branch: str, start: str) -> Worktree:
        """A fresh worktree at `start` on a local branch `branch` (an old one is replaced)."""
        async with _turn(self.path):
            return await self._worktree(name, branch, start)

    async def _worktree(self, name: str, branch: str, start: str) -> Worktree:
        path = self.worktrees_root / name
        # Not `git worktree remove`: it may run `git status` in a tree an agent wrote.
        await asyncio.to_thread(remove_tree, path)
        await git("--git-dir", str(self.path), "worktree", "prune")
        path.parent.mkdir(parents=True, exist_ok=True)
        await git(
            "--git-dir", str(self.path), "worktree", "add", "--force", "-B", branch,
            str(path), start,
        )  # fmt: skip
        gitdir = Path(await git("--git-dir", str(self.path), "rev-parse", "--absolute-git-dir"))
        hand_over(path)  # as root: the worktree belongs to an unprivileged uid of its own
        return Worktree(path, gitdir / "worktrees" / path.name, branch, gitdir)


def remove_tree(path: Path) -> None:
    """Remove a directory an agent may have made hard to remove (a directory it made
    unreadable or unwritable); symlinks in it are removed, never followed."""

    def unlock(function: object, name: str, _exc: object) -> None:
        parent = os.path.dirname(name)
        os.chmod(parent, 0o700)
        if os.path.isdir(name) and not os.path.islink(name):
            os.chmod(name, 0o700)
            shutil.rmtree(name, ignore_errors=True)
        else:
            os.unlink(name)

    if path.is_symlink() or path.is_file():
        path.unlink()
    elif path.exists():
        shutil.rmtree(path, onerror=unlock)


@dataclass(frozen=True)
class Worktree:
    path: Path
    git_dir: Path  # the worktree's own git directory inside the mirror
    branch: str
    mirror: Path  # the mirror itself: commits and pushes need no work tree

    async def git(self, *args: str, token: str | None = None, check: bool = True) -> str:
        """git on the mirror alone: nothing the agent wrote in the work tree is read."""
        return await git("--git-dir", str(self.mirror), *args, env=auth_env(token), check=check)

    async def head(self) -> str:
        return await git("--git-dir", str(self.git_dir), "rev-parse", "HEAD")

    async def snapshot(
        self, base: str, protected: Sequence[str], scanner: SecretScanner
    ) -> Snapshot:
        """The work tree as it would be committed on `base` (see `snapshot.py`)."""
        return await take_snapshot(
            self.git_dir, self.path, base, protected=protected, scanner=scanner
        )

    async def commit(
        self, tree: str, parent: str, message: str, author: Identity, merged: str = ""
    ) -> str:
        """A commit of `tree` on `parent` (and `merged`, for a merge) by `author` (its message
        redacted of credentials: it quotes the agent); the branch moves to it."""
        sha = await git(
            "--git-dir", str(self.mirror), "commit-tree", tree, "-p", parent,
            *(("-p", merged) if merged else ()), "-F", "-", env=author.env(),
            stdin=redact(message),
        )  # fmt: skip
        await self.git("update-ref", f"refs/heads/{self.branch}", sha)
        return sha

    async def check_out_tree(self, tree: str) -> None:
        """Make the work tree (and index) hold `tree`: a merge in progress, its conflicts
        marked in the files. git writes objects it made itself; nothing in the tree runs."""
        await git(
            "--git-dir", str(self.git_dir), "--work-tree", str(self.path),
            "read-tree", "-u", "--reset", tree,
        )  # fmt: skip
        hand_over(self.path)  # the files git wrote are the agent's to edit

    async def has_work(self, sha: str, base: str) -> bool:
        """Whether `sha` changes anything since it left `base` (its merge base with it)."""
        fork = await self.git("merge-base", base, sha, check=False)
        if not fork:
            return True  # unrelated histories: all of it is work
        trees = await self.git("rev-parse", f"{fork}^{{tree}}", f"{sha}^{{tree}}")
        before, after = trees.split()
        return before != after

    async def push(self, url: str, token: str, sha: str, expected_remote: str | None) -> None:
        """Push `sha` to the branch, only if the remote branch is still at `expected_remote`."""
        lease = f"refs/heads/{self.branch}:{expected_remote or ''}"
        await self.git(
            "push", "--quiet", "--no-recurse-submodules", f"--force-with-lease={lease}", url,
            f"{sha}:refs/heads/{self.branch}", token=token,
        )  # fmt: skip


__all__ = ["GitError", "Identity", "Mirror", "Snapshot", "Worktree", "branch_name"]
