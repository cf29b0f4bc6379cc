"""Logging set-up for the swarm's processes: one line per record, the delivery id inside."""

from __future__ import annotations

import logging


def configure(level: str = "INFO") -> None:
    logging.basicConfig(
        level=level,
        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s",
        datefmt="%H:%M:%S",
    )
    # Request-level chatter from the HTTP clients would drown the swarm's own story.
    for noisy in ("httpx", "httpcore", "hishel", "githubkit"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
