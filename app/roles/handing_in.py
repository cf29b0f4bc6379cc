"""What the roles that hand in a product through a tool (the planner's plan, the judge's verdict,
the goal checker's check) share: a finish refused until the product is handed in, and the
fallback of a product written as JSON in the finish summary."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from app.agent.loop import Agent, Supervisor


def json_object_in(text: str) -> Any | None:
    """The JSON object written in `text` (from its first `{` to its last `}`), or None."""
    match = re.search(r"\{.*\}", text, re.DOTALL)
    if not match:
        return None
    try:
        return json.loads(match.group(0))
    except json.JSONDecodeError:
        return None


class HandInFirst:
    """Refuses the agent's finish until `handed_in()` (the loop allows only a couple of
    refusals, then lets it finish anyway); everything else goes to the session's own
    supervisor, if it has one."""

    def __init__(
        self, inner: Supervisor | None, handed_in: Callable[[], bool], refusal: str
    ) -> None:
        self.inner = inner
        self.handed_in = handed_in
        self.refusal = refusal

    async def after_step(self, agent: Agent) -> str | None:
        return await self.inner.after_step(agent) if self.inner else None

    async def review_finish(self, agent: Agent) -> str | None:
        if not self.handed_in():
            return self.refusal
        return await self.inner.review_finish(agent) if self.inner else None
