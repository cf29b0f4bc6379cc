"""The agent loop: `run` over `step`, `query` and `execute`, in the spirit of mini-swe-agent.

The loop knows nothing of GitHub, git or DBOS. It offers the toolbox's tools plus its own
`finish`, checks the turn, token and time limits before every model call, tells the model the
budget left at the end of every request (at the end, so the prefix stays cacheable), delivers the
inbox, and answers malformed or cut-off calls instead of running them. `finish` ends the loop and
nothing more: whether the work is done is for CI and the judge to decide.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from typing import Literal, Protocol

from app.agent.compaction import CompactionPolicy, Compactor, TokenEstimator
from app.agent.inbox import Inbox
from app.agent.toolbox import Toolbox
from app.agent.transcript import Transcript, WorkDigest, message_to_json
from app.llm.types import (
    ContextWindowExceeded,
    Message,
    Model,
    ModelError,
    ModelResponse,
    ToolCall,
    ToolSpec,
    Usage,
)

log = logging.getLogger(__name__)

Status = Literal["finished", "budget_exhausted", "refused", "cancelled", "error"]

FINISH = "finish"
FINISH_SPEC = ToolSpec(
    name=FINISH,
    description=(
        "End your work. Call it when the task is done and the tests pass, or when you cannot go "
        "on. The summary says what you changed, which commands you ran with their results, and "
        "anything left undone."
    ),
    parameters={
        "type": "object",
        "properties": {"summary": {"type": "string", "description": "What was done and run."}},
        "required": ["summary"],
    },
)
CUT_OFF = (
    "Not run: your answer was cut off by the output limit, so this call may be incomplete. "
    "Send a shorter answer (for example, write a long file in several smaller edits)."
)
NO_TOOL_CALL = (
    "You answered without calling a tool. Go on with a tool call, or call finish(summary) "
    "when the task is done."
)
MAX_FINISH_REFUSALS = 2  # then the run ends anyway; the orchestrator still refuses the work


class Supervisor(Protocol):
    """The orchestrator's say between steps, without the loop knowing what it does."""

    async def after_step(self, agent: Agent) -> str | None:
        """Called after each step (to save a checkpoint, say); a note returned goes to the
        model as a message."""
        ...

    async def review_finish(self, agent: Agent) -> str | None:
        """Called when the model calls finish; a problem returned refuses the finish, and the
        model goes on with the problem as the call's result."""
        ...


@dataclass
class AgentConfig:
    max_turns: int = 80
    max_tokens_total: int = 3_000_000  # input + output tokens over the whole run
    max_seconds: float = 3600.0
    max_output_tokens: int = 8192
    context_budget_tokens: int | None = None  # None: the model's window minus the output
    max_consecutive_malformed: int = 3
    keep_recent_turns: int = 6  # never compacted
    summarize_with_model: bool = True  # else compaction writes a deterministic digest


@dataclass
class AgentOutcome:
    status: Status
    summary: str
    turns: int
    usage: Usage = field(default_factory=Usage)
    cost_usd: float = 0.0
    reason: str = ""


def _duration(seconds: float) -> str:
    seconds = max(0, int(seconds))
    return f"{seconds // 60} min {seconds % 60} s" if seconds >= 60 else f"{seconds} s"


class Agent:
    """One agent run: `await Agent(...).run(task)` returns how it ended, never raising except
    `CancelledError` (recorded as `cancelled` first)."""

    def __init__(
        self,
        name: str,
        role: str,
        model: Model,
        tools: Toolbox,
        system_prompt: str,
        inbox: Inbox,
        transcript: Transcript,
        clock: Callable[[], float] = time.monotonic,
        config: AgentConfig | None = None,
        supervisor: Supervisor | None = None,
    ) -> None:
        self.name, self.role, self.model, self.tools = name, role, model, tools
        self.supervisor = supervisor
        self.finish_refusals = 0
        self.system_prompt, self.inbox, self.transcript, self.clock = (
            system_prompt, inbox, transcript, clock,
        )  # fmt: skip
        self.config = cfg = config or AgentConfig()
        window = max(1024, model.context_window - cfg.max_output_tokens)
        budget = cfg.context_budget_tokens or window
        self.estimator = TokenEstimator()
        self.compactor = Compactor(
            CompactionPolicy(budget, keep_turns=max(1, cfg.keep_recent_turns)),
            self.estimator,
            summarizer=model if cfg.summarize_with_model else None,
        )
        self.specs: list[ToolSpec] = [*tools.specs(), FINISH_SPEC]
        self.history: list[Message] = []
        self.work = WorkDigest()  # everything done, for the summary of an unfinished run
        self.turns, self.malformed, self.usage, self.cost_usd = 0, 0, Usage(), 0.0
        self.outcome: AgentOutcome | None = None
        self._started = 0.0

    async def run(self, task: str) -> AgentOutcome:
        self._started = self.clock()
        self.transcript.record(
            "start", name=self.name, role=self.role, model=self.model.name, task=task,
            config=asdict(self.config),
        )  # fmt: skip
        self._add(Message(role="system", content=self.system_prompt))
        self._add(Message(role="user", content=task))
        try:
            while self.outcome is None:
                await self.step()
                self.transcript.sync()
                await self._supervise()
        except asyncio.CancelledError:
            self._end("cancelled", "the task was cancelled")
            raise
        except ModelError as exc:
            self._end("error", f"model error: {exc}")
        except Exception as exc:  # a bug must still leave an outcome in the transcript
            log.exception("agent %s crashed", self.name)
            self._end("error", f"{type(exc).__name__}: {exc}")
        assert self.outcome is not None
        return self.outcome

    async def step(self) -> None:
        if reason := self._limit_reached():
            return self._end("budget_exhausted", reason)
        if await self._deliver_inbox():
            return
        await self.execute(await self.query())

    async def query(self) -> ModelResponse:
        await self._compact()
        note = self._add_budget_note()
        self.turns += 1
        try:
            response = await self._ask()
        except ContextWindowExceeded:
            self.estimator.ratio *= 1.5  # we under-counted: count higher from now on
            await self._compact(force=True)
            response = await self._ask()
        self.estimator.calibrate(self.history, self.specs, response.usage.input_tokens)
        self._spend(response.usage, response.cost_usd)
        self.history.append(response.message)
        self.work.add([response.message])
        self.transcript.record(
            "response", turn=self.turns, message=message_to_json(response.message),
            stop_reason=response.stop_reason, usage=asdict(response.usage),
            cost_usd=response.cost_usd, model=response.model, budget_note=note,
        )  # fmt: skip
        return response

    async def _ask(self) -> ModelResponse:
        return await self.model.query(
            list(self.history), self.specs, max_tokens=self.config.max_output_tokens
        )

    async def execute(self, response: ModelResponse) -> None:
        calls = response.message.tool_calls
        if response.stop_reason == "refusal":
            for call in calls:
                self._answer(call, "Not run: the answer was a refusal.", is_error=True)
            return self._end("refused", response.message.content.strip() or "the model refused")
        if response.stop_reason == "max_tokens":
            for call in calls:  # answered so each call keeps its result; none is run
                self._answer(call, CUT_OFF, is_error=True)
            return self._count_malformed(None if calls else CUT_OFF)
        if not calls:
            return self._count_malformed(NO_TOOL_CALL)
        ran = [await self._execute_call(call) for call in calls]
        if any(ran):
            self.malformed = 0
        else:
            self._count_malformed(None)

    async def _execute_call(self, call: ToolCall) -> bool:
        """Answer one call; True when it was well-formed and ran."""
        if self.outcome is not None:
            self._answer(call, "Not run: the run had already finished.", is_error=True)
            return False
        if problem := self._problem(call):
            self._answer(call, problem, is_error=True)
            return False
        arguments = call.arguments or {}
        if call.name == FINISH:
            if problem := await self._finish_refused():
                self._answer(call, f"Not finished: {problem}", is_error=True)
                return True
            self._answer(call, "Recorded. CI and the judge will check the work.")
            self._end("finished", "the agent called finish", summary=str(arguments["summary"]))
            return True
        left = self.config.max_seconds - (self.clock() - self._started)
        try:
            # Every call ends by the run's deadline, whatever the tool does.
            result = await asyncio.wait_for(self.tools.call(call.name, arguments), max(0, left))
        except TimeoutError:
            self._answer(call, f"Stopped: the run's time ran out during this {call.name} call.",
                         is_error=True)  # fmt: skip
            self._end("budget_exhausted", f"time limit reached during a {call.name} call")
            return True
        self._answer(call, result.output, is_error=result.is_error)
        return True

    async def _supervise(self) -> None:
        if self.outcome is None and self.supervisor is not None:
            note = await self.supervisor.after_step(self)
            if note:
                self._add(Message(role="user", content=note))

    async def _finish_refused(self) -> str | None:
        if self.supervisor is None or self.finish_refusals >= MAX_FINISH_REFUSALS:
            return None
        problem = await self.supervisor.review_finish(self)
        if problem:
            self.finish_refusals += 1
        return problem

    def _problem(self, call: ToolCall) -> str | None:
        """Why a call must not run, in words the model can act on; None when it may run."""
        spec = next((s for s in self.specs if s.name == call.name), None)
        if call.error:
            return f"Not run: your call to {call.name!r} was malformed ({call.error}). Send it again with one JSON object of arguments."  # noqa: E501
        if spec is None:
            names = ", ".join(s.name for s in self.specs)
            return f"Not run: there is no tool named {call.name!r}. The tools are: {names}."
        if call.arguments is None:
            return f"Not run: the arguments of {call.name!r} are not a JSON object."
        required = spec.parameters.get("required", [])
        if missing := [key for key in required if key not in call.arguments]:
            return f"Not run: {call.name!r} needs the argument(s) {', '.join(missing)}."
        if call.name == FINISH and not str(call.arguments["summary"]).strip():
            return "Not run: finish needs a summary of what you did and ran."
        return None

    def _count_malformed(self, nudge: str | None) -> None:
        if nudge is not None:
            self._add(Message(role="user", content=nudge))
        self.malformed += 1
        if self.malformed >= self.config.max_consecutive_malformed:
            self._end("error", f"{self.malformed} malformed answers in a row")

    def _limit_reached(self) -> str | None:
        cfg, spent = self.config, self._tokens_spent()
        elapsed = self.clock() - self._started
        if self.turns >= cfg.max_turns:
            return f"turn limit reached ({self.turns} of {cfg.max_turns} turns)"
        if spent >= cfg.max_tokens_total:
            return f"token budget spent ({spent:,} of {cfg.max_tokens_total:,} tokens)"
        if elapsed >= cfg.max_seconds:
            return f"time limit reached ({elapsed:.0f} s of {cfg.max_seconds:.0f} s)"
        return None

    def _budget_note(self) -> str:
        cfg = self.config
        turns_left = cfg.max_turns - self.turns
        tokens_left = max(0, cfg.max_tokens_total - self._tokens_spent())
        time_left = _duration(cfg.max_seconds - (self.clock() - self._started))
        note = (
            f"[Budget left: {turns_left} turns including this one, {tokens_left:,} tokens, "
            f"{time_left}. Do not stop early: keep going until the task is done, and run the "
            "tests before you call finish.]"
        )
        if turns_left <= 1:
            note += " [This is your last turn: call finish now with what you did and what is left.]"
        return note

    def _add_budget_note(self) -> str:
        """Append the budget note to the newest message, and keep it there.

        Kept, not sent once and dropped: each request then extends the previous one byte for
        byte, so the provider's prompt cache (Anthropic's marks included) hits all of it.
        """
        note, last = self._budget_note(), self.history[-1]
        if last.role in ("user", "tool"):
            self.history[-1] = replace(last, content=f"{last.content}\n\n{note}")
        else:
            self._add(Message(role="user", content=note))
        return note

    async def _compact(self, force: bool = False) -> None:
        result = await self.compactor.compact(self.history, self.specs, force=force)
        if result.stage == "none":
            return
        self._spend(result.usage, result.cost_usd)
        self.transcript.record(
            "compaction", stage=result.stage, tokens_before=result.tokens_before,
            tokens_after=result.tokens_after, messages_before=len(self.history),
            messages_after=len(result.messages),
        )  # fmt: skip
        self.history = result.messages

    async def _deliver_inbox(self) -> bool:
        """Add waiting messages to the history; True when one of them says stop."""
        for message in await self.inbox.drain():
            if message.kind == "stop":
                self._end("cancelled", f"stopped by {message.sender}: {message.text}")
                return True
            self._add(Message(role="user", content=message.render()))
        return False

    def _answer(self, call: ToolCall, output: str, is_error: bool = False) -> None:
        self._add(Message(role="tool", content=output, tool_call_id=call.id, is_error=is_error))

    def _add(self, message: Message) -> None:
        self.history.append(message)
        self.work.add([message])
        self.transcript.record("message", message=message_to_json(message))

    def _spend(self, usage: Usage, cost_usd: float) -> None:
        self.usage, self.cost_usd = self.usage + usage, self.cost_usd + cost_usd

    def _tokens_spent(self) -> int:
        return self.usage.input_tokens + self.usage.output_tokens

    def _end(self, status: Status, reason: str, summary: str | None = None) -> None:
        if self.outcome is not None:
            return
        self.outcome = AgentOutcome(
            status, summary or self.work.render(), self.turns, self.usage, self.cost_usd, reason
        )
        self.transcript.record("outcome", **asdict(self.outcome))
        self.transcript.sync()
