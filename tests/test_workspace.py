"""Mirrors, worktrees, commits and pushes with real git repositories."""

from __future__ import annotations

import pickle
import subprocess
from pathlib import Path

import pytest

from app.credentials import SecretScanner
from app.workspace.git import GitError, auth_env, redact
from app.workspace.worktree import Identity, Mirror, Worktree, branch_name

BOT = Identity.bot("swarm", 7)


def run(*args: str, cwd: Path) -> str:
    return subprocess.run(args, cwd=cwd, check=True, capture_output=True, text=True).stdout.strip()


@pytest.fixture
def origin(tmp_path: Path) -> Path:
    """A bare 'GitHub' repository with one commit on main."""
    seed = tmp_path / "seed"
    seed.mkdir()
    (seed / "README.md").write_text("hello\n")
    run("git", "init", "-q", "-b", "main", cwd=seed)
    run("git", "-c", "user.name=t", "-c", "user.email=t@e", "add", ".", cwd=seed)
    run("git", "-c", "user.name=t", "-c", "user.email=t@e", "commit", "-qm", "init", cwd=seed)
    bare = tmp_path / "origin.git"
    run("git", "clone", "-q", "--bare", str(seed), str(bare), cwd=tmp_path)
    return bare


async def commit_all(tree: Worktree, message: str, parent: str | None = None) -> str | None:
    """Snapshot the work tree on `parent` (default HEAD) and commit it; None if unchanged."""
    base = parent or await tree.head()
    snap = await tree.snapshot(base, [], SecretScanner())
    if snap.tree == snap.base_tree:
        return None
    return await tree.commit(snap.tree, base, message, BOT)


async def test_a_task_branch_is_committed_as_the_bot_and_pushed_with_a_lease(
    tmp_path: Path, origin: Path
) -> None:
    mirror = Mirror(tmp_path / "data", "octo/hello")
    await mirror.fetch(str(origin), token=None)
    branch = branch_name(12, "Add a greeting, politely!")
    assert branch == "swarm/12-add-a-greeting-politely"
    tree = await mirror.worktree("12", branch, "refs/remotes/origin/main")
    (tree.path / "greet.py").write_text("print('hi')\n")
    snap = await tree.snapshot(await tree.head(), [], SecretScanner())
    assert snap.changed == ["greet.py"] and not snap.left_out
    head = await commit_all(tree, "Add greet")
    assert head is not None and await commit_all(tree, "nothing") is None
    await tree.push(str(origin), "unused-token", head, expected_remote=None)
    author = run("git", "log", "-1", "--format=%an <%ae>", branch, cwd=origin)
    assert author == "swarm[bot] <7+swarm[bot]@users.noreply.github.com>"

    # Someone else moved the branch: the lease refuses to overwrite their work.
    (tree.path / "greet.py").write_text("print('hello')\n")
    second = await commit_all(tree, "Change greet")
    assert second is not None
    with pytest.raises(GitError, match=r"stale info|rejected"):
        await tree.push(str(origin), "unused-token", second, expected_remote="0" * 40)
    await tree.push(str(origin), "unused-token", second, expected_remote=head)


async def test_a_fresh_worktree_resumes_from_the_pushed_branch(
    tmp_path: Path, origin: Path
) -> None:
    mirror = Mirror(tmp_path / "data", "octo/hello")
    await mirror.fetch(str(origin), token=None)
    tree = await mirror.worktree("3", "swarm/3-x", "refs/remotes/origin/main")
    (tree.path / "a.txt").write_text("a\n")
    pushed = await commit_all(tree, "checkpoint")
    assert pushed is not None
    await tree.push(str(origin), "t", pushed, None)
    (tree.path / "scratch.txt").write_text("never saved\n")

    await mirror.fetch(str(origin), token=None)
    assert await mirror.remote_sha("swarm/3-x") == pushed
    again = await mirror.worktree("3", "swarm/3-x", "refs/remotes/origin/swarm/3-x")
    assert await again.head() == pushed
    assert (again.path / "a.txt").exists() and not (again.path / "scratch.txt").exists()


async def test_a_git_directory_planted_by_an_agent_is_never_read(
    tmp_path: Path, origin: Path
) -> None:
    mirror = Mirror(tmp_path / "data", "octo/hello")
    await mirror.fetch(str(origin), token=None)
    tree = await mirror.worktree("5", "swarm/5-x", "refs/remotes/origin/main")
    # An agent replaces the `.git` file with a repository whose hook would run on commit.
    (tree.path / ".git").unlink()
    run("git", "init", "-q", cwd=tree.path)
    hook = tree.path / ".git" / "hooks" / "pre-commit"
    hook.write_text(f"#!/bin/sh\ntouch {tmp_path / 'pwned'}\n")
    hook.chmod(0o755)
    (tree.path / "work.txt").write_text("done\n")
    start = run("git", "--git-dir", str(tree.git_dir), "rev-parse", "HEAD", cwd=tmp_path)
    assert await commit_all(tree, "Work", parent=start) is not None
    assert not (tmp_path / "pwned").exists()
    assert run("git", "--git-dir", str(tree.git_dir), "log", "-1", "--format=%s", cwd=tmp_path) == (
        "Work"
    )


async def test_protected_paths_stay_as_they_were_at_the_start(tmp_path: Path, origin: Path) -> None:
    mirror = Mirror(tmp_path / "data", "octo/hello")
    await mirror.fetch(str(origin), token=None)
    tree = await mirror.worktree("6", "swarm/6-x", "refs/remotes/origin/main")
    (tree.path / ".github" / "workflows").mkdir(parents=True)
    (tree.path / ".github" / "workflows" / "ci.yml").write_text("on: push\n")
    (tree.path / "README.md").write_text("changed\n")
    (tree.path / "other.txt").write_text("kept\n")
    start = await tree.head()
    snap = await tree.snapshot(start, [".github/workflows/**", "README.md"], SecretScanner())
    assert sorted(snap.protected) == [".github/workflows/ci.yml", "README.md"]
    assert snap.changed == ["other.txt"]
    head = await tree.commit(snap.tree, start, "Work", BOT)
    files = run("git", "--git-dir", str(tree.mirror), "ls-tree", "-r", "--name-only", head,
                cwd=tmp_path)  # fmt: skip
    assert files.split() == ["README.md", "other.txt"]
    readme = run("git", "--git-dir", str(tree.mirror), "show", f"{head}:README.md", cwd=tmp_path)
    assert readme == "hello"


def test_credentials_stay_out_of_messages_and_errors_survive_storage() -> None:
    assert (
        redact("https://x-access-token:ghs_secret@github.com/o/r") == "https://***@github.com/o/r"
    )
    env = auth_env("ghs_secret")
    assert "ghs_secret" not in str(env)  # base64 in a header value, never a URL
    error = GitError.of(["push", "https://x:ghs_secret@h/r"], 1, "Authorization: Basic abc")
    assert "ghs_secret" not in str(error) and "abc" not in str(error)
    stored = pickle.loads(pickle.dumps(error))  # DBOS records a failed step's exception
    assert str(stored) == str(error) and stored.code == 1
