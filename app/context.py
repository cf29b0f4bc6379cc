"""One context per run: which delivery, which workflow and which `owner/repo#n` a line of work
belongs to — on every log line and, as `X-Swarm-Run`, on every request the swarm sends GitHub.

The workflow id is read live from DBOS (deliveries' workflows are named by their delivery id;
goals' and tasks' by `goal:owner/repo#n`, `task:owner/repo#n`), so nothing has to be passed
along; what DBOS cannot know (the delivery that started a goal) is bound with `bound()` and rides
into the workflows started from there, as context variables do within a process.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from contextvars import ContextVar

from dbos import DBOS

HEADER = "X-Swarm-Run"
_bound: ContextVar[dict[str, str]] = ContextVar("swarm_run", default={})  # noqa: B039 - never mutated
_TARGET = re.compile(r"^(?:goal|task):([\w.-]+/[\w.-]+#\d+)")


@contextlib.contextmanager
def bound(**fields: str) -> Iterator[None]:
    """Add fields (empty ones ignored) to the context of everything run inside."""
    token = _bound.set({**_bound.get(), **{k: v for k, v in fields.items() if v}})
    try:
        yield
    finally:
        _bound.reset(token)


def _workflow_id() -> str:
    try:
        return DBOS.workflow_id or ""
    except Exception:  # DBOS not launched (a command line tool, a unit test)
        return ""


def run_fields() -> dict[str, str]:
    """delivery, workflow and target (`owner/repo#n`), where known."""
    fields = dict(_bound.get())
    workflow = _workflow_id()
    if workflow:
        fields["workflow"] = workflow
        found = _TARGET.match(workflow)
        if found and "target" not in fields:
            fields["target"] = found.group(1)
    return fields


def header_value() -> str:
    """The context as one header value: `key=value` pairs, ASCII only."""
    text = ";".join(f"{k}={v}" for k, v in sorted(run_fields().items()))
    return text.encode("ascii", "replace").decode("ascii")[:512]
