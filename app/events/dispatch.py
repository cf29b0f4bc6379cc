"""The workflow behind every webhook delivery (its id is the delivery id), beside the handlers
it dispatches to. Importing it registers every workflow of the swarm with DBOS (the handlers
import the flows they start): a process's entry does so before `app.runtime.start`.

The ingress only records it (enqueues this workflow under `X-GitHub-Delivery`), so a
redelivery of the same id joins the recorded one and runs nothing twice, and a process killed
after recording resumes it on restart.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from dbos import DBOS
from githubkit.webhooks import parse_obj
from pydantic import ValidationError

from app import metrics
from app.context import bound
from app.events.handlers import ROUTER
from app.events.router import Delivery

log = logging.getLogger(__name__)


def check_schema(event: str, payload: dict[str, Any]) -> str | None:
    """githubkit's strict model verdict: None when it accepts the payload, else why not."""
    try:
        parse_obj(event, payload)  # type: ignore[call-overload]
    except ValidationError as exc:
        return f"{exc.error_count()} field(s), first: {exc.errors()[0]['loc']}"
    except Exception as exc:  # an event githubkit does not know at all
        return f"{type(exc).__name__}: {exc}"
    return None


def _target(payload: dict[str, Any]) -> str:
    """`owner/repo#n` for a delivery about an issue or a pull request, else ""."""
    repo = (payload.get("repository") or {}).get("full_name")
    item = payload.get("issue") or payload.get("pull_request") or {}
    number = item.get("number") if isinstance(item, dict) else None
    return f"{repo}#{number}" if repo and number else ""


@DBOS.workflow(name="delivery")
async def handle_delivery(event: str, payload: dict[str, Any]) -> list[str]:
    delivery = Delivery(id=DBOS.workflow_id or "", event=event, payload=payload)
    handlers = ROUTER.handlers_for(delivery)
    if not handlers:
        metrics.HANDLED.labels(event=event, outcome="ignored").inc()
        return []
    mismatch = check_schema(event, payload)
    if mismatch:
        # GitHub Enterprise Server and older payloads miss fields githubkit requires; our
        # handlers read tolerant views, so this is worth a log line, not a failure.
        log.info(
            "delivery %s (%s) does not match githubkit's schema: %s",
            delivery.id,
            delivery.kind,
            mismatch,
        )
    outcomes = []
    started = time.perf_counter()
    try:
        # The delivery rides on every log line and GitHub write of what it starts here.
        with bound(delivery=delivery.id, target=_target(payload)):
            for handler in handlers:
                outcomes.append(await handler(delivery))
    except Exception:
        metrics.HANDLED.labels(event=event, outcome="error").inc()
        raise
    metrics.HANDLER_SECONDS.labels(event=event).observe(time.perf_counter() - started)
    metrics.HANDLED.labels(event=event, outcome="handled").inc()
    log.info("delivery %s (%s): %s", delivery.id, delivery.kind, "; ".join(outcomes))
    return outcomes
