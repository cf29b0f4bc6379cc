"""The contract of every command runner an agent's commands go through."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol


@dataclass
class CommandResult:
    exit_code: int | None  # None when killed (timeout)
    output: str  # stdout and stderr interleaved, capped
    timed_out: bool
    truncated: bool
    duration_s: float


class Sandbox(Protocol):
    kind: str  # "bubblewrap" or "subprocess"

    async def run(
        self,
        command: str,
        *,
        timeout_s: float | None = None,
        network: bool = False,
        env: Mapping[str, str] | None = None,
    ) -> CommandResult: ...
