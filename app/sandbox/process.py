"""Run one process in its own session with a wall-clock limit and a bounded output capture.

Both runners go through here. The process starts a new session (so it leads its own process
group); on timeout, on cancellation of the awaiting task, and after a normal exit, the whole group
is killed, so a child the command put in the background (`sleep 1000 & disown`) does not outlive
it.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Protocol

from app.sandbox.base import CommandResult
from app.sandbox.output import OutputCollector

# After the group is killed, the pipe reaches EOF at once unless something escaped the group
# (e.g. via setsid) and still holds it; we stop waiting for such a straggler after this long.
_DRAIN_AFTER_KILL_S = 5.0


def kill_group(pgid: int) -> None:
    """SIGKILL every process of a group; a group that is already gone is fine."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)


class _Capture(asyncio.SubprocessProtocol):
    """Feeds output straight into the bounded collector and signals exit and pipe closure apart.

    (asyncio's own Process.wait() in 3.11 also waits for the pipes to close, so a background
    child holding stdout would keep it waiting until the timeout.)
    """

    def __init__(self, collector: OutputCollector) -> None:
        loop = asyncio.get_running_loop()
        self.collector = collector
        self.exited: asyncio.Future[None] = loop.create_future()
        self.closed: asyncio.Future[None] = loop.create_future()

    def pipe_data_received(self, fd: int, data: bytes) -> None:
        self.collector.feed(data)

    def process_exited(self) -> None:
        if not self.exited.done():
            self.exited.set_result(None)

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.closed.done():
            self.closed.set_result(None)


class Guard(Protocol):
    """Something watched while the command runs (the worktree's size, say)."""

    interval_s: float

    async def check(self) -> str | None:
        """Why the command must be stopped now, or None."""
        ...


async def _wait_guarded(
    exited: asyncio.Future[None], timeout_s: float, guard: Guard | None
) -> str | None:
    """None when the process exited in time; else "timeout" or the guard's reason to stop it."""
    deadline = time.monotonic() + timeout_s
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return "timeout"
        if await _wait(exited, left if guard is None else min(left, guard.interval_s)):
            return None
        if guard is not None and (reason := await guard.check()):
            return reason


async def _wait(future: asyncio.Future[None], timeout_s: float) -> bool:
    """Whether `future` completed within the time (it is not cancelled either way)."""
    try:
        await asyncio.wait_for(asyncio.shield(future), timeout=timeout_s)
    except TimeoutError:
        return False
    return True


async def run_process(
    argv: Sequence[str],
    *,
    cwd: Path,
    env: Mapping[str, str],
    timeout_s: float,
    output_cap: int,
    pass_fds: Sequence[int] = (),
    guard: Guard | None = None,
) -> CommandResult:
    """Run `argv` with stdout and stderr in one capped capture; never outlives `timeout_s`,
    and is killed early when `guard` finds a reason."""
    collector = OutputCollector(output_cap)
    started = time.monotonic()
    loop = asyncio.get_running_loop()
    transport, capture = await loop.subprocess_exec(
        lambda: _Capture(collector),
        *argv,
        cwd=cwd,
        env=dict(env),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        start_new_session=True,
        pass_fds=tuple(pass_fds),
    )
    pgid = transport.get_pid()  # a new session's leader leads a process group of the same id
    try:
        stopped = await _wait_guarded(capture.exited, timeout_s, guard)
        # Also after a normal exit: background children of the command must not linger.
        kill_group(pgid)
        await _wait(capture.exited, _DRAIN_AFTER_KILL_S)
        await _wait(capture.closed, _DRAIN_AFTER_KILL_S)
    except asyncio.CancelledError:
        kill_group(pgid)
        raise
    finally:
        transport.close()
    return CommandResult(
        exit_code=None if stopped else transport.get_returncode(),
        output=collector.text(),
        timed_out=stopped == "timeout",
        truncated=collector.truncated,
        duration_s=time.monotonic() - started,
        limit="" if stopped in (None, "timeout") else f"killed: {stopped}",
    )
