"""Injected failures and the request log: what tests use to make GitHub misbehave and to see
what the app asked of it."""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from typing import Any

SECONDARY_RATE_LIMIT = (
    "You have exceeded a secondary rate limit. Please wait a few minutes before you try again. "
    "If you reach out to GitHub Support for help, please include the request ID."
)
DEFAULT_MESSAGES = {
    403: SECONDARY_RATE_LIMIT,
    409: "Head branch was modified. Review and try the merge again.",
    429: SECONDARY_RATE_LIMIT,
    500: "Server Error",
    502: "Server Error",
    503: "Service Unavailable",
}


@dataclass
class Fault:
    id: int
    path_regex: str
    status: int
    count: int = 1
    method: str | None = None
    retry_after: int | None = None
    message: str | None = None
    hits: int = 0

    def matches(self, method: str, path: str) -> bool:
        if self.method and self.method.upper() != method.upper():
            return False
        return re.search(self.path_regex, path) is not None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "method": self.method,
            "path_regex": self.path_regex,
            "status": self.status,
            "remaining": self.count,
            "hits": self.hits,
            "retry_after": self.retry_after,
            "message": self.message,
        }


@dataclass
class FaultInjector:
    _faults: list[Fault] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _next_id: int = 1

    def add(
        self,
        path_regex: str,
        status: int,
        count: int = 1,
        method: str | None = None,
        retry_after: int | None = None,
        message: str | None = None,
    ) -> Fault:
        re.compile(path_regex)  # reject a bad pattern when it is set, not on the next request
        with self._lock:
            fault = Fault(self._next_id, path_regex, status, count, method, retry_after, message)
            self._next_id += 1
            self._faults.append(fault)
            return fault

    def take(self, method: str, path: str) -> Fault | None:
        """The first armed fault matching this request, consuming one of its `count`."""
        with self._lock:
            for fault in self._faults:
                if fault.count > 0 and fault.matches(method, path):
                    fault.count -= 1
                    fault.hits += 1
                    return fault
        return None

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def list(self) -> list[dict[str, Any]]:
        with self._lock:
            return [f.to_json() for f in self._faults]


@dataclass
class LoggedRequest:
    seq: int
    method: str
    path: str
    query: str
    actor: str | None
    status: int
    fault: bool
    run: str = ""  # the client's X-Swarm-Run header: which run of the swarm sent it

    def to_json(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "method": self.method,
            "path": self.path,
            "query": self.query,
            "actor": self.actor,
            "status": self.status,
            "fault": self.fault,
            "run": self.run,
        }


@dataclass
class RequestLog:
    _entries: list[LoggedRequest] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add(
        self, method: str, path: str, query: str, actor: str | None, status: int, fault: bool,
        run: str = "",
    ) -> None:  # fmt: skip
        with self._lock:
            seq = len(self._entries) + 1
            entry = LoggedRequest(seq, method, path, query, actor, status, fault, run)
            self._entries.append(entry)

    def list(self, since: int = 0) -> list[dict[str, Any]]:
        with self._lock:
            return [e.to_json() for e in self._entries if e.seq > since]


@dataclass
class RateCounter:
    """GitHub's primary rate limit, counted per caller over an hour (never enforced here)."""

    limit: int = 5000
    _used: dict[str, int] = field(default_factory=dict)
    _window_end: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def hit(self, who: str, now: int) -> dict[str, int]:
        with self._lock:
            self._roll(now)
            self._used[who] = self._used.get(who, 0) + 1
            return self._figures(who)

    def peek(self, who: str, now: int) -> dict[str, int]:
        with self._lock:
            self._roll(now)
            return self._figures(who)

    def _roll(self, now: int) -> None:
        if now >= self._window_end:
            self._used.clear()
            self._window_end = now + 3600

    def _figures(self, who: str) -> dict[str, int]:
        used = self._used.get(who, 0)
        return {
            "limit": self.limit,
            "used": used,
            "remaining": max(0, self.limit - used),
            "reset": self._window_end,
        }
