"""Importing this registers every workflow with DBOS; `app.runtime.start` does it before launch."""

from app.flows import commands, delivery, goal, task  # noqa: F401
