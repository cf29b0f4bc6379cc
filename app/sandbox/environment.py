"""The scrubbed environment every sandboxed command starts from, and the secret-name check."""

from __future__ import annotations

import re
from collections.abc import Mapping

# Names that look like they carry a credential (Zuul's nullwrap refuses the same kind of thing).
_SECRET_NAME = re.compile(r"TOKEN|KEY|SECRET|PASSWORD|PASSWD|CREDENTIAL", re.IGNORECASE)

SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


class UnsafeEnvironmentError(ValueError):
    """Raised when an unisolated runner is asked to pass a secret-looking variable."""


def secret_looking_names(env: Mapping[str, str] | None) -> list[str]:
    """The names in `env` that look like they hold a token, key, secret or password."""
    return sorted(name for name in (env or {}) if _SECRET_NAME.search(name))


def scrubbed_env(*, home: str, path: str, extra: Mapping[str, str] | None) -> dict[str, str]:
    """Only what a build needs: nothing of the parent's environment leaks through."""
    env = {"PATH": path, "HOME": home, "LANG": "C.UTF-8", "TERM": "dumb"}
    env.update(extra or {})
    return env
