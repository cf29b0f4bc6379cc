"""Logging set-up for the swarm's processes: one line per record, the run's context on each
(delivery, workflow, `owner/repo#n`: see `app.context`), as text or as JSON (`SWARM_LOG_FORMAT`)."""

from __future__ import annotations

import json
import logging
from typing import Literal

from app.context import run_fields
from app.credentials import redact

FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s%(run)s"
LogFormat = Literal["text", "json"]


def with_context(record: logging.LogRecord) -> logging.LogRecord:
    """The run's context on the record, read where the line is logged: `record.fields`, and
    `record.run` as text. A record that has it already keeps it."""
    if not hasattr(record, "fields"):
        fields = run_fields()
        record.fields = fields
        record.run = "".join(f" [{k}={v}]" for k, v in sorted(fields.items()))
    return record


class Redacting(logging.Formatter):
    """No log line carries a credential: the process's own secrets and anything that looks
    like one are replaced in the whole line, tracebacks included, before it is written."""

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(with_context(record)))


class JsonLines(logging.Formatter):
    """One JSON object per line, for a log pipeline; redacted like the text lines."""

    def format(self, record: logging.LogRecord) -> str:
        with_context(record)
        line = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            **getattr(record, "fields", {}),
        }
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        # Each value before it is escaped: a secret with a quote in it would not match after.
        return json.dumps({k: redact(v) for k, v in line.items()}, ensure_ascii=False)


def configure(level: str = "INFO", form: LogFormat = "text") -> None:
    logging.basicConfig(level=level)
    formatter = JsonLines() if form == "json" else Redacting(FORMAT, datefmt="%H:%M:%S")
    for handler in logging.getLogger().handlers:
        handler.setFormatter(formatter)
    # Request-level chatter from the HTTP clients would drown the swarm's own story.
    for noisy in ("httpx", "httpcore", "hishel", "githubkit"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
