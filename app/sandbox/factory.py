"""Choose the runner: bubblewrap, or — only with the operator's opt-in — the plain subprocess.

Processes that run agents check this once at start (`require_sandbox`), so a machine where
bubblewrap cannot run refuses with one line that says how to fix it, before any agent runs.
"""

from __future__ import annotations

from pathlib import Path

from app.sandbox.base import Sandbox
from app.sandbox.bubblewrap import BubblewrapSandbox, check_bubblewrap
from app.sandbox.plain import SubprocessSandbox, refuse_beside_secrets
from app.sandbox.settings import SandboxSettings

HOW_TO_FIX = (
    "allow unprivileged user namespaces (Docker: run with security_opt seccomp=unconfined and "
    "apparmor=unconfined, as deploy/compose.yaml does; Ubuntu 24.04: "
    "sysctl kernel.apparmor_restrict_unprivileged_userns=0), or install bwrap setuid root; "
    "`swarm doctor` shows the cause. For trusted local use only, SWARM_ALLOW_UNSANDBOXED=true"
)


class SandboxUnavailable(RuntimeError):
    """Agents' commands cannot be isolated here and the operator has not opted out."""


def require_sandbox(settings: SandboxSettings) -> str:
    """What will isolate agents' commands here, or raise SandboxUnavailable /
    UnsafeEnvironmentError with one line that says what to do."""
    problem = check_bubblewrap()
    if problem is None:
        return "bubblewrap"
    if not settings.allow_unsandboxed:
        raise SandboxUnavailable(f"agents' commands need bubblewrap: {problem}. Fix: {HOW_TO_FIX}")
    refuse_beside_secrets()
    return "plain subprocesses (SWARM_ALLOW_UNSANDBOXED): NOT isolated"


def make_sandbox(
    worktree: Path,
    settings: SandboxSettings | None = None,
    *,
    default_timeout_s: float = 600,
    output_cap: int = 65536,
) -> Sandbox:
    """The runner for `worktree`: bubblewrap where it works (probed once per process), else the
    plain subprocess if the operator allowed it, else SandboxUnavailable."""
    settings = settings or SandboxSettings()
    kind = require_sandbox(settings)
    limits = settings.sandbox_limits()
    if kind == "bubblewrap":
        return BubblewrapSandbox(
            worktree,
            limits=limits,
            etc_extra=settings.etc_extra(),
            default_timeout_s=default_timeout_s,
            output_cap=output_cap,
        )
    return SubprocessSandbox(
        worktree, limits=limits, default_timeout_s=default_timeout_s, output_cap=output_cap
    )
