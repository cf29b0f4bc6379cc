"""Mirrors, worktrees, commits and pushes for the swarm's branches.

One bare mirror per repository is fetched (never re-cloned) for each task; each task works in
its own worktree of it. The orchestrator always names the git directory and the work tree
explicitly, so a `.git` file or directory an agent planted in its worktree is never read.
"""

from __future__ import annotations

import asyncio
import fnmatch
import logging
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from app.workspace.git import GitError, auth_env, git

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Identity:
    name: str
    email: str

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
        if path.exists():
            await git(
                "--git-dir", str(self.path), "worktree", "remove", "--force", str(path), check=False
            )
            shutil.rmtree(path, ignore_errors=True)
        await git("--git-dir", str(self.path), "worktree", "prune")
        path.parent.mkdir(parents=True, exist_ok=True)
        await git(
            "--git-dir", str(self.path), "worktree", "add", "--force", "-B", branch,
            str(path), start,
        )  # fmt: skip
        gitdir = await git("--git-dir", str(self.path), "rev-parse", "--absolute-git-dir")
        return Worktree(path=path, git_dir=Path(gitdir) / "worktrees" / path.name, branch=branch)


@dataclass(frozen=True)
class Worktree:
    path: Path
    git_dir: Path  # the worktree's own git directory inside the mirror
    branch: str

    async def git(
        self, *args: str, token: str | None = None, check: bool = True, strip: bool = True
    ) -> str:
        return await git(
            "--git-dir", str(self.git_dir), "--work-tree", str(self.path), *args,
            cwd=self.path, env=auth_env(token), check=check, strip=strip,
        )  # fmt: skip

    async def head(self) -> str:
        return await self.git("rev-parse", "HEAD")

    async def changed_paths(self) -> list[str]:
        """Paths changed in the work tree against HEAD, untracked files included."""
        out = await self.git("status", "--porcelain", "--untracked-files=all", "-z", strip=False)
        paths = []
        for entry in filter(None, out.split("\0")):
            if len(entry) > 3 and entry[2] == " ":
                paths.append(entry[3:])
        return paths

    async def restore(self, paths: list[str]) -> None:
        """Undo the work tree's changes to `paths` (protected files an agent touched)."""
        for path in paths:
            tracked = await self.git("ls-files", "--error-unmatch", "--", path, check=False)
            if tracked:
                await self.git("checkout", "HEAD", "--", path)
            else:
                (self.path / path).unlink(missing_ok=True)

    async def commit_all(self, message: str, author: Identity) -> str | None:
        """Commit every change as `author`; None when there was nothing to commit."""
        await self.git("add", "--all")
        if not await self.git("status", "--porcelain"):
            return None
        await self.git(
            "-c", f"user.name={author.name}", "-c", f"user.email={author.email}",
            "commit", "--quiet", "--no-verify", "-m", message,
        )  # fmt: skip
        return await self.head()

    async def push(self, url: str, token: str, expected_remote: str | None) -> None:
        """Push HEAD to the branch, only if the remote branch is still at `expected_remote`."""
        lease = f"refs/heads/{self.branch}:{expected_remote or ''}"
        await self.git(
            "push", "--quiet", f"--force-with-lease={lease}", url,
            f"HEAD:refs/heads/{self.branch}", token=token,
        )  # fmt: skip

    async def diff_stat(self, base: str) -> str:
        return await self.git("diff", "--stat", base, "HEAD")


def protected_matches(paths: list[str], patterns: list[str]) -> list[str]:
    return [p for p in paths if any(fnmatch.fnmatch(p, pattern) for pattern in patterns)]


__all__ = ["GitError", "Identity", "Mirror", "Worktree", "branch_name", "protected_matches"]
