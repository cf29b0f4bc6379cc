"""Real git on the simulator's bare repositories: the one place that runs git commands.

Merges are computed with `git merge-tree --write-tree` (no work tree), commits are made with
`git commit-tree`, and refs move only by compare-and-swap (`git update-ref <ref> <new> <old>`).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

ZERO_SHA = "0" * 40
GIT_TIMEOUT = 60.0


class GitError(RuntimeError):
    pass


@dataclass(frozen=True)
class Identity:
    name: str
    email: str


@dataclass(frozen=True)
class CommitInfo:
    sha: str
    tree: str
    parents: list[str]
    author: Identity
    author_date: datetime
    committer: Identity
    committer_date: datetime
    message: str


@dataclass(frozen=True)
class FileChange:
    filename: str
    status: str  # GitHub's words: added, removed, modified, renamed
    additions: int
    deletions: int
    blob_sha: str | None
    previous_filename: str | None = None


@dataclass(frozen=True)
class TreeEntry:
    mode: str
    type: str  # blob, tree, commit
    sha: str
    size: int
    path: str


def hermetic_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """An environment that ignores the machine's git configuration and never prompts."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": tempfile.gettempdir(),
        "LANG": "C.UTF-8",
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_TERMINAL_PROMPT": "0",
    }
    env.update(extra or {})
    return env


def identity_env(author: Identity, committer: Identity) -> dict[str, str]:
    return {
        "GIT_AUTHOR_NAME": author.name,
        "GIT_AUTHOR_EMAIL": author.email,
        "GIT_COMMITTER_NAME": committer.name,
        "GIT_COMMITTER_EMAIL": committer.email,
    }


class GitRepo:
    """A bare repository on disk."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def run(
        self,
        *args: str,
        input: bytes | None = None,
        env: Mapping[str, str] | None = None,
        ok_codes: tuple[int, ...] = (0,),
        cwd: Path | None = None,
        git_dir: bool = True,
    ) -> subprocess.CompletedProcess[bytes]:
        command = ["git", *(["--git-dir", str(self.path)] if git_dir else []), *args]
        proc = subprocess.run(
            command,
            input=input,
            capture_output=True,
            env=hermetic_env(env),
            timeout=GIT_TIMEOUT,
            cwd=cwd,
            check=False,
        )
        if proc.returncode not in ok_codes:
            raise GitError(
                f"git {' '.join(args)} failed ({proc.returncode}): "
                f"{proc.stderr.decode(errors='replace').strip()}"
            )
        return proc

    def out(self, *args: str, env: Mapping[str, str] | None = None) -> str:
        return self.run(*args, env=env).stdout.decode().strip()

    # creation ----------------------------------------------------------------------------------
    @classmethod
    def init_bare(cls, path: Path, default_branch: str) -> GitRepo:
        path.parent.mkdir(parents=True, exist_ok=True)
        repo = cls(path)
        repo.run(
            "init",
            "--bare",
            "--quiet",
            f"--initial-branch={default_branch}",
            str(path),
            git_dir=False,
        )
        # Let http-backend accept pushes; authentication is the simulator's job, not git's.
        repo.run("config", "http.receivepack", "true")
        repo.run("config", "receive.denyDeleteCurrent", "warn")
        # GitHub keeps refs/pull/* itself: they can be fetched, never pushed.
        repo.run("config", "receive.hideRefs", "refs/pull")
        return repo

    def import_directory(self, source: Path, branch: str, message: str, author: Identity) -> str:
        """Commit every file under `source` as the first commit of `branch`."""
        with tempfile.TemporaryDirectory() as scratch:
            env = {"GIT_INDEX_FILE": str(Path(scratch) / "index"), "GIT_WORK_TREE": str(source)}
            self.run("add", "--all", "--force", ".", env=env, cwd=source)
            tree = self.out("write-tree", env=env)
        sha = self.commit_tree(tree, [], message, author, author)
        if not self.update_ref(f"refs/heads/{branch}", sha, ZERO_SHA):
            raise GitError(f"branch {branch} already exists")
        return sha

    # reading -----------------------------------------------------------------------------------
    def resolve(self, rev: str) -> str | None:
        """The commit `rev` names (sha, branch, tag, `refs/...`), or None."""
        proc = self.run(
            "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}", ok_codes=(0, 1, 128)
        )
        if proc.returncode != 0:
            return None
        return proc.stdout.decode().strip() or None

    def object_exists(self, sha: str) -> bool:
        return self.run("cat-file", "-e", sha, ok_codes=(0, 1, 128)).returncode == 0

    def refs(self) -> dict[str, str]:
        text = self.out(
            "for-each-ref", "--format=%(refname) %(objectname)", "refs/heads", "refs/tags"
        )
        return dict(line.split(" ", 1) for line in text.splitlines() if line)

    def is_ancestor(self, ancestor: str, descendant: str) -> bool:
        code = self.run(
            "merge-base", "--is-ancestor", ancestor, descendant, ok_codes=(0, 1)
        ).returncode
        return code == 0

    def merge_base(self, a: str, b: str) -> str | None:
        proc = self.run("merge-base", a, b, ok_codes=(0, 1))
        return proc.stdout.decode().strip() or None

    def rev_list(self, *args: str) -> list[str]:
        return self.out("rev-list", *args).split()

    def commit_info(self, rev: str) -> CommitInfo:
        fmt = "%H%x00%T%x00%P%x00%an%x00%ae%x00%at%x00%cn%x00%ce%x00%ct%x00%B"
        fields = self.run("show", "-s", f"--format={fmt}", rev).stdout.decode().split("\x00", 9)
        return CommitInfo(
            sha=fields[0],
            tree=fields[1],
            parents=fields[2].split(),
            author=Identity(fields[3], fields[4]),
            author_date=datetime.fromtimestamp(int(fields[5]), UTC),
            committer=Identity(fields[6], fields[7]),
            committer_date=datetime.fromtimestamp(int(fields[8]), UTC),
            message=fields[9].rstrip("\n"),
        )

    def changed_files(self, base: str, head: str) -> list[FileChange]:
        """Files changed from `base` to `head` (pass a merge base for GitHub's three-dot diff)."""
        numstat = self.out("diff", "--numstat", "-z", "--no-renames", base, head)
        counts: dict[str, tuple[int, int]] = {}
        parts = numstat.split("\x00")
        for part in parts:
            if not part:
                continue
            added, deleted, name = part.split("\t", 2)
            counts[name] = (
                int(added) if added != "-" else 0,
                int(deleted) if deleted != "-" else 0,
            )
        raw = self.out("diff", "--raw", "-z", "--no-renames", "--no-abbrev", base, head)
        fields = raw.split("\x00")
        changes: list[FileChange] = []
        words = {"A": "added", "D": "removed", "M": "modified", "T": "changed"}
        for meta, name in zip(fields[0::2], fields[1::2], strict=False):
            if not meta.startswith(":"):
                continue
            _, _, _, new_sha, letter = meta[1:].split(" ")
            plus, minus = counts.get(name, (0, 0))
            changes.append(
                FileChange(
                    filename=name,
                    status=words.get(letter[0], "modified"),
                    additions=plus,
                    deletions=minus,
                    blob_sha=None if new_sha == ZERO_SHA else new_sha,
                )
            )
        return changes

    def tree_entry(self, rev: str, path: str) -> TreeEntry | None:
        """The entry at `path` in `rev`'s tree ('' is the root), or None."""
        if path in ("", "/"):
            sha = self.out("rev-parse", f"{rev}^{{tree}}")
            return TreeEntry("040000", "tree", sha, 0, "")
        proc = self.run("ls-tree", "--long", "-z", rev, "--", path.strip("/"), ok_codes=(0, 128))
        line = proc.stdout.decode().rstrip("\x00")
        if proc.returncode != 0 or not line:
            return None
        meta, name = line.split("\t", 1)
        mode, kind, sha, size = meta.split()
        return TreeEntry(mode, kind, sha, int(size) if size != "-" else 0, name)

    def list_tree(self, tree: str, prefix: str) -> list[TreeEntry]:
        text = self.run("ls-tree", "--long", "-z", tree).stdout.decode()
        entries: list[TreeEntry] = []
        for line in filter(None, text.split("\x00")):
            meta, name = line.split("\t", 1)
            mode, kind, sha, size = meta.split()
            path = f"{prefix.strip('/')}/{name}" if prefix.strip("/") else name
            entries.append(TreeEntry(mode, kind, sha, int(size) if size != "-" else 0, path))
        return entries

    def read_blob(self, sha: str) -> bytes:
        return self.run("cat-file", "blob", sha).stdout

    # writing -----------------------------------------------------------------------------------
    def merge_tree(self, ours: str, theirs: str) -> str | None:
        """The tree of merging `theirs` into `ours`, or None when they conflict."""
        proc = self.run(
            "merge-tree",
            "--write-tree",
            "--no-messages",
            "--name-only",
            ours,
            theirs,
            ok_codes=(0, 1),
        )
        return proc.stdout.decode().split("\n", 1)[0].strip() if proc.returncode == 0 else None

    def commit_tree(
        self,
        tree: str,
        parents: list[str],
        message: str,
        author: Identity,
        committer: Identity,
        author_date: datetime | None = None,
    ) -> str:
        env = identity_env(author, committer)
        if author_date is not None:
            env["GIT_AUTHOR_DATE"] = f"{int(author_date.timestamp())} +0000"
        args = ["commit-tree", tree]
        for parent in parents:
            args += ["-p", parent]
        return self.run(*args, input=message.encode(), env=env).stdout.decode().strip()

    def update_ref(self, ref: str, new: str, old: str) -> bool:
        """Move `ref` from `old` to `new` atomically (`old` = ZERO_SHA: must not exist yet)."""
        proc = self.run("update-ref", ref, new, old, ok_codes=(0, 1, 128))
        return proc.returncode == 0

    def set_ref(self, ref: str, sha: str) -> None:
        """Point a ref the simulator owns (`refs/pull/N/head`) at `sha`, whatever it was."""
        self.run("update-ref", ref, sha)

    def commit_files(
        self,
        parent: str,
        files: Mapping[str, str],
        deletions: list[str],
        message: str,
        author: Identity,
    ) -> str:
        """A commit on top of `parent` with `files` (path -> text) written and `deletions`
        removed, made without a work tree (the control API's stand-in for a person's push)."""
        with tempfile.TemporaryDirectory() as scratch:
            env = {"GIT_INDEX_FILE": str(Path(scratch) / "index")}
            self.run("read-tree", parent, env=env)
            lines: list[str] = []
            for path, text in files.items():
                blob = self.run("hash-object", "-w", "--stdin", input=text.encode())
                lines.append(f"100644 {blob.stdout.decode().strip()}\t{path}")
            # Mode 0 removes an entry; --index-info needs no work tree, unlike --force-remove.
            lines += [f"0 {ZERO_SHA}\t{path}" for path in deletions]
            self.run("update-index", "--index-info", input="\n".join(lines).encode(), env=env)
            tree = self.out("write-tree", env=env)
        return self.commit_tree(tree, [parent], message, author, author)

    def delete_ref(self, ref: str, old: str) -> bool:
        return self.run("update-ref", "-d", ref, old, ok_codes=(0, 1, 128)).returncode == 0

    def rebase_commits(self, onto: str, base: str, head: str, committer: Identity) -> str | None:
        """Replay `base..head` onto `onto` (GitHub's rebase merge); None on a conflict.

        git 2.39's merge-tree cannot take an explicit merge base, so the commits are
        cherry-picked in a throwaway work tree of this repository.
        """
        commits = self.rev_list("--reverse", "--no-merges", f"{base}..{head}")
        scratch = Path(tempfile.mkdtemp(prefix="sim-rebase-"))
        tree = scratch / "tree"
        try:
            self.run("worktree", "add", "--detach", "--quiet", str(tree), onto)
            env = {"GIT_COMMITTER_NAME": committer.name, "GIT_COMMITTER_EMAIL": committer.email}
            for sha in commits:
                proc = self.run(
                    "-C",
                    str(tree),
                    "cherry-pick",
                    "--allow-empty",
                    "--keep-redundant-commits",
                    sha,
                    env=env,
                    ok_codes=(0, 1),
                    git_dir=False,
                )
                if proc.returncode != 0:
                    return None
            return (
                self.run("-C", str(tree), "rev-parse", "HEAD", git_dir=False)
                .stdout.decode()
                .strip()
            )
        finally:
            self.run("worktree", "remove", "--force", str(tree), ok_codes=(0, 128))
            self.run("worktree", "prune", ok_codes=(0, 128))
            shutil.rmtree(scratch, ignore_errors=True)

    def checkout_copy(self, sha: str, target: Path) -> None:
        """A plain clone of this repository at `sha` in `target` (CI's scratch directory)."""
        self.run(
            "clone",
            "--quiet",
            "--shared",
            "--no-checkout",
            str(self.path),
            str(target),
            git_dir=False,
        )
        self.run("-C", str(target), "checkout", "--quiet", "--detach", sha, git_dir=False)
