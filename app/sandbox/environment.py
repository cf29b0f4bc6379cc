"""The scrubbed environment every sandboxed command starts from, and the secret-name checks."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from app.credentials import secret_looking_names

SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


class UnsafeEnvironmentError(ValueError):
    """Raised when an unisolated runner would run beside (or be handed) a secret."""


def scrubbed_env(*, home: str, path: str, extra: Mapping[str, str] | None) -> dict[str, str]:
    """Only what a build needs: nothing of the parent's environment leaks through."""
    env = {"PATH": path, "HOME": home, "LANG": "C.UTF-8", "TERM": "dumb", "USER": "swarm"}
    env.update(extra or {})
    return env


def _initial_environment() -> dict[str, str]:
    """The environment this process was started with, as any process of its user can read it
    in /proc/<pid>/environ (changing os.environ does not change that)."""
    try:
        raw = Path("/proc/self/environ").read_bytes()
    except OSError:
        return {}
    pairs = (item.decode(errors="replace").partition("=") for item in raw.split(b"\0") if item)
    return {name: value for name, _, value in pairs}


def secrets_in_process_environment() -> list[str]:
    """Secret-looking variables this process holds, now or since it started."""
    return secret_looking_names({**_initial_environment(), **os.environ})


__all__ = [
    "SYSTEM_PATH",
    "UnsafeEnvironmentError",
    "scrubbed_env",
    "secret_looking_names",
    "secrets_in_process_environment",
]
