"""Runners for everything an agent executes: bubblewrap, or a plain subprocess as a fallback."""

from app.sandbox.base import CommandResult, Sandbox
from app.sandbox.bubblewrap import BubblewrapSandbox, check_bubblewrap, default_readonly_paths
from app.sandbox.environment import UnsafeEnvironmentError
from app.sandbox.factory import make_sandbox
from app.sandbox.plain import SubprocessSandbox

__all__ = [
    "BubblewrapSandbox",
    "CommandResult",
    "Sandbox",
    "SubprocessSandbox",
    "UnsafeEnvironmentError",
    "check_bubblewrap",
    "default_readonly_paths",
    "make_sandbox",
]
