"""Helpers shared by the sandbox and tool tests: real runners, bounded polls, /proc lookups."""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from app.sandbox import BubblewrapSandbox, Sandbox, SubprocessSandbox, check_bubblewrap

RUNNERS = ("bubblewrap", "subprocess")


def bubblewrap_problem() -> str | None:
    return check_bubblewrap()


def skip_without_bubblewrap() -> None:
    problem = bubblewrap_problem()
    if problem is not None:
        pytest.skip(f"bubblewrap cannot run on this machine: {problem}")


def make_runner(kind: str, worktree: Path, **kwargs: object) -> Sandbox:
    if kind == "bubblewrap":
        skip_without_bubblewrap()
        return BubblewrapSandbox(worktree, **kwargs)  # type: ignore[arg-type]
    return SubprocessSandbox(worktree, **kwargs)  # type: ignore[arg-type]


async def wait_until(condition: Callable[[], bool], timeout_s: float = 10.0) -> bool:
    """Poll a real condition every 20 ms until it holds or the deadline passes."""
    deadline = time.monotonic() + timeout_s
    while True:
        if condition():
            return True
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.02)


def unique_sleep_arg() -> str:
    """A `sleep` duration no other process on the machine uses, to find that process in /proc."""
    return f"{100000 + secrets.randbelow(800000)}.{secrets.randbelow(10**6):06d}"


def pids_with_argument(argument: str) -> list[int]:
    """Host pids of live processes that have exactly `argument` among their argv."""
    wanted = argument.encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue  # exited while we looked
        if wanted in argv:
            found.append(int(entry.name))
    return found


def all_command_lines() -> bytes:
    """Every live process's argv on the host, concatenated."""
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                out.append((entry / "cmdline").read_bytes())
            except OSError:
                continue
    return b"\n".join(out)
