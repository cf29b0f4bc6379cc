"""A running agent's durable inbox: the messages a maintainer's `/swarm …` left in the store."""

from __future__ import annotations

from app.agent.inbox import InboxMessage
from app.store import Store


class StoreInbox:
    """The messages waiting in the store for one address (`app.domain.addresses`)."""

    def __init__(self, store: Store, target: str) -> None:
        self.store = store
        self.target = target

    async def drain(self) -> list[InboxMessage]:
        taken = await self.store.take_messages(self.target)
        return [
            InboxMessage(text=text, sender=sender, kind="stop" if kind == "stop" else "message")
            for sender, kind, text in taken
        ]
