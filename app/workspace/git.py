"""The one way the orchestrator runs git: a timeout on every call, hooks and user config off,
credentials only in the child's environment and never in a URL, a log line or a file.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import os
import re
import signal
from collections.abc import Mapping
from pathlib import Path

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT_S = 300.0

# Repository content must never make our git run code: no hooks, no fsmonitor, no user config.
SAFE_CONFIG = (
    "-c", "core.hooksPath=/dev/null",
    "-c", "core.fsmonitor=false",
    "-c", "protocol.ext.allow=never",
    "-c", "submodule.recurse=false",
    "-c", "fetch.recurseSubmodules=false",
    "-c", "advice.detachedHead=false",
    "-c", "init.defaultBranch=main",
)  # fmt: skip


class GitError(Exception):
    """A git command failed; the message names it (credentials redacted) with its output."""

    def __init__(self, message: str, code: int | None = None) -> None:
        super().__init__(message)  # one argument, so DBOS can store and re-raise it (pickle)
        self.code = code

    @classmethod
    def of(cls, args: list[str], code: int | None, output: str) -> GitError:
        command = " ".join(redact(a) for a in args)
        return cls(f"git {command} failed ({code}): {redact(output[-2000:])}", code)


def redact(text: str) -> str:
    """Hide credentials a URL or header might carry."""
    text = re.sub(r"(https?://)[^@/\s]+@", r"\1***@", text)
    return re.sub(r"(Authorization: \w+ )\S+", r"\1***", text)


def auth_env(token: str | None) -> dict[str, str]:
    """Environment that makes git send the token to the server, without writing it anywhere."""
    if not token:
        return {}
    basic = base64.b64encode(f"x-access-token:{token}".encode()).decode()
    return {
        "GIT_CONFIG_COUNT": "1",
        "GIT_CONFIG_KEY_0": "http.extraHeader",
        "GIT_CONFIG_VALUE_0": f"Authorization: Basic {basic}",
    }


def _base_env() -> dict[str, str]:
    keep = ("PATH", "LANG", "LC_ALL", "TMPDIR", "SSL_CERT_FILE", "SSL_CERT_DIR")
    env = {k: v for k, v in os.environ.items() if k in keep}
    env.update(
        GIT_TERMINAL_PROMPT="0",
        GIT_CONFIG_NOSYSTEM="1",
        GIT_CONFIG_GLOBAL=os.devnull,
        HOME=os.devnull,
    )
    return env


async def git(
    *args: str,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    check: bool = True,
    strip: bool = True,
    stdin: str | None = None,
) -> str:
    """Run git and return its stdout (stripped unless told not to, as porcelain output must
    not be); raise GitError on failure or timeout."""
    argv = ["git", *SAFE_CONFIG, *args]
    proc = await asyncio.create_subprocess_exec(
        *argv,
        cwd=cwd,
        env={**_base_env(), **(env or {})},
        stdin=asyncio.subprocess.DEVNULL if stdin is None else asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        start_new_session=True,
    )
    try:
        sent = None if stdin is None else stdin.encode("utf-8", "surrogateescape")
        out, err = await asyncio.wait_for(proc.communicate(sent), timeout_s)
    except (TimeoutError, asyncio.CancelledError) as exc:
        os.killpg(proc.pid, signal.SIGKILL)
        await proc.wait()
        if isinstance(exc, TimeoutError):
            raise GitError.of(list(args), None, f"timed out after {timeout_s:.0f} s") from None
        raise
    text = out.decode(errors="replace")
    text = text.strip() if strip else text
    if check and proc.returncode != 0:
        raise GitError.of(list(args), proc.returncode, err.decode(errors="replace") + text)
    return text
