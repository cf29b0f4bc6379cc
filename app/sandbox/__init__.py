"""Runners for everything an agent executes: bubblewrap, or (opted into) a plain subprocess."""

from app.sandbox.base import CommandResult, Limits, Sandbox
from app.sandbox.bubblewrap import BubblewrapSandbox, check_bubblewrap, default_readonly_paths
from app.sandbox.environment import UnsafeEnvironmentError
from app.sandbox.factory import SandboxUnavailable, make_sandbox, require_sandbox
from app.sandbox.plain import SubprocessSandbox
from app.sandbox.settings import SandboxSettings

__all__ = [
    "BubblewrapSandbox",
    "CommandResult",
    "Limits",
    "Sandbox",
    "SandboxSettings",
    "SandboxUnavailable",
    "SubprocessSandbox",
    "UnsafeEnvironmentError",
    "check_bubblewrap",
    "default_readonly_paths",
    "make_sandbox",
    "require_sandbox",
]
