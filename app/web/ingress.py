"""POST /api/github/webhooks: verify, record, answer — then work.

The signature is checked over the raw bytes before anything is parsed; the delivery is then
recorded as a DBOS workflow whose id is `X-GitHub-Delivery` (so a redelivery is a no-op), and
the answer goes out before any handler runs.
"""

from __future__ import annotations

import json
import logging

from dbos import SetWorkflowID
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from app import metrics
from app.events.dispatch import handle_delivery
from app.events.handlers import ROUTER
from app.events.router import Delivery
from app.runtime import current
from app.web.signature import is_valid_signature

log = logging.getLogger(__name__)
router = APIRouter()

MAX_BODY_BYTES = 25 * 1024 * 1024  # GitHub caps payloads at 25 MB


def _answer(status: int, message: str, event: str = "unknown", outcome: str = "") -> JSONResponse:
    metrics.DELIVERIES.labels(event=event, outcome=outcome or str(status)).inc()
    return JSONResponse({"message": message}, status_code=status)


@router.post("/api/github/webhooks")
async def receive_webhook(request: Request) -> JSONResponse:
    length = request.headers.get("content-length")
    if length and length.isdigit() and int(length) > MAX_BODY_BYTES:
        return _answer(413, "payload larger than 25 MB", outcome="too_large")
    body = await request.body()
    if len(body) > MAX_BODY_BYTES:
        return _answer(413, "payload larger than 25 MB", outcome="too_large")

    secret = current().settings.webhook_secret
    if not is_valid_signature(secret, body, request.headers.get("x-hub-signature-256")):
        log.warning("webhook rejected: missing or wrong X-Hub-Signature-256")
        return _answer(401, "missing or invalid X-Hub-Signature-256", outcome="bad_signature")

    event = request.headers.get("x-github-event")
    delivery_id = request.headers.get("x-github-delivery")
    if not event or not delivery_id:
        return _answer(400, "missing X-GitHub-Event or X-GitHub-Delivery", outcome="bad_request")
    try:
        payload = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError):
        return _answer(400, "body is not JSON", event=event, outcome="bad_request")
    if not isinstance(payload, dict):
        return _answer(400, "body is not a JSON object", event=event, outcome="bad_request")

    if not ROUTER.handlers_for(Delivery(delivery_id, event, payload)):
        # Nobody handles it: acknowledged, and nothing written (most of a busy repository's
        # traffic — pushes, statuses — ends here).
        return _answer(202, "ignored: no handler", event=event, outcome="ignored")
    queue = current().events
    assert queue is not None
    with SetWorkflowID(delivery_id):
        await queue.enqueue_async(handle_delivery, event, payload)
    return _answer(202, "recorded", event=event, outcome="recorded")
