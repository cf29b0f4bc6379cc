"""ASGI middleware in front of every GitHub route: injected faults, the request log and
GitHub's response headers (`x-ratelimit-*`). The control API under `/_sim/` is left alone."""

from __future__ import annotations

import json
import uuid
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.simulator.github.auth import resolve_actor
from app.simulator.github.core import Simulator
from app.simulator.github.errors import GitHubError
from app.simulator.github.faults import DEFAULT_MESSAGES, Fault
from app.simulator.github.routes.deps import REQUEST_CONTEXT
from app.simulator.github.util import utcnow

CONTROL_PREFIX = "/_sim"


def _run(scope: Scope) -> str:
    """The swarm's X-Swarm-Run header, as sent (the simulator's own log of who did what)."""
    return dict(scope.get("headers", [])).get(b"x-swarm-run", b"").decode("ascii", "replace")


def _is_git(path: str) -> bool:
    return ".git/" in path


class GitHubFrontMiddleware:
    def __init__(self, app: ASGIApp, sim: Simulator) -> None:
        self.app = app
        self.sim = sim

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(CONTROL_PREFIX):
            await self.app(scope, receive, send)
            return
        sim = self.sim
        method, path = scope["method"], scope["path"]
        query = scope.get("query_string", b"").decode()
        self._learn_base_url(scope)
        context: dict[str, Any] = {"actor": None}
        scope[REQUEST_CONTEXT] = context
        fault = sim.faults.take(method, path)
        if fault is not None:
            actor = self._actor_quietly(scope)
            await self._send_fault(fault, send, actor)
            sim.requests.add(method, path, query, actor, fault.status, True, _run(scope))
            return
        status: dict[str, int] = {"code": 0}

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
                if not _is_git(path):
                    headers = list(message.get("headers", []))
                    headers += self._github_headers(context.get("actor"))
                    message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)
        actor = context.get("actor")
        sim.requests.add(method, path, query, actor, status["code"], False, _run(scope))

    def _learn_base_url(self, scope: Scope) -> None:
        headers = dict(scope.get("headers", []))
        host = headers.get(b"host", b"").decode()
        if host:
            self.sim.set_base_url(f"{scope.get('scheme', 'http')}://{host}", only_if_unknown=True)

    def _actor_quietly(self, scope: Scope) -> str | None:
        headers = dict(scope.get("headers", []))
        header = headers.get(b"authorization", b"").decode() or None
        try:
            actor = resolve_actor(self.sim.state, header, self.sim.config.app_public_key_pem)
        except GitHubError:
            return None
        return actor.login

    def _github_headers(self, actor: str | None) -> list[tuple[bytes, bytes]]:
        figures = self.sim.rate.hit(actor or "anonymous", int(utcnow().timestamp()))
        values = {
            "x-ratelimit-limit": figures["limit"],
            "x-ratelimit-remaining": figures["remaining"],
            "x-ratelimit-used": figures["used"],
            "x-ratelimit-reset": figures["reset"],
            "x-ratelimit-resource": "core",
            "x-github-api-version-selected": "2022-11-28",
            "x-github-media-type": "github.v3; format=json",
            "x-github-request-id": uuid.uuid4().hex[:20].upper(),
            "cache-control": "private, no-cache",
        }
        return [(k.encode(), str(v).encode()) for k, v in values.items()]

    async def _send_fault(self, fault: Fault, send: Send, actor: str | None) -> None:
        message = fault.message or DEFAULT_MESSAGES.get(fault.status, "Injected failure")
        body = json.dumps(
            {
                "message": message,
                "documentation_url": "https://docs.github.com/rest",
                "status": str(fault.status),
            }
        ).encode()
        headers = [
            (b"content-type", b"application/json; charset=utf-8"),
            (b"content-length", str(len(body)).encode()),
        ]
        if fault.retry_after is not None:
            headers.append((b"retry-after", str(fault.retry_after).encode()))
        headers += self._github_headers(actor)
        await send({"type": "http.response.start", "status": fault.status, "headers": headers})
        await send({"type": "http.response.body", "body": body})
