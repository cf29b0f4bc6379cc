"""A scenario's timeline at run time: which entry fires on which webhook delivery.

Triggers are read from the simulator's own delivery log, so they need no timing: each entry
fires once, on the first delivery it matches (in the log's order), or right after the goal is
labelled for `when: start`. Firing runs the entry's action through `act`; what it did, or the
error that stopped it, is kept for the report.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from app.demo.scenario import START, Entry, Trigger

# What performs an action: (the entry, the delivery that fired it or None at start) -> a line
# saying what it did. An exception means the action failed; the timeline records it.
Act = Callable[[Entry, dict[str, Any] | None], str]

_MISSING = object()


def event_name(delivery: dict[str, Any]) -> str:
    """`<X-GitHub-Event>.<action>`, or the event alone when it has no action (`push`)."""
    action = delivery.get("action")
    return f"{delivery['event']}.{action}" if action else str(delivery["event"])


def lookup(payload: dict[str, Any], path: str, event: str) -> Any:
    """The value at a dotted path of the payload (list items by index), read from the root,
    else from the event's own object (`title` in a `pull_request` event); _MISSING if none."""
    found = _walk(payload, path.split("."))
    own = payload.get(event)
    if found is _MISSING and isinstance(own, dict):
        found = _walk(own, path.split("."))
    return found


def _walk(value: Any, parts: list[str]) -> Any:
    for part in parts:
        if isinstance(value, dict) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return _MISSING
    return value


def _text(value: Any) -> str:
    """A payload value as JSON spells it (true, null, 3), for a regex to search."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def matches(trigger: Trigger, delivery: dict[str, Any]) -> bool:
    """Whether a delivery from the simulator's log is what the trigger waits for."""
    if trigger.event == START:
        return False
    wanted = trigger.event
    if (event_name(delivery) if "." in wanted else delivery["event"]) != wanted:
        return False
    payload = delivery.get("payload")
    if not isinstance(payload, dict):
        return False
    for path, pattern in trigger.match.items():
        value = lookup(payload, path, str(delivery["event"]))
        if value is _MISSING or isinstance(value, (dict, list)):
            return False
        if isinstance(pattern, str):
            if re.search(pattern, _text(value)) is None:
                return False
        elif _text(value) != _text(pattern):
            return False
    return True


@dataclass
class Fired:
    delivery: int | None  # the delivery's id in the simulator's log; None for `start`
    event: str
    did: str = ""
    error: str | None = None


@dataclass
class EntryState:
    index: int
    entry: Entry
    fired: Fired | None = None

    def as_json(self) -> dict[str, Any]:
        fired = self.fired
        return {
            "name": self.entry.label(self.index),
            "when": self.entry.when.event,
            "action": self.entry.do.kind,
            "fired": fired is not None,
            "delivery": fired.delivery if fired else None,
            "event": fired.event if fired else None,
            "did": fired.did if fired else None,
            "error": fired.error if fired else None,
        }


class Timeline:
    def __init__(self, entries: Iterable[Entry], act: Act) -> None:
        self.entries = [EntryState(i, entry) for i, entry in enumerate(entries)]
        self._act = act
        self.fired_count = 0
        self.cursor = 0  # the last delivery id seen

    def start(self) -> None:
        """Fire the `when: start` entries: the goal has just been labelled."""
        for state in self.entries:
            if state.fired is None and state.entry.when.event == START:
                self._fire(state, None)

    def see(self, deliveries: Iterable[dict[str, Any]]) -> None:
        """Fire what the new deliveries (ids above the cursor, in order) trigger."""
        for delivery in sorted(deliveries, key=lambda d: int(d["id"])):
            if int(delivery["id"]) <= self.cursor:
                continue
            self.cursor = int(delivery["id"])
            for state in self.entries:
                if state.fired is None and matches(state.entry.when, delivery):
                    self._fire(state, delivery)

    def _fire(self, state: EntryState, delivery: dict[str, Any] | None) -> None:
        event = START if delivery is None else event_name(delivery)
        state.fired = Fired(None if delivery is None else int(delivery["id"]), event)
        self.fired_count += 1
        try:
            state.fired.did = self._act(state.entry, delivery)
        except Exception as exc:  # an action that fails is reported, and fails the run
            state.fired.error = f"{type(exc).__name__}: {exc}"

    @property
    def errors(self) -> list[str]:
        return [
            f"{s.entry.label(s.index)}: {s.fired.error}"
            for s in self.entries
            if s.fired is not None and s.fired.error
        ]

    def as_json(self) -> list[dict[str, Any]]:
        return [state.as_json() for state in self.entries]
