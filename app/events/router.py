"""Route a delivery by (event, action) to its handler. Handlers decide; flows do.

Each feature module owns a `Router`; `app.events.handlers` composes them in one place, so a
reader finds every handler of an event by searching for its name — no dispatch built from
strings.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Delivery:
    """One webhook delivery as recorded by the ingress."""

    id: str  # X-GitHub-Delivery
    event: str  # X-GitHub-Event
    payload: dict[str, Any]

    @property
    def action(self) -> str | None:
        action = self.payload.get("action")
        return action if isinstance(action, str) else None

    @property
    def kind(self) -> str:
        return f"{self.event}.{self.action}" if self.action else self.event


Handler = Callable[[Delivery], Awaitable[str]]  # returns the outcome, e.g. "goal started"


@dataclass
class Router:
    _handlers: dict[tuple[str, str | None], list[Handler]] = field(default_factory=dict)

    def on(self, event: str, action: str | None = None) -> Callable[[Handler], Handler]:
        """Register for `event` (and only `action` of it, when given)."""

        def register(handler: Handler) -> Handler:
            self._handlers.setdefault((event, action), []).append(handler)
            return handler

        return register

    def include(self, other: Router) -> None:
        for key, handlers in other._handlers.items():
            self._handlers.setdefault(key, []).extend(handlers)

    def handlers_for(self, delivery: Delivery) -> list[Handler]:
        handlers = list(self._handlers.get((delivery.event, None), []))
        if delivery.action is not None:
            handlers += self._handlers.get((delivery.event, delivery.action), [])
        return handlers

    def events(self) -> set[str]:
        """Every event some handler listens to (compared with app.yml by a test)."""
        return {event for event, _ in self._handlers}
