"""Mirrors, worktrees, commits and pushes with real git repositories."""

from __future__ import annotations

import pickle
import subprocess
from pathlib import Path

import pytest

from app.workspace.git import GitError, auth_env, redact
from app.workspace.worktree import Identity, Mirror, branch_name, protected_matches

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


async def test_a_task_branch_is_committed_as_the_bot_and_pushed_with_a_lease(
    tmp_path: Path, origin: Path
) -> None:
    mirror = Mirror(tmp_path / "data", "octo/hello")
    await mirror.fetch(str(origin), token=None)
    branch = branch_name(12, "Add a greeting, politely!")
    assert branch == "swarm/12-add-a-greeting-politely"
    tree = await mirror.worktree("12", branch, "refs/remotes/origin/main")
    (tree.path / "greet.py").write_text("print('hi')\n")
    assert await tree.changed_paths() == ["greet.py"]
    head = await tree.commit_all("Add greet", BOT)
    assert head is not None and await tree.commit_all("nothing", BOT) is None
    await tree.push(str(origin), "unused-token", expected_remote=None)
    author = run("git", "log", "-1", "--format=%an <%ae>", branch, cwd=origin)
    assert author == "swarm[bot] <7+swarm[bot]@users.noreply.github.com>"

    # Someone else moved the branch: the lease refuses to overwrite their work.
    (tree.path / "greet.py").write_text("print('hello')\n")
    await tree.commit_all("Change greet", BOT)
    with pytest.raises(GitError, match=r"stale info|rejected"):
        await tree.push(str(origin), "unused-token", expected_remote="0" * 40)
    await tree.push(str(origin), "unused-token", expected_remote=head)


async def test_a_fresh_worktree_resumes_from_the_pushed_branch(
    tmp_path: Path, origin: Path
) -> None:
    mirror = Mirror(tmp_path / "data", "octo/hello")
    await mirror.fetch(str(origin), token=None)
    tree = await mirror.worktree("3", "swarm/3-x", "refs/remotes/origin/main")
    (tree.path / "a.txt").write_text("a\n")
    pushed = await tree.commit_all("checkpoint", BOT)
    await tree.push(str(origin), "t", None)
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
    await tree.commit_all("Work", BOT)
    assert not (tmp_path / "pwned").exists()
    assert (
        run("git", "--git-dir", str(tree.git_dir), "log", "-1", "--format=%s", cwd=tmp_path)
        == "Work"
    )


async def test_protected_paths_are_restored(tmp_path: Path, origin: Path) -> None:
    mirror = Mirror(tmp_path / "data", "octo/hello")
    await mirror.fetch(str(origin), token=None)
    tree = await mirror.worktree("6", "swarm/6-x", "refs/remotes/origin/main")
    (tree.path / ".github" / "workflows").mkdir(parents=True)
    (tree.path / ".github" / "workflows" / "ci.yml").write_text("on: push\n")
    (tree.path / "README.md").write_text("changed\n")
    changed = await tree.changed_paths()
    refused = protected_matches(changed, [".github/workflows/**", "README.md"])
    assert sorted(refused) == [".github/workflows/ci.yml", "README.md"]
    await tree.restore(refused)
    assert await tree.changed_paths() == []
    assert (tree.path / "README.md").read_text() == "hello\n"


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
