"""Logging set-up for the swarm's processes: one line per record, the delivery id inside."""

from __future__ import annotations

import logging

from app.credentials import redact

FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"


class Redacting(logging.Formatter):
    """No log line carries a credential: the process's own secrets and anything that looks
    like one are replaced in the whole line, tracebacks included, before it is written."""

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


def configure(level: str = "INFO") -> None:
    logging.basicConfig(level=level, format=FORMAT, datefmt="%H:%M:%S")
    for handler in logging.getLogger().handlers:
        handler.setFormatter(Redacting(FORMAT, datefmt="%H:%M:%S"))
    # Request-level chatter from the HTTP clients would drown the swarm's own story.
    for noisy in ("httpx", "httpcore", "hishel", "githubkit"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
