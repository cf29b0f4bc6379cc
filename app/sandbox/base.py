"""The contract of every command runner an agent's commands go through."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol


@dataclass
class CommandResult:
    exit_code: int | None  # None when killed (timeout, or a limit the runner enforces)
    output: str  # stdout and stderr interleaved, capped
    timed_out: bool
    truncated: bool
    duration_s: float
    limit: str = ""  # a sandbox limit the command hit, in words for the agent ("" if none)


@dataclass(frozen=True)
class Limits:
    """What one command may use. Defaults fit a real test suite; the operator sets them
    (SWARM_SANDBOX_*). Processes count threads too."""

    processes: int = 512
    memory_mb: int = 4096  # per process: the data it writes (heap, anonymous mappings)
    file_size_mb: int = 1024  # the largest file a command may write
    tmp_mb: int = 1024  # the sandbox's own /tmp, in memory
    worktree_mb: int = 4096  # the whole worktree on disk

    def describe(self) -> str:
        return (
            f"at most {self.processes} processes, {self.memory_mb} MiB of memory per process, "
            f"files up to {self.file_size_mb} MiB, {self.tmp_mb} MiB in /tmp and "
            f"{self.worktree_mb} MiB for the whole worktree"
        )


class Sandbox(Protocol):
    kind: str  # "bubblewrap" or "subprocess"
    limits: Limits

    async def run(
        self,
        command: str,
        *,
        timeout_s: float | None = None,
        network: bool = False,
        env: Mapping[str, str] | None = None,
    ) -> CommandResult: ...
