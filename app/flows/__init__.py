"""DBOS workflows. Importing this package registers them (done by app.runtime.start)."""

from app.flows import commands, delivery, goal, task  # noqa: F401
