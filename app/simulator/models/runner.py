"""The scripted model's state: which agent answers, which turn is next, what was asked."""

from __future__ import annotations

import copy
import re
import threading
from typing import Any, Protocol

from starlette.responses import Response

from app.simulator.models.answer import Answer, plan_answer
from app.simulator.models.prompt_cache import PromptCache, PromptUsage
from app.simulator.models.script import EXHAUSTED, Agent, Script, Turn


class WireFormat(Protocol):
    name: str
    id_prefix: str

    def problem(self, body: Any) -> str | None:
        """Why the real API would refuse this request, or None."""

    def match_text(self, body: dict[str, Any]) -> str:
        """System prompt + first user message: what an agent's `match` is searched in."""

    def full_text(self, body: dict[str, Any]) -> str:
        """Every text of the request: what a turn's `expect` is searched in."""

    def prompt_usage(self, body: dict[str, Any], cache: PromptCache) -> PromptUsage: ...

    def render(self, answer: Answer, body: dict[str, Any], usage: PromptUsage, n: int) -> Response:
        """The answer as the real API would send it, as JSON or SSE per `body["stream"]`."""

    def error(
        self,
        status: int,
        message: str,
        *,
        type: str | None = None,
        code: str | None = None,
        retry_after: float | None = None,
    ) -> Response: ...


class ScriptRunner:
    """Thread-safe: requests are answered on the server's thread, inspected from the tests'."""

    def __init__(self, script: Script) -> None:
        self._lock = threading.Lock()
        self._script = script
        self._cursors: dict[int, int] = {}
        self._records: list[dict[str, Any]] = []
        self._cache = PromptCache()

    def load(self, script: Script) -> None:
        with self._lock:
            self._script = script
            self._clear()

    def reset(self) -> None:
        with self._lock:
            self._clear()

    def _clear(self) -> None:
        self._cursors.clear()
        self._records.clear()
        self._cache.clear()

    def requests(self) -> list[dict[str, Any]]:
        with self._lock:
            return copy.deepcopy(self._records)

    def handle(self, fmt: WireFormat, body: Any) -> Response:
        with self._lock:
            record: dict[str, Any] = {
                "index": len(self._records),
                "format": fmt.name,
                "agent": None,
                "turn": None,
                "stream": bool(isinstance(body, dict) and body.get("stream")),
                "exhausted": False,
                "status": 200,
                "error": None,
                "body": body,
            }
            self._records.append(record)
            return self._answer(fmt, body, record)

    def _answer(self, fmt: WireFormat, body: Any, record: dict[str, Any]) -> Response:
        problem = fmt.problem(body)
        if problem is not None:
            return self._reject(fmt, record, problem)
        found = self._agent_for(fmt.match_text(body))
        if found is None:
            return self._reject(
                fmt,
                record,
                "scripted model: no agent's `match` is found in this request's "
                "system prompt and first user message",
            )
        index, agent = found
        turn_index = self._cursors.get(index, 0)
        record["agent"] = agent.name
        record["turn"] = turn_index
        turn = agent.turns[turn_index] if turn_index < len(agent.turns) else None
        if turn is None:
            record["exhausted"] = True
            turn = EXHAUSTED
        elif turn.expect is not None and not re.search(turn.expect, fmt.full_text(body)):
            # The cursor stays: the agent did not send what this turn is scripted to answer.
            return self._reject(
                fmt,
                record,
                f"scripted model: agent {agent.name!r} turn {turn_index} expects "
                f"the request to contain /{turn.expect}/, and it does not",
            )
        else:
            self._cursors[index] = turn_index + 1
        return self._serve(fmt, body, record, turn)

    def _serve(self, fmt: WireFormat, body: Any, record: dict[str, Any], turn: Turn) -> Response:
        if turn.error is not None:
            error = turn.error
            record["status"] = error.status
            record["error"] = error.message or f"scripted error {error.status}"
            return fmt.error(
                error.status,
                record["error"],
                type=error.type,
                code=error.code,
                retry_after=error.retry_after,
            )
        n = record["index"]
        answer = plan_answer(turn, f"{fmt.id_prefix}{n:04d}_")
        return fmt.render(answer, body, fmt.prompt_usage(body, self._cache), n)

    def _agent_for(self, text: str) -> tuple[int, Agent] | None:
        for index, agent in enumerate(self._script.agents):
            if agent.match.search(text):
                return index, agent
        return None

    def _reject(self, fmt: WireFormat, record: dict[str, Any], message: str) -> Response:
        record["status"] = 400
        record["error"] = message
        return fmt.error(400, message)
