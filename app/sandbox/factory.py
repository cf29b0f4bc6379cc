"""Choose the runner: bubblewrap where it works, else the plain subprocess with its warning."""

from __future__ import annotations

from pathlib import Path

from app.sandbox.base import Sandbox
from app.sandbox.bubblewrap import BubblewrapSandbox, check_bubblewrap
from app.sandbox.plain import SubprocessSandbox

_PREFERENCES = ("auto", "bubblewrap", "subprocess")


def make_sandbox(
    worktree: Path,
    *,
    prefer: str = "auto",
    readonly_paths: list[Path] | None = None,
    default_timeout_s: float = 600,
    output_cap: int = 65536,
) -> Sandbox:
    """A runner for `worktree`.

    prefer="auto": bubblewrap when it is installed and works here (probed once per process),
    else the plain subprocess. "bubblewrap" raises when it cannot run; "subprocess" never isolates.
    """
    if prefer not in _PREFERENCES:
        raise ValueError(f"prefer must be one of {', '.join(_PREFERENCES)}, not {prefer!r}")
    if prefer != "subprocess":
        problem = check_bubblewrap()
        if problem is None:
            return BubblewrapSandbox(
                worktree,
                readonly_paths=readonly_paths,
                default_timeout_s=default_timeout_s,
                output_cap=output_cap,
            )
        if prefer == "bubblewrap":
            raise RuntimeError(problem)
    return SubprocessSandbox(worktree, default_timeout_s=default_timeout_s, output_cap=output_cap)
