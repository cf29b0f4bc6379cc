"""The swarm's own durable records, beside DBOS's tables in the same database."""

from app.domain.records import Goal, Task
from app.store.store import Store

__all__ = ["Goal", "Store", "Task"]
