"""The snapshot that commits are built from: what an agent writes never makes git run code."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from app.credentials import SecretScanner
from app.workspace.snapshot import diff_of_worktree, take_snapshot


def git(cwd: Path, *args: str) -> str:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(cwd), "GIT_CONFIG_NOSYSTEM": "1"}
    return subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@e", *args],
        cwd=cwd, check=True, capture_output=True, text=True, env=env,
    ).stdout.strip()  # fmt: skip


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    (root / "README.md").write_text("hello\n")
    (root / "keys.txt").write_text("-----BEGIN RSA PRIVATE KEY----- (a test fixture)\n")
    (root / ".gitignore").write_text("build/\n")
    git(root, "init", "-q", "-b", "main")
    git(root, "add", ".")
    git(root, "commit", "-qm", "init")
    return root


async def snap(repo: Path, protected: tuple[str, ...] = (), known: tuple[str, ...] = ()):  # type: ignore[no-untyped-def]
    git_dir = repo / ".git"
    return await take_snapshot(
        git_dir, repo, "HEAD", protected=protected, scanner=SecretScanner(known)
    )


def tree_files(repo: Path, tree: str) -> dict[str, str]:
    """path -> mode of every entry in `tree`."""
    out = git(repo, "ls-tree", "-r", "--full-tree", tree)
    return {line.split("\t")[1]: line.split()[0] for line in out.splitlines()}


async def test_a_nested_repository_with_a_filter_of_its_own_runs_nothing_and_is_left_out(
    repo: Path, tmp_path: Path
) -> None:
    pwned = tmp_path / "pwned"
    nested = repo / "vendor" / "lib"
    nested.mkdir(parents=True)
    git(nested, "init", "-q")
    (nested / "code.py").write_text("x = 1\n")
    git(nested, "add", ".")
    git(nested, "commit", "-qm", "nested")
    # What the agent adds: a filter and an fsmonitor in the nested repository's own config.
    git(nested, "config", "filter.evil.clean", f"touch {pwned}; cat")
    git(nested, "config", "core.fsmonitor", f"touch {pwned}")
    (nested / ".gitattributes").write_text("* filter=evil\n")
    (nested / "code.py").write_text("x = 2\n")  # dirty, so a status would look inside
    (repo / "work.py").write_text("print(1)\n")

    snapshot = await snap(repo)

    assert not pwned.exists()
    assert [item.path for item in snapshot.left_out] == ["vendor/lib"]
    assert "nested git repository" in snapshot.left_out[0].why
    files = tree_files(repo, snapshot.tree)
    assert "work.py" in files and not any(p.startswith("vendor") for p in files)
    assert "160000" not in files.values()  # no gitlink


async def test_attributes_the_agent_writes_drive_nothing(repo: Path, tmp_path: Path) -> None:
    # Outer attributes naming a driver: no config of the agent's defines it, and the
    # snapshot never asks git to filter anything anyway.
    (repo / ".gitattributes").write_text("*.py filter=lfs diff=evil\n")
    (repo / "a.py").write_text("print('as written')\n")
    snapshot = await snap(repo)
    blob = git(repo, "rev-parse", f"{snapshot.tree}:a.py")
    assert git(repo, "cat-file", "blob", blob) == "print('as written')"


async def test_fifos_symlinks_and_git_data_are_handled_without_blocking(repo: Path) -> None:
    (repo / "README.md").unlink()
    os.mkfifo(repo / "README.md")  # opening it for reading would block forever
    (repo / "link").symlink_to("/etc/passwd")  # committed as a link, never followed
    (repo / "sub").mkdir()
    (repo / "sub" / ".git").write_text("gitdir: /somewhere\n")
    (repo / "run.sh").write_text("#!/bin/sh\n")
    (repo / "run.sh").chmod(0o755)
    (repo / "build").mkdir()
    (repo / "build" / "out.o").write_text("ignored\n")

    snapshot = await snap(repo)

    left = {item.path: item.why for item in snapshot.left_out}
    assert "FIFO" in left["README.md"]
    files = tree_files(repo, snapshot.tree)
    assert not [path for path in files if path.startswith("sub")]  # no .git, no gitlink
    assert files["link"] == "120000" and files["run.sh"] == "100755"
    assert git(repo, "cat-file", "blob", git(repo, "rev-parse", f"{snapshot.tree}:link")) == (
        "/etc/passwd"
    )
    assert files["README.md"] == "100644"  # kept as it was
    assert "build/out.o" not in files


async def test_a_directory_swapped_for_a_symlink_is_never_read_through(
    repo: Path, tmp_path: Path
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "README.md").write_text("host secret\n")
    (repo / "docs").mkdir()
    (repo / "docs" / "guide.md").write_text("guide\n")
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "docs")
    (repo / "docs" / "guide.md").unlink()
    (repo / "docs").rmdir()
    (repo / "docs").symlink_to(outside)

    snapshot = await snap(repo)

    files = tree_files(repo, snapshot.tree)
    assert files.get("docs") == "120000" and "docs/guide.md" not in files
    assert "docs/README.md" not in files


async def test_credentials_in_added_lines_are_found_but_old_fixtures_are_not(repo: Path) -> None:
    token = "ghs_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"
    (repo / "keys.txt").write_text("-----BEGIN RSA PRIVATE KEY----- (a test fixture)\nmore text\n")
    (repo / "config.py").write_text(f"TOKEN = '{token}'\nAPI = 'my-own-secret-value'\n")

    snapshot = await snap(repo, known=("my-own-secret-value",))

    found = {(f.where, f.kind) for f in snapshot.findings}
    assert found == {
        ("config.py:1", "GitHub Token"),
        ("config.py:2", "one of this process's own secrets"),
    }


async def test_protected_paths_keep_their_starting_content(repo: Path) -> None:
    (repo / ".github" / "workflows").mkdir(parents=True)
    (repo / ".github" / "workflows" / "ci.yml").write_text("on: push\n")
    (repo / "README.md").write_text("changed\n")
    snapshot = await snap(repo, protected=(".github/workflows/**", "README.md"))
    assert sorted(snapshot.protected) == [".github/workflows/ci.yml", "README.md"]
    assert snapshot.tree == snapshot.base_tree


async def test_the_diff_for_a_local_checkout_writes_no_object_into_it(repo: Path) -> None:
    (repo / "README.md").write_text("hello\nworld\n")
    (repo / "new.txt").write_text("new\n")
    objects_before = sorted(p.name for p in (repo / ".git" / "objects").rglob("*"))
    stat = await diff_of_worktree(repo / ".git", repo, "HEAD", "--stat")
    assert "README.md | 1 +" in stat and "new.txt   | 1 +" in stat
    assert sorted(p.name for p in (repo / ".git" / "objects").rglob("*")) == objects_before
