"""Transcripts: every message, response, usage and outcome of a run, as JSON lines.

A record is written and flushed as it happens and the file is fsynced once per turn, so a killed
process loses at most the turn in flight. `load_transcript` reads a file back (tolerating a torn
last line) and `summary_for_resume` turns it into the short text a fresh agent starts from.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, Any

from app.agent.inbox import is_inbox_message
from app.clock import SYSTEM_CLOCK, Clock
from app.llm.types import Message, ToolCall

Record = dict[str, Any]

# Tool names are the toolbox's business; these word lists recognise the usual ones
# (write_file, edit_file, replace, run_command, …) without binding us to one toolbox.
_CHANGING_WORDS = ("write", "edit", "replace", "create", "delete", "insert", "patch", "move")
_PATH_KEYS = ("path", "file", "file_path", "filename")
_COMMAND_KEYS = ("command", "cmd")


def message_to_json(message: Message) -> Record:
    return asdict(message)


def message_from_json(data: Record) -> Message:
    calls = [ToolCall(**call) for call in data.get("tool_calls", [])]
    return Message(
        role=data["role"],
        content=data.get("content", ""),
        tool_calls=calls,
        tool_call_id=data.get("tool_call_id"),
        is_error=data.get("is_error", False),
    )


def _clip(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass
class WorkDigest:
    """What an agent did, recovered from its messages: the deterministic summary of a history."""

    tool_counts: Counter[str] = field(default_factory=Counter)
    files_changed: list[str] = field(default_factory=list)
    files_read: list[str] = field(default_factory=list)
    commands: list[str] = field(default_factory=list)
    redirects: list[str] = field(default_factory=list)
    last_remark: str = ""
    last_tool_output: str = ""

    def add(self, messages: Iterable[Message]) -> WorkDigest:
        for message in messages:
            if message.role == "assistant":
                if message.content.strip():
                    self.last_remark = message.content.strip()
                for call in message.tool_calls:
                    self._add_call(call)
            elif message.role == "tool":
                self.last_tool_output = message.content
            elif is_inbox_message(message.role, message.content):
                self._add_redirect(message.content)
        return self

    def _add_redirect(self, text: str) -> None:
        if text not in self.redirects:  # compaction keeps redirects, so they come back
            self.redirects.append(text)

    def _add_call(self, call: ToolCall) -> None:
        self.tool_counts[call.name] += 1
        args = call.arguments or {}
        path = next((args[k] for k in _PATH_KEYS if isinstance(args.get(k), str)), None)
        if path is not None:
            changing = any(word in call.name.lower() for word in _CHANGING_WORDS)
            target = self.files_changed if changing else self.files_read
            if path not in target:
                target.append(path)
        command = next((args[k] for k in _COMMAND_KEYS if isinstance(args.get(k), str)), None)
        if command is not None:
            self.commands.append(command)

    def render(self, *, max_items: int = 12) -> str:
        lines: list[str] = []
        if self.tool_counts:
            calls = ", ".join(f"{name}×{n}" for name, n in self.tool_counts.most_common())
            lines.append(f"Tool calls made: {calls}.")
        if self.files_changed:
            lines.append("Files changed: " + ", ".join(self.files_changed[-max_items:]) + ".")
        if self.files_read:
            lines.append("Files read: " + ", ".join(self.files_read[-max_items:]) + ".")
        if self.commands:
            recent = "; ".join(_clip(c, 120) for c in self.commands[-5:])
            lines.append(f"Commands run ({len(self.commands)}, latest last): {recent}")
        for redirect in self.redirects[-3:]:
            lines.append(f"Received: {_clip(redirect, 300)}")
        if self.last_remark:
            lines.append(f"Last remark: {_clip(self.last_remark, 400)}")
        if self.last_tool_output:
            lines.append(f"Last tool output (end): {_clip(self.last_tool_output[-400:], 400)}")
        return "\n".join(lines) if lines else "No tool calls yet."


class Transcript:
    """Append-only JSON-lines log of one agent run."""

    def __init__(
        self, path: Path, listener: Callable[[Record], None] | None = None,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:  # fmt: skip
        self.path = path
        self._listener = listener
        self._clock = clock
        self._file: IO[str] | None = None

    def record(self, kind: str, **data: Any) -> None:
        entry: Record = {"kind": kind, "at": self._clock.now(), **data}
        if self._file is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._file = self.path.open("a", encoding="utf-8")
        self._file.write(json.dumps(entry, ensure_ascii=False) + "\n")
        self._file.flush()
        if self._listener is not None:
            self._listener(entry)

    def sync(self) -> None:
        """Make everything recorded so far durable (called once per turn)."""
        if self._file is not None:
            self._file.flush()
            os.fsync(self._file.fileno())

    def close(self) -> None:
        if self._file is not None:
            self.sync()
            self._file.close()
            self._file = None


@dataclass
class TranscriptLog:
    """A transcript read back from disk."""

    records: list[Record]

    def first(self, kind: str) -> Record | None:
        return next((r for r in self.records if r["kind"] == kind), None)

    @property
    def task(self) -> str:
        start = self.first("start")
        return str(start.get("task", "")) if start else ""

    @property
    def outcome(self) -> Record | None:
        outcomes = [r for r in self.records if r["kind"] == "outcome"]
        return outcomes[-1] if outcomes else None

    def messages(self) -> list[Message]:
        """Every message of the run in order (before any compaction)."""
        return [message_from_json(r["message"]) for r in self.records if "message" in r]

    def digest(self) -> WorkDigest:
        return WorkDigest().add(self.messages())

    def summary_for_resume(self, *, max_chars: int = 4000) -> str:
        """A short account a fresh agent can start from: what was done, files, last state."""
        start = self.first("start") or {}
        outcome = self.outcome
        if outcome is None:
            ending = "it stopped without an outcome (the process was interrupted)"
        else:
            ending = f"it ended {outcome.get('status')}: {outcome.get('reason') or 'no reason'}"
            if outcome.get("summary"):
                ending += f"\nIts summary: {_clip(str(outcome['summary']), 800)}"
        turns = sum(1 for r in self.records if r["kind"] == "response")
        text = (
            f"An earlier agent ({start.get('name', 'unknown')}) worked on this task for "
            f"{turns} turns; {ending}\n{self.digest().render()}\n"
            "Its changes are already in the working tree: look at them (for example with "
            "`git status` and `git diff`) before you continue, and do not redo finished work."
        )
        return text if len(text) <= max_chars else text[: max_chars - 1] + "…"


def load_transcript(path: Path) -> TranscriptLog:
    records: list[Record] = []
    with path.open(encoding="utf-8") as file:
        for line in file:
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError:
                break  # a torn last line from a killed process; everything before it is whole
    return TranscriptLog(records)
