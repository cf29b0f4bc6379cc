"""The fallback runner: a plain subprocess in the worktree with the same limits, and no isolation.

Used only where bubblewrap cannot run. It keeps the time and output limits, its own process group
and a scrubbed environment, but the command can read and write anything the swarm's user can
(including other processes' /proc/<pid>/environ). Like Zuul's nullwrap it therefore refuses to be
handed anything that looks like a secret, and it says loudly, once per process, that it is not a
sandbox.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path

from app.sandbox.base import CommandResult
from app.sandbox.bubblewrap import default_sandbox_path
from app.sandbox.environment import UnsafeEnvironmentError, scrubbed_env, secret_looking_names
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


class SubprocessSandbox:
    """Runs each command with the shell in `worktree`, with limits but without isolation."""

    kind: str = "subprocess"

    def __init__(
        self,
        worktree: Path,
        *,
        default_timeout_s: float = 600,
        output_cap: int = 65536,
        path: str | None = None,
    ) -> None:
        self.worktree = Path(worktree).resolve()
        if not self.worktree.is_dir():
            raise ValueError(f"worktree {self.worktree} is not a directory")
        self.default_timeout_s = default_timeout_s
        self.output_cap = output_cap
        self.path = path or default_sandbox_path()
        self.shell = shutil.which("bash") or "/bin/sh"
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
        # A fresh HOME per command, so tools that write dotfiles do not touch the real home.
        with tempfile.TemporaryDirectory(prefix="swarm-home-") as home:
            return await run_process(
                [self.shell, "-c", command],
                cwd=self.worktree,
                env=scrubbed_env(home=home, path=self.path, extra=env),
                timeout_s=self.default_timeout_s if timeout_s is None else timeout_s,
                output_cap=self.output_cap,
            )
