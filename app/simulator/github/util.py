"""Small helpers shared by the simulator: time, ids and tokens."""

from __future__ import annotations

import base64
import secrets
from datetime import UTC, datetime


def utcnow() -> datetime:
    """The current time, truncated to seconds as GitHub's timestamps are."""
    return datetime.now(UTC).replace(microsecond=0)


def iso(moment: datetime | None) -> str | None:
    """GitHub's timestamp format: `2024-05-01T12:00:00Z`."""
    if moment is None:
        return None
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def node_id(prefix: str, ident: int) -> str:
    """An opaque global node id in the style of GitHub's (`I_kwDO…`), stable for an object."""
    raw = f"0:{ident}".encode()
    return f"{prefix}_kwDO{base64.urlsafe_b64encode(raw).decode().rstrip('=')}"


def new_token(prefix: str) -> str:
    """A fresh credential with GitHub's prefix (`ghs_` installation, `ghp_` user)."""
    return f"{prefix}_{secrets.token_urlsafe(27)[:36]}"
