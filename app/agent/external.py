"""An external agent CLI (aider, Claude Code, Codex CLI) as a worker backend.

The CLI runs in the task's sandbox with the task as its prompt; what it changed is read back as a
diff by git on the host, outside the sandbox, with the git directory pinned before the CLI runs
(so a `.git` it plants in the worktree is never read) and hooks disabled.

Such a CLI usually needs the network and a key to reach its model. Both are the operator's
choice, made explicitly per call: `network=True` shares the host's network with the sandbox, and
`env` / `pass_env` name exactly the variables it gets. The plain-subprocess runner refuses
secret-looking variables (it isolates nothing), so a CLI that needs a key needs bubblewrap.
"""

from __future__ import annotations

import logging
import os
import secrets
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from app.sandbox.base import Sandbox
from app.workspace.git import git
from app.workspace.snapshot import diff_of_worktree

log = logging.getLogger(__name__)

PROMPT_PLACEHOLDER = "{prompt_file}"


@dataclass
class ExternalRun:
    command: str  # the shell command that ran, with the prompt file substituted
    exit_code: int | None  # None when it was killed at the timeout
    timed_out: bool
    output: str  # the CLI's stdout and stderr, capped by the sandbox
    output_truncated: bool
    base: str  # the commit the diff is taken against (HEAD before the run)
    diff: str  # `git diff --binary` from base to the worktree, untracked files included
    duration_s: float


def build_command(command: Sequence[str] | str, prompt_file: Path) -> str:
    """The shell command to run: `{prompt_file}` replaced by the prompt's path, else the prompt
    on stdin. A list is one argument per element; a string is a shell command line."""
    quoted = shlex.quote(str(prompt_file))
    if isinstance(command, str):
        if PROMPT_PLACEHOLDER in command:
            return command.replace(PROMPT_PLACEHOLDER, quoted)
        return f"( {command} ) < {quoted}"
    if not command:
        raise ValueError("the external agent command is empty")
    if any(PROMPT_PLACEHOLDER in part for part in command):
        return shlex.join(part.replace(PROMPT_PLACEHOLDER, str(prompt_file)) for part in command)
    return f"{shlex.join(command)} < {quoted}"


def _agent_env(env: Mapping[str, str] | None, pass_env: Sequence[str]) -> dict[str, str]:
    chosen: dict[str, str] = {}
    for name in pass_env:
        if name in os.environ:
            chosen[name] = os.environ[name]
        else:
            log.warning("external agent: %s is not set in the environment; not passed", name)
    chosen.update(env or {})
    return chosen


async def worktree_diff(worktree: Path, git_dir: Path, base: str) -> str:
    """Everything in the worktree that differs from `base`, untracked (not ignored) files
    included, as one binary-safe patch — read as the swarm builds a commit, so nothing the CLI
    wrote (attributes, nested repositories) makes git run a command on the host."""
    return await diff_of_worktree(git_dir, worktree, base, "-p", "--binary")


async def run_external_agent(
    command: Sequence[str] | str,
    prompt: str,
    sandbox: Sandbox,
    worktree: Path,
    timeout_s: float,
    *,
    git_dir: Path | None = None,
    network: bool = False,
    env: Mapping[str, str] | None = None,
    pass_env: Sequence[str] = (),
) -> ExternalRun:
    """Run the CLI on `prompt` in `sandbox` (whose working directory is `worktree`).

    git_dir: the worktree's git directory; when None it is asked of git before the CLI runs.
    network / env / pass_env: the operator's explicit grant (see the module docstring);
    pass_env names variables copied from this process's environment.
    """
    worktree = Path(worktree).resolve()
    if git_dir is None:
        git_dir = Path(await git("rev-parse", "--absolute-git-dir", cwd=worktree))
    location = ("--git-dir", str(git_dir), "--work-tree", str(worktree))
    base = await git(*location, "rev-parse", "--verify", "HEAD^{commit}", cwd=worktree)
    # The worktree is the only host directory the sandbox sees, so the prompt goes there; a
    # random name avoids clobbering a file of the repository, and it is gone before the diff.
    prompt_file = worktree / f".swarm-prompt-{secrets.token_hex(6)}.md"
    prompt_file.write_text(prompt, encoding="utf-8")
    shell_command = build_command(command, prompt_file)
    try:
        result = await sandbox.run(
            shell_command,
            timeout_s=timeout_s,
            network=network,
            env=_agent_env(env, pass_env),
        )
    finally:
        try:
            prompt_file.unlink(missing_ok=True)
        except OSError as exc:  # the CLI may have replaced it with a directory
            log.warning("external agent: could not remove the prompt file: %s", exc)
    return ExternalRun(
        command=shell_command,
        exit_code=result.exit_code,
        timed_out=result.timed_out,
        output=result.output,
        output_truncated=result.truncated,
        base=base,
        diff=await worktree_diff(worktree, git_dir, base),
        duration_s=result.duration_s,
    )
