"""Confinement of the file tools to one worktree, and the protected paths they may not write.

Every path a model names is taken relative to the worktree (an absolute path is accepted only if
it lies inside). The real path is what counts: `..` escapes and symlinks that resolve outside the
worktree are refused, whether the link is the file itself or any directory on the way to it, for
reads and writes alike.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from app.pathglob import glob_to_regex


class PathRefused(ValueError):
    """The path may not be used; the message says why in words a model can act on."""


@dataclass(frozen=True)
class WorkspacePath:
    real: Path  # the resolved path on the host, inside the worktree
    relative: str  # the same, relative to the worktree, POSIX style ("." for the root)
    named: str  # the path as named, normalised, relative to the worktree (before symlinks)


def _inside(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


# Never read or written by the tools: git's own directories (their config, hooks and any
# credentials), at any depth, and whatever a `.git` file says.
HIDDEN = (".git",)


class Confinement:
    """Resolves model-supplied paths inside `root` and says which ones are protected from writes
    and which are hidden altogether."""

    def __init__(
        self, root: Path, protected: Sequence[str] = (".git/**",), hidden: Sequence[str] = HIDDEN
    ) -> None:
        self.root = Path(root).resolve()
        self.protected = list(protected)
        self._protected = [glob_to_regex(p) for p in protected]
        self._hidden = [glob_to_regex(p) for p in hidden]

    def resolve(self, path: str) -> WorkspacePath:
        """The real path for reading; raises PathRefused for anything outside the worktree."""
        if not path.strip():
            raise PathRefused("the path is empty; give a path relative to the worktree root")
        if "\0" in path:
            raise PathRefused("the path contains a NUL character")
        given = PurePosixPath(path)
        if given.is_absolute():
            lexical = Path(os.path.normpath(given))
            if not _inside(lexical, self.root):
                raise PathRefused(
                    f"{path} is outside the worktree; use a path relative to the worktree root "
                    f"({self.root})"
                )
        else:
            normal = os.path.normpath(given)
            if normal == ".." or normal.startswith("../"):
                raise PathRefused(
                    f"{path} leads out of the worktree through '..'; "
                    "only files inside the worktree can be used"
                )
            lexical = self.root / normal
        # realpath resolves every symlink on the way (the leaf and each existing parent).
        real = Path(os.path.realpath(lexical))
        if not _inside(real, self.root):
            raise PathRefused(
                f"{path} resolves through a symlink to {real}, outside the worktree; "
                "only files inside the worktree can be used"
            )
        found = WorkspacePath(
            real=real,
            relative=real.relative_to(self.root).as_posix(),
            named=lexical.relative_to(self.root).as_posix(),
        )
        for candidate in (found.named, found.relative):
            if any(regex.fullmatch(candidate) for regex in self._hidden):
                raise PathRefused(f"{candidate} is git's own data; the tools do not read it")
        return found

    def resolve_for_write(self, path: str) -> WorkspacePath:
        """As resolve(), and also refuses protected paths (checked on the name and the target)."""
        target = self.resolve(path)
        # Both the name and the symlink's target count: a link to .git/config is still .git.
        for candidate in dict.fromkeys((target.named, target.relative)):
            pattern = self.protected_by(candidate)
            if pattern is not None:
                raise PathRefused(
                    f"{candidate} is protected (matches {pattern!r}); the tools may not change it"
                )
        return target

    def protected_by(self, relative: str) -> str | None:
        """The protected glob that `relative` matches, if any."""
        for glob, regex in zip(self.protected, self._protected, strict=True):
            if regex.fullmatch(relative):
                return glob
        return None
