"""Who may steer the swarm: a human with write, maintain or admin on the repository.

Decided before anything costs money: a bot, or a user without write access, is ignored with a
log line and no API write.
"""

from __future__ import annotations

import logging

from app.events.payloads import Event
from app.flows import steps
from app.github.ops import WRITE_PERMISSIONS

log = logging.getLogger(__name__)


async def permitted_sender(event: Event) -> str | None:
    """Why the sender may not trigger the swarm, or None when they may."""
    if event.installation is None or event.repository is None:
        return "no installation or repository in the payload"
    if event.sender is None:
        return "no sender in the payload"
    if event.sender.is_bot:
        return f"sender {event.sender.login} is a bot"
    permission = await steps.permission_of(
        event.installation.id, event.repository.full_name, event.sender.login
    )
    if permission not in WRITE_PERMISSIONS:
        return f"sender {event.sender.login} has {permission!r} permission, not write"
    return None
