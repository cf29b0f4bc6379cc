"""Signed webhook deliveries, sent in order by one background worker, each attempt logged.

Like GitHub, a failed delivery is not retried; the log keeps it so that a test (or a person) can
press "Redeliver", which re-sends the same body under the same `X-GitHub-Delivery`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import uuid
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import httpx

from app.simulator.github.util import iso, utcnow

HOOK_ID = 100_000_001
DELIVERY_TIMEOUT = 10.0  # seconds; GitHub gives a receiver ten seconds to answer


def signature(secret: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


@dataclass
class Delivery:
    id: int
    guid: str
    event: str
    action: str | None
    url: str
    headers: dict[str, str]
    body: bytes
    queued_at: str
    redelivery: bool = False
    status_code: int | None = None
    error: str | None = None
    delivered_at: str | None = None
    attempts: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "guid": self.guid,
            "event": self.event,
            "action": self.action,
            "url": self.url,
            "headers": dict(self.headers),
            "payload": json.loads(self.body),
            "body": self.body.decode(),
            "queued_at": self.queued_at,
            "delivered_at": self.delivered_at,
            "redelivery": self.redelivery,
            "status_code": self.status_code,
            "error": self.error,
            "attempts": list(self.attempts),
        }


class WebhookDispatcher:
    """The queue of deliveries and the worker that sends them.

    `activity` is the simulator's condition variable: it is notified whenever the number of
    pending deliveries changes, which is what `settle()` waits on.
    """

    def __init__(self, activity: threading.Condition, app_id: int) -> None:
        self._activity = activity
        self._app_id = app_id
        self._queue: deque[Delivery] = deque()
        self._in_flight = 0
        self._log: list[Delivery] = []
        self._url: str | None = None
        self._secret = ""
        self._stopping = False
        self._thread: threading.Thread | None = None
        self._lost: set[str] = set()  # events whose deliveries GitHub fails to make

    def lose(self, events: list[str]) -> None:
        """Deliveries of these events fail from now on (logged, never sent), as when GitHub
        cannot reach the app: it does not redeliver by itself."""
        with self._activity:
            self._lost = set(events)

    def configure(self, url: str | None, secret: str) -> None:
        with self._activity:
            self._url = url
            self._secret = secret

    @property
    def url(self) -> str | None:
        return self._url

    def start(self) -> None:
        with self._activity:
            if self._thread is not None:
                return
            self._stopping = False
            self._thread = threading.Thread(target=self._run, name="sim-webhooks", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        with self._activity:
            self._stopping = True
            thread, self._thread = self._thread, None
            self._activity.notify_all()
        if thread is not None:
            thread.join(timeout=DELIVERY_TIMEOUT + 5)

    def pending(self) -> int:
        with self._activity:
            return len(self._queue) + self._in_flight

    def enqueue(self, event: str, payload: dict[str, Any]) -> Delivery | None:
        """Queue one delivery; nothing is queued while no webhook URL is configured."""
        body = json.dumps(payload, separators=(",", ":")).encode()
        with self._activity:
            if not self._url:
                return None
            guid = str(uuid.uuid4())
            delivery = Delivery(
                id=len(self._log) + 1,
                guid=guid,
                event=event,
                action=payload.get("action"),
                url=self._url,
                headers=self._headers(event, guid, body),
                body=body,
                queued_at=iso(utcnow()) or "",
            )
            self._log.append(delivery)
            self._queue.append(delivery)
            self._activity.notify_all()
            return delivery

    def redeliver(self, delivery_id: int) -> Delivery | None:
        """Send a logged delivery again: same body, same `X-GitHub-Delivery`, a fresh signature."""
        with self._activity:
            original = next((d for d in self._log if d.id == delivery_id), None)
            if original is None or not self._url:
                return None
            headers = self._headers(original.event, original.guid, original.body)
            delivery = Delivery(
                id=len(self._log) + 1,
                guid=original.guid,
                event=original.event,
                action=original.action,
                url=self._url,
                headers=headers,
                body=original.body,
                queued_at=iso(utcnow()) or "",
                redelivery=True,
            )
            self._log.append(delivery)
            self._queue.append(delivery)
            self._activity.notify_all()
            return delivery

    def log(self) -> list[dict[str, Any]]:
        with self._activity:
            return [d.to_json() for d in self._log]

    def _headers(self, event: str, guid: str, body: bytes) -> dict[str, str]:
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "GitHub-Hookshot/simulator",
            "X-GitHub-Event": event,
            "X-GitHub-Delivery": guid,
            "X-GitHub-Hook-ID": str(HOOK_ID),
            "X-GitHub-Hook-Installation-Target-Type": "integration",
            "X-GitHub-Hook-Installation-Target-ID": str(self._app_id),
        }
        if self._secret:
            headers["X-Hub-Signature-256"] = signature(self._secret, body)
            sha1 = hmac.new(self._secret.encode(), body, hashlib.sha1).hexdigest()
            headers["X-Hub-Signature"] = f"sha1={sha1}"
        return headers

    def _run(self) -> None:
        with httpx.Client(timeout=DELIVERY_TIMEOUT, trust_env=False) as client:
            while True:
                with self._activity:
                    self._activity.wait_for(lambda: self._stopping or bool(self._queue))
                    if self._stopping:
                        return
                    delivery = self._queue.popleft()
                    self._in_flight += 1
                    lost = delivery.event in self._lost and not delivery.redelivery
                if lost:
                    attempt: dict[str, Any] = {
                        "at": iso(utcnow()),
                        "error": "lost (simulated): never delivered",
                    }
                else:
                    attempt = self._send(client, delivery)
                with self._activity:
                    delivery.status_code = attempt.get("status_code")
                    delivery.error = attempt.get("error")
                    delivery.delivered_at = attempt["at"]
                    delivery.attempts.append(attempt)
                    self._in_flight -= 1
                    self._activity.notify_all()

    @staticmethod
    def _send(client: httpx.Client, delivery: Delivery) -> dict[str, Any]:
        attempt: dict[str, Any] = {"at": iso(utcnow())}
        try:
            response = client.post(delivery.url, content=delivery.body, headers=delivery.headers)
            attempt["status_code"] = response.status_code
        except httpx.HTTPError as exc:
            attempt["error"] = f"{type(exc).__name__}: {exc}"
        return attempt
