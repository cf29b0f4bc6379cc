"""The tree an agent's worktree holds, built without letting git near the agent's files.

`git add` and `git status` on an agent-written directory honour what the agent controls:
attributes drivers, nested repositories (with configs of their own, whose filters and fsmonitor
commands would run on the host), submodules. So the swarm never runs them there. Git is asked
only for the list of untracked, not ignored paths (`ls-files --others`, which reads directory
entries and .gitignore patterns, never a file's content nor any config of the agent's); every
file is then read here, from the host, without following a symlink and without blocking on a
FIFO, and stored as a blob with gitdb. The tree is written from a throwaway index
(`update-index --index-info`, `write-tree`), which touches no work tree.

What cannot or may not be committed is left out and said: protected paths (kept as they were at
the run's start), nested repositories, `.git` anywhere, FIFOs and other special files, files over
GitHub's 100 MB limit. Lines the agent added are scanned for credentials.
"""

from __future__ import annotations

import hashlib
import io
import os
import stat
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from gitdb import IStream, LooseObjectDB

from app.credentials import Finding, SecretScanner
from app.pathglob import first_match
from app.sandbox.hostfiles import kind_of, open_regular
from app.workspace.git import git

MAX_FILE_BYTES = 100 * 1024 * 1024  # GitHub refuses a push with a larger file
_BLOB, _EXEC, _LINK, _GITLINK = "100644", "100755", "120000", "160000"


@dataclass(frozen=True)
class Entry:
    mode: str
    sha: str


@dataclass(frozen=True)
class LeftOut:
    path: str
    why: str

    def __str__(self) -> str:
        return f"{self.path} ({self.why})"


@dataclass
class Snapshot:
    tree: str
    base_tree: str
    changed: list[str] = field(default_factory=list)  # differs from the base, deletions too
    left_out: list[LeftOut] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)

    @property
    def protected(self) -> list[str]:
        return [item.path for item in self.left_out if item.why.startswith("protected")]


def blob_sha(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


async def base_entries(git_dir: Path, base: str) -> dict[str, Entry]:
    out = await git("--git-dir", str(git_dir), "ls-tree", "-r", "-z", "--full-tree", base,
                    strip=False)  # fmt: skip
    entries = {}
    for record in filter(None, out.split("\0")):
        meta, _, path = record.partition("\t")
        mode, _kind, sha = meta.split()
        entries[path] = Entry(mode, sha)
    return entries


async def untracked(git_dir: Path, worktree: Path, base: str, index: Path) -> list[str]:
    """Untracked, not ignored paths; a nested repository is one entry ending in `/`."""
    location = ("--git-dir", str(git_dir), "--work-tree", str(worktree))
    env = {"GIT_INDEX_FILE": str(index)}
    await git(*location, "read-tree", base, cwd=worktree, env=env)
    out = await git(
        *location, "ls-files", "-z", "--others", "--exclude-standard", cwd=worktree, env=env,
        strip=False,
    )  # fmt: skip
    return [path for path in out.split("\0") if path]


def _is_git_internal(path: str) -> bool:
    return any(part.lower() == ".git" for part in path.split("/"))


class _Reader:
    """Reads what the worktree holds at a path, from the host, never following a symlink on
    the way (a symlinked directory means the path itself is gone, as git sees it)."""

    def __init__(self, root: Path) -> None:
        self.root = str(root)
        self._real_dirs: dict[str, bool] = {}  # directory -> no symlink on the way to it

    def _real(self, directory: str) -> bool:
        if directory not in self._real_dirs:
            self._real_dirs[directory] = os.path.realpath(directory) == directory
        return self._real_dirs[directory]

    def read(self, path: str) -> tuple[str, bytes] | LeftOut | None:
        """(mode, content), a reason it is left out, or None when it does not exist."""
        full = os.path.join(self.root, path)  # strings, not Paths: this runs per file
        if not self._real(os.path.dirname(full)):
            return None  # a directory on the way became a symlink (or vanished)
        try:
            info = os.lstat(full)
        except FileNotFoundError:
            return None
        if stat.S_ISLNK(info.st_mode):
            return _LINK, os.fsencode(os.readlink(full))
        if stat.S_ISDIR(info.st_mode):
            nested = os.path.lexists(os.path.join(full, ".git"))
            why = "a nested git repository" if nested else "now a directory"
            return LeftOut(path, f"{why}: left out, the swarm does not commit submodules")
        if not stat.S_ISREG(info.st_mode):
            return LeftOut(path, f"{kind_of(info.st_mode)}: left out")
        if info.st_size > MAX_FILE_BYTES:
            return LeftOut(path, f"{info.st_size // 2**20} MiB: over GitHub's 100 MB file limit")
        try:
            with open_regular(full) as file:
                data = file.read()  # its size was checked; nothing writes while we read
        except OSError as exc:
            return LeftOut(path, f"unreadable: {exc.strerror or exc}")
        return (_EXEC if info.st_mode & 0o111 else _BLOB), data


def _added_lines(new: bytes, old: str) -> list[tuple[int, str]]:
    """(line number, text) of lines in `new` that `old` does not have."""
    before = set(old.splitlines())
    lines = new.decode("utf-8", "replace").splitlines()
    return [(n, line) for n, line in enumerate(lines, start=1) if line not in before]


async def take_snapshot(
    git_dir: Path,
    worktree: Path,
    base: str,
    *,
    protected: Sequence[str],
    scanner: SecretScanner | None,
    objects: Path | None = None,
) -> Snapshot:
    """The tree of `worktree` as the swarm would commit it on top of `base`.

    `git_dir` reads the base and the ignore rules; objects are written to `objects` (default:
    the git directory's own object store).
    """
    own_objects = await _objects_dir(git_dir)
    store = LooseObjectDB(str(objects or own_objects))
    env = _object_env(objects, own_objects)
    base_tree = await git("--git-dir", str(git_dir), "rev-parse", f"{base}^{{tree}}", env=env)
    entries = await base_entries(git_dir, base)
    with tempfile.TemporaryDirectory(prefix="swarm-snapshot-") as scratch:
        index = Path(scratch) / "index"
        others = await untracked(git_dir, worktree, base, index)
        snapshot = Snapshot(tree="", base_tree=base_tree)
        final: dict[str, Entry] = {}
        reader = _Reader(worktree)
        for path in sorted({*entries, *(p.rstrip("/") for p in others)}):
            before = entries.get(path)
            if before is not None and before.mode == _GITLINK:
                final[path] = before  # an existing submodule is never changed
                continue
            if _is_git_internal(path):
                snapshot.left_out.append(LeftOut(path, "git's own data: left out"))
                continue
            found = reader.read(path)
            if isinstance(found, LeftOut):
                snapshot.left_out.append(found)
                if before is not None:
                    final[path] = before
                continue
            now = None if found is None else Entry(found[0], blob_sha(found[1]))
            if now == before:
                if before is not None:
                    final[path] = before
                continue
            if pattern := first_match(path, protected):
                snapshot.left_out.append(LeftOut(path, f"protected ({pattern}): left as it was"))
                if before is not None:
                    final[path] = before
                continue
            snapshot.changed.append(path)
            if found is None or now is None:
                continue  # deleted
            data = found[1]
            if scanner is not None:
                snapshot.findings += await _scan(git_dir, path, data, before, scanner, env)
            store.store(IStream(b"blob", len(data), io.BytesIO(data)))
            final[path] = now
        snapshot.tree = await _write_tree(git_dir, final, index, env)
    return snapshot


async def _scan(
    git_dir: Path, path: str, data: bytes, before: Entry | None, scanner: SecretScanner,
    env: dict[str, str],
) -> list[Finding]:  # fmt: skip
    """Credentials in the lines the agent added to `path`."""
    old = ""
    if before is not None and before.mode != _LINK:
        old = await git("--git-dir", str(git_dir), "cat-file", "blob", before.sha, env=env,
                        strip=False)  # fmt: skip
    found = []
    for number, line in _added_lines(data, old):
        if finding := scanner.scan_line(line, f"{path}:{number}"):
            found.append(finding)
    return found


async def diff_of_worktree(git_dir: Path, worktree: Path, base: str, *options: str) -> str:
    """`git diff-tree <options>` from `base` to what `worktree` holds (untracked files
    included), built as the swarm commits it; the objects go to a scratch store, so the
    repository is not written to."""
    with tempfile.TemporaryDirectory(prefix="swarm-objects-") as scratch:
        objects = Path(scratch)
        snap = await take_snapshot(
            git_dir, worktree, base, protected=(), scanner=None, objects=objects
        )
        env = _object_env(objects, await _objects_dir(git_dir))
        return await git(
            "--git-dir", str(git_dir), "diff-tree", "-r", "--no-ext-diff", "--no-textconv",
            *options, snap.base_tree, snap.tree, env=env, strip=False,
        )  # fmt: skip


async def _objects_dir(git_dir: Path) -> Path:
    common = await git("--git-dir", str(git_dir), "rev-parse", "--git-common-dir")
    common_path = Path(common)
    if not common_path.is_absolute():
        common_path = (git_dir / common_path).resolve()
    return common_path / "objects"


def _object_env(objects: Path | None, own: Path) -> dict[str, str]:
    """Objects written to a scratch store that reads through to the repository's own."""
    if objects is None:
        return {}
    return {"GIT_OBJECT_DIRECTORY": str(objects), "GIT_ALTERNATE_OBJECT_DIRECTORIES": str(own)}


async def _write_tree(
    git_dir: Path, final: dict[str, Entry], index: Path, env: dict[str, str]
) -> str:
    index.unlink(missing_ok=True)
    lines = "".join(f"{e.mode} {e.sha}\t{path}\0" for path, e in sorted(final.items()))
    with_index = {**env, "GIT_INDEX_FILE": str(index)}
    await git("--git-dir", str(git_dir), "update-index", "-z", "--index-info",
              env=with_index, stdin=lines)  # fmt: skip
    return await git("--git-dir", str(git_dir), "write-tree", env=with_index)


def describe(snapshot: Snapshot) -> list[str]:
    """What the pull request and the status comment should say about the snapshot."""
    notes = [f"left out: {item}" for item in snapshot.left_out]
    notes += [f"refused: {finding}" for finding in snapshot.findings]
    return notes
