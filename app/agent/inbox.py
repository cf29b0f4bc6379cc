"""The agent's inbox: what the orchestrator sends a running agent between two turns.

Maintainers' `/swarm …` redirects, review comments, landing notices and stop requests all take
this one path. The loop only needs `drain()`; `MemoryInbox` serves tests and the CLI, and the
orchestrator can plug in a durable one (DBOS messages) behind the same protocol.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Literal, Protocol

from app.agent.untrusted import quoted

# Every delivered message starts with this, so compaction can recognise (and keep) redirects.
INBOX_PREFIX = "Message from "

InboxKind = Literal["message", "stop"]


@dataclass(frozen=True)
class InboxMessage:
    text: str
    sender: str
    kind: InboxKind = "message"

    def render(self) -> str:
        """The user message the model sees: the text cleaned and framed as GitHub text."""
        framed, _ = quoted("comment", self.text)
        return f"{INBOX_PREFIX}{self.sender}:\n{framed}"


def is_inbox_message(role: str, content: str) -> bool:
    return role == "user" and content.startswith(INBOX_PREFIX)


class Inbox(Protocol):
    async def drain(self) -> list[InboxMessage]:
        """Every message waiting, oldest first; an empty list when there is none."""
        ...


class MemoryInbox:
    """An in-process inbox; messages pushed before `drain` are delivered in order."""

    def __init__(self) -> None:
        self._waiting: deque[InboxMessage] = deque()

    def push(self, text: str, sender: str = "a maintainer") -> None:
        self._waiting.append(InboxMessage(text=text, sender=sender))

    def stop(self, sender: str = "the orchestrator", reason: str = "stop requested") -> None:
        self._waiting.append(InboxMessage(text=reason, sender=sender, kind="stop"))

    async def drain(self) -> list[InboxMessage]:
        messages = list(self._waiting)
        self._waiting.clear()
        return messages
