"""The external agent backend: a stand-in CLI (a shell script) run in the real sandbox on a real git
repository; the diff is read back by git on the host."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from app.agent.external import build_command, run_external_agent
from app.sandbox import UnsafeEnvironmentError, make_sandbox
from tests.sandbox.helpers import make_runner

PROMPT = "Add a greeting.\nUse 'hello'.\n"


def git(cwd: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    path = tmp_path / "repo"
    path.mkdir()
    git(path, "init", "-q", "-b", "main")
    (path / "README.md").write_text("# Demo\n")
    (path / ".gitignore").write_text("build/\n")
    git(path, "add", "-A")
    git(path, "commit", "-qm", "initial")
    return path


def test_build_command_substitutes_or_uses_stdin() -> None:
    prompt = Path("/w/.swarm-prompt-1 x.md")
    assert build_command(["aider", "--message-file", "{prompt_file}"], prompt) == (
        "aider --message-file '/w/.swarm-prompt-1 x.md'"
    )
    assert build_command(["claude", "-p"], prompt) == "claude -p < '/w/.swarm-prompt-1 x.md'"
    assert build_command('codex exec "$(cat {prompt_file})"', prompt) == (
        "codex exec \"$(cat '/w/.swarm-prompt-1 x.md')\""
    )
    assert build_command("claude -p", prompt) == "( claude -p ) < '/w/.swarm-prompt-1 x.md'"
    with pytest.raises(ValueError):
        build_command([], prompt)


async def test_the_cli_gets_the_prompt_and_its_changes_come_back_as_a_diff(repo: Path) -> None:
    script = (
        'cp "$1" got-prompt.txt; echo "hello" >> README.md; mkdir -p build; echo junk > build/x; '
        "echo working; exit 0"
    )
    run = await run_external_agent(
        ["sh", "-c", script, "agent", "{prompt_file}"],
        PROMPT,
        make_sandbox(repo),
        repo,
        timeout_s=60,
    )
    assert run.exit_code == 0 and not run.timed_out
    assert run.output == "working\n"
    assert run.base == git(repo, "rev-parse", "HEAD")
    assert "+hello" in run.diff  # the tracked file's change
    assert "diff --git a/got-prompt.txt b/got-prompt.txt" in run.diff  # an untracked file
    assert "+Add a greeting." in run.diff
    assert "build/x" not in run.diff  # ignored files are not part of the result
    assert ".swarm-prompt" not in run.diff  # the prompt file is gone before the diff
    assert not list(repo.glob(".swarm-prompt-*"))
    # The real index is untouched: the untracked file is still untracked.
    assert "?? got-prompt.txt" in git(repo, "status", "--porcelain")
    # The diff is a real patch: it applies to a fresh checkout of the base.
    clone = repo.parent / "clone"
    git(repo.parent, "clone", "-q", str(repo), str(clone))
    (clone / "change.patch").write_text(run.diff)
    git(clone, "apply", "--index", "change.patch")
    assert (clone / "got-prompt.txt").read_text() == PROMPT


async def test_the_prompt_can_come_on_stdin(repo: Path) -> None:
    run = await run_external_agent("cat > from-stdin.txt", PROMPT, make_sandbox(repo), repo, 60)
    assert run.exit_code == 0
    assert "+Use 'hello'." in run.diff and "from-stdin.txt" in run.diff


async def test_a_cli_cannot_touch_the_checkouts_git_data_and_is_diffed_from_its_head(
    repo: Path,
) -> None:
    base = git(repo, "rev-parse", "HEAD")
    config = (repo / ".git" / "config").read_text()
    script = (
        "echo more >> README.md; git -c user.name=a -c user.email=a@b commit -qam agent; "
        "echo '[filter \"x\"] clean = touch pwned' >> .git/config; ls -A .git | wc -l"
    )
    run = await run_external_agent(script, PROMPT, make_sandbox(repo), repo, 60)
    assert "not a git repository" in run.output and "Read-only file system" in run.output
    assert run.output.strip().endswith("0")  # .git is empty to the CLI
    assert (repo / ".git" / "config").read_text() == config
    assert git(repo, "rev-parse", "HEAD") == run.base == base
    assert "+more" in run.diff


async def test_a_planted_git_directory_is_ignored(tmp_path: Path, repo: Path) -> None:
    # A worktree whose git directory lives elsewhere, like the swarm's mirrors.
    worktree = tmp_path / "wt"
    git(repo, "worktree", "add", "-q", str(worktree), "-b", "task")
    git_dir = Path(git(worktree, "rev-parse", "--absolute-git-dir"))
    script = "rm .git && mkdir .git && echo 'ref: refs/heads/evil' > .git/HEAD; echo x > new.txt"
    run = await run_external_agent(script, PROMPT, make_sandbox(worktree), worktree, 60)
    assert run.exit_code == 0, run.output
    assert run.base == git(repo, "rev-parse", "task")
    assert "diff --git a/new.txt b/new.txt" in run.diff
    assert git_dir.exists()


async def test_a_cli_that_hangs_is_killed_and_its_partial_work_kept(repo: Path) -> None:
    run = await run_external_agent(
        "echo partial > partial.txt; sleep 600", PROMPT, make_sandbox(repo), repo, timeout_s=1
    )
    assert run.timed_out and run.exit_code is None
    assert "partial.txt" in run.diff


@pytest.mark.parametrize("kind", ["bubblewrap", "subprocess"])
async def test_the_operator_grants_a_key_explicitly(
    repo: Path, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    monkeypatch.setenv("AGENT_API_KEY", "k-123")
    monkeypatch.setenv("GITHUB_TOKEN", "ghs_never")
    if kind == "subprocess":
        # The unisolated runner refuses to run at all beside anything that looks like a secret.
        with pytest.raises(UnsafeEnvironmentError, match="AGENT_API_KEY, GITHUB_TOKEN"):
            make_runner(kind, repo)
        return
    sandbox = make_runner(kind, repo)
    command = 'echo "key=$AGENT_API_KEY token=$GITHUB_TOKEN" > seen.txt'
    run = await run_external_agent(command, PROMPT, sandbox, repo, 60, pass_env=["AGENT_API_KEY"])
    assert "+key=k-123 token=" in run.diff
    assert "ghs_never" not in run.diff
