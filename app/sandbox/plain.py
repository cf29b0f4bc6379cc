"""The fallback runner: a plain subprocess in the worktree with the same limits, and no isolation.

Used only where bubblewrap cannot run *and* the operator said so (`SWARM_ALLOW_UNSANDBOXED`,
for trusted local use). It keeps the time, output and resource limits, its own process group
and a scrubbed environment, but the command can read and write anything the swarm's user can —
other processes' /proc/<pid>/environ, key files, the network. So, like Zuul's nullwrap, it
refuses to run while this process holds anything secret-looking in its environment (as it was
started, and as it is now) or is handed one, and it says loudly, once per process, that it is
not a sandbox.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Mapping
from pathlib import Path

from app.credentials import secret_looking_names
from app.sandbox.base import CommandResult, Limits
from app.sandbox.bubblewrap import SHELL, default_sandbox_path
from app.sandbox.environment import (
    UnsafeEnvironmentError,
    scrubbed_env,
    secrets_in_process_environment,
)
from app.sandbox.limits import WorktreeGuard, limit_hint, limits_prologue
from app.sandbox.process import run_process

log = logging.getLogger(__name__)

_warned = False  # the warning is logged once per process, not once per worktree


def _warn_once() -> None:
    global _warned
    if not _warned:
        _warned = True
        log.warning(
            "commands are NOT isolated: agents' commands run as "
            "plain subprocesses that can read the host's files and reach the network; "
            "install bubblewrap (`swarm doctor` says why it cannot run)"
        )


def refuse_beside_secrets() -> None:
    """Raise UnsafeEnvironmentError while this process holds secret-looking variables."""
    held = secrets_in_process_environment()
    if held:
        raise UnsafeEnvironmentError(
            f"refusing to run agents' commands unsandboxed while this process holds "
            f"{', '.join(held)}: an unisolated command could read them from /proc. "
            "Make bubblewrap work here (see README: Security)"
        )


class SubprocessSandbox:
    """Runs each command with the shell in `worktree`, with limits but without isolation."""

    kind: str = "subprocess"

    def __init__(
        self,
        worktree: Path,
        *,
        limits: Limits | None = None,
        default_timeout_s: float = 600,
        output_cap: int = 65536,
        path: str | None = None,
    ) -> None:
        self.worktree = Path(worktree).resolve()
        if not self.worktree.is_dir():
            raise ValueError(f"worktree {self.worktree} is not a directory")
        refuse_beside_secrets()
        self.limits = limits or Limits()
        self.default_timeout_s = default_timeout_s
        self.output_cap = output_cap
        self.path = path or default_sandbox_path()
        _warn_once()

    async def run(
        self,
        command: str,
        *,
        timeout_s: float | None = None,
        network: bool = False,  # cannot be enforced here; kept for the shared contract
        env: Mapping[str, str] | None = None,
    ) -> CommandResult:
        secrets = secret_looking_names(env)
        if secrets:
            raise UnsafeEnvironmentError(
                f"refusing to pass {', '.join(secrets)} to an unisolated command: "
                "install bubblewrap to run commands that need credentials"
            )
        refuse_beside_secrets()  # the environment may have changed since we started
        guard = WorktreeGuard(self.worktree, self.limits.worktree_mb)
        # A fresh HOME per command, so tools that write dotfiles do not touch the real home.
        with tempfile.TemporaryDirectory(prefix="swarm-home-") as home:
            result = await run_process(
                [SHELL, "-c", limits_prologue(self.limits), "swarm-sandbox", command],
                cwd=self.worktree,
                env=scrubbed_env(home=home, path=self.path, extra=env),
                timeout_s=self.default_timeout_s if timeout_s is None else timeout_s,
                output_cap=self.output_cap,
                guard=guard,
            )
        if not result.limit and (over := await guard.check()):
            result.limit = over
        result.limit = limit_hint(result, self.limits)
        return result
