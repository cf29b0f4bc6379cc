"""DBOS workflows. Importing this package registers them (done by app.runtime.start)."""

from app.flows import delivery, goal  # noqa: F401
