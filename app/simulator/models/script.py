"""The script a scripted model server answers from: agents, each with a regex and its turns.

    agents:
      - name: planner                      # optional, shown in the request log
        match: "You are the planner"       # searched in system prompt + first user message
        turns:
          - text: "Let me look."
            tool_calls: [{name: list_files, arguments: {path: "."}}]
          - expect: "README"               # the request must contain this (else HTTP 400)
            text: "Done."
          - tool_calls: [{name: read_file, raw_arguments: "{not json"}]
          - stop: max_tokens               # cut off: the last call's arguments are truncated
            tool_calls: [{name: write_file, arguments: {path: a.py, content: "..."}}]
          - refusal: "I can't help with that."
          - error: {status: 429, retry_after: 0.01, message: "slow down"}
          - repeat: 3
            text: "again"

A bare list of agents is accepted too. The same shapes work as a Python dict, YAML or JSON.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

StopKind = Literal["end_turn", "max_tokens"]

_TURN_KEYS = {"text", "tool_calls", "stop", "refusal", "error", "repeat", "expect"}
_CALL_KEYS = {"name", "arguments", "raw_arguments"}
_ERROR_KEYS = {"status", "retry_after", "message", "type", "code"}


class ScriptError(ValueError):
    """The script is not valid; the message says where and why."""


@dataclass(frozen=True)
class ScriptedCall:
    name: str
    arguments: dict[str, Any] | None = None
    raw_arguments: str | None = None  # sent verbatim, for malformed calls

    def raw(self) -> str:
        if self.raw_arguments is not None:
            return self.raw_arguments
        return json.dumps(self.arguments or {})


@dataclass(frozen=True)
class ScriptedError:
    status: int
    retry_after: float | None = None
    message: str | None = None
    type: str | None = None
    code: str | None = None


@dataclass(frozen=True)
class Turn:
    text: str = ""
    tool_calls: tuple[ScriptedCall, ...] = ()
    stop: StopKind = "end_turn"
    refusal: str | None = None
    error: ScriptedError | None = None
    expect: str | None = None


EXHAUSTED = Turn(text="script exhausted")


@dataclass(frozen=True)
class Agent:
    name: str
    match: re.Pattern[str]
    turns: tuple[Turn, ...]


@dataclass(frozen=True)
class Script:
    agents: tuple[Agent, ...] = field(default_factory=tuple)


def load_script(source: dict[str, Any] | list[Any] | Path | str) -> Script:
    """A script from a dict, a list of agents, or a .yaml/.yml/.json file."""
    if isinstance(source, (str, Path)):
        path = Path(source)
        text = path.read_text()
        data = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
        return parse_script(data)
    return parse_script(source)


def parse_script(data: Any) -> Script:
    agents = data.get("agents") if isinstance(data, dict) else data
    if not isinstance(agents, list):
        raise ScriptError("a script is a list of agents, or a mapping with an 'agents' list")
    return Script(tuple(_agent(item, f"agents[{i}]", i) for i, item in enumerate(agents)))


def _agent(data: Any, where: str, index: int) -> Agent:
    _require_mapping(data, where, {"name", "match", "turns"})
    match = data.get("match")
    if not isinstance(match, str):
        raise ScriptError(f"{where}.match: a regex string is required")
    try:
        pattern = re.compile(match)
    except re.error as err:
        raise ScriptError(f"{where}.match: not a valid regex ({err})") from err
    turns_data = data.get("turns", [])
    if not isinstance(turns_data, list):
        raise ScriptError(f"{where}.turns: must be a list")
    turns: list[Turn] = []
    for i, item in enumerate(turns_data):
        turns.extend(_turns(item, f"{where}.turns[{i}]"))
    return Agent(str(data.get("name") or f"agent{index}"), pattern, tuple(turns))


def _turns(data: Any, where: str) -> list[Turn]:
    _require_mapping(data, where, _TURN_KEYS)
    repeat = data.get("repeat", 1)
    if not isinstance(repeat, int) or repeat < 1:
        raise ScriptError(f"{where}.repeat: must be a positive integer")
    stop = data.get("stop", "end_turn")
    if stop not in ("end_turn", "max_tokens"):
        raise ScriptError(f"{where}.stop: must be 'max_tokens' (or 'end_turn')")
    expect = data.get("expect")
    if expect is not None:
        try:
            re.compile(expect)
        except (re.error, TypeError) as err:
            raise ScriptError(f"{where}.expect: not a valid regex ({err})") from err
    calls = data.get("tool_calls", [])
    if not isinstance(calls, list):
        raise ScriptError(f"{where}.tool_calls: must be a list")
    turn = Turn(
        text=str(data.get("text", "")),
        tool_calls=tuple(_call(c, f"{where}.tool_calls[{i}]") for i, c in enumerate(calls)),
        stop=stop,
        refusal=None if data.get("refusal") is None else str(data["refusal"]),
        error=None if data.get("error") is None else _error(data["error"], f"{where}.error"),
        expect=expect,
    )
    return [turn] * repeat


def _call(data: Any, where: str) -> ScriptedCall:
    _require_mapping(data, where, _CALL_KEYS)
    if not isinstance(data.get("name"), str):
        raise ScriptError(f"{where}.name: a tool name is required")
    if "arguments" in data and "raw_arguments" in data:
        raise ScriptError(f"{where}: give arguments or raw_arguments, not both")
    raw = data.get("raw_arguments")
    if raw is not None and not isinstance(raw, str):
        raise ScriptError(f"{where}.raw_arguments: must be a string")
    arguments = data.get("arguments")
    if arguments is not None and not isinstance(arguments, dict):
        raise ScriptError(f"{where}.arguments: must be a mapping (use raw_arguments otherwise)")
    return ScriptedCall(data["name"], arguments, raw)


def _error(data: Any, where: str) -> ScriptedError:
    _require_mapping(data, where, _ERROR_KEYS)
    status = data.get("status")
    if not isinstance(status, int) or not 400 <= status <= 599:
        raise ScriptError(f"{where}.status: an HTTP error status (400-599) is required")
    retry_after = data.get("retry_after")
    if retry_after is not None and not isinstance(retry_after, (int, float)):
        raise ScriptError(f"{where}.retry_after: seconds, as a number")
    return ScriptedError(
        status,
        None if retry_after is None else float(retry_after),
        data.get("message"),
        data.get("type"),
        data.get("code"),
    )


def _require_mapping(data: Any, where: str, allowed: set[str]) -> None:
    if not isinstance(data, dict):
        raise ScriptError(f"{where}: must be a mapping")
    unknown = sorted(set(data) - allowed)
    if unknown:
        names = ", ".join(sorted(allowed))
        raise ScriptError(f"{where}: unknown key {unknown[0]!r} (allowed: {names})")
