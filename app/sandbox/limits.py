"""Resource limits on one command: what is set inside the box, what is watched from outside.

Inside, the command's shell sets hard rlimits before the command's own text runs (processes,
memory per process, file size, no core dumps) and offers itself first to the OOM killer, so that
under memory pressure the host kills a sandboxed process before Swarm. The sandbox's /tmp is a
size-capped tmpfs (bubblewrap). From outside, the worktree's size on disk is measured while the
command runs, and the command is killed when the worktree grows past its limit.

Linux does not apply the process limit to root, so the bubblewrap runner never runs a command
as the host's root when Swarm itself is root (see `users.py`).
"""

from __future__ import annotations

import asyncio
import os
import resource
import shlex
import stat
import time
from pathlib import Path

from app.sandbox.base import CommandResult, Limits

MIB = 1024 * 1024
_SIGXFSZ_EXIT = 128 + 25  # the shell's exit code for a process killed by SIGXFSZ


def _capped(requested: int, kind: int) -> int:
    """`requested`, lowered to this process's hard limit (a shell cannot raise it)."""
    _, hard = resource.getrlimit(kind)
    return requested if hard == resource.RLIM_INFINITY else min(requested, hard)


def limits_prologue(limits: Limits, cwd: Path | None = None) -> str:
    """The shell text that sets the limits, enters `cwd`, then runs the command given as `$1`.

    The command is an argument, never spliced into this text, so nothing it says runs before
    the limits are in place.
    """
    processes = _capped(limits.processes, resource.RLIMIT_NPROC)
    memory_kib = _capped(limits.memory_mb * MIB, resource.RLIMIT_DATA) // 1024
    file_kib = _capped(limits.file_size_mb * MIB, resource.RLIMIT_FSIZE) // 1024
    enter = f"cd -- {shlex.quote(str(cwd))} || exit 125; " if cwd else ""
    return (
        enter + f"ulimit -S -H -u {processes} -d {memory_kib} -f {file_kib} -c 0 || exit 125; "
        "echo 1000 2>/dev/null > /proc/self/oom_score_adj; "
        'mkdir -p "$HOME" 2>/dev/null; '
        'exec /bin/bash -c "$1"'
    )


def limit_hint(result: CommandResult, limits: Limits) -> str:
    """Which limit the command's failure points to, if any, in words the agent can act on."""
    if result.limit:
        return result.limit
    out = result.output
    if result.exit_code == _SIGXFSZ_EXIT or "File size limit exceeded" in out:
        return f"a file reached the sandbox's file size limit ({limits.file_size_mb} MiB)"
    if "Resource temporarily unavailable" in out or "fork: retry" in out:
        return f"the command hit the sandbox's process limit ({limits.processes}, threads count)"
    if "Cannot allocate memory" in out or "MemoryError" in out or "bad_alloc" in out:
        return f"a process hit the sandbox's memory limit ({limits.memory_mb} MiB per process)"
    if "No space left on device" in out:
        return f"/tmp in the sandbox holds at most {limits.tmp_mb} MiB; write to the worktree"
    return ""


def disk_usage(root: Path) -> int:
    """Bytes the tree under `root` takes on disk; symlinks are not followed."""
    total = 0
    pending = [str(root)]
    while pending:
        directory = pending.pop()
        try:
            entries = os.scandir(directory)
        except OSError:
            continue  # removed meanwhile, or unreadable: the command owns it, not us
        with entries:
            for entry in entries:
                try:
                    info = entry.stat(follow_symlinks=False)
                except OSError:
                    continue
                total += info.st_blocks * 512
                if stat.S_ISDIR(info.st_mode):
                    pending.append(entry.path)
    return total


class WorktreeGuard:
    """Measures the worktree while a command runs; `check()` says why to stop it, if it must.

    Each measurement walks the tree, so the next one waits twenty times as long as the last
    took (at least `min_interval_s`): a big tree costs at most 5% of a core.
    """

    def __init__(self, root: Path, limit_mb: int, min_interval_s: float = 1.0) -> None:
        self.root = root
        self.limit_bytes = limit_mb * MIB
        self.limit_mb = limit_mb
        self.interval_s = min_interval_s
        self._min_interval_s = min_interval_s
        self.last_bytes = 0

    async def measure(self) -> int:
        started = time.monotonic()
        self.last_bytes = await asyncio.to_thread(disk_usage, self.root)
        self.interval_s = max(self._min_interval_s, 20 * (time.monotonic() - started))
        return self.last_bytes

    async def check(self) -> str | None:
        used = await self.measure()
        if used <= self.limit_bytes:
            return None
        return (
            f"the worktree grew to {used // MIB} MiB, past the sandbox's limit of "
            f"{self.limit_mb} MiB: delete what the change does not need (build output, "
            "downloads) or write scratch files to /tmp"
        )
