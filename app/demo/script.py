"""The built-in scenario's scripted model, and what tests read from it.

The turns themselves are written in scenarios/textkit.yaml (the format: the README's
"Scenarios"); this module hands them out in the shapes tests and benchmarks have used: the model
server's script, the goal's text, the planner's plan and the files each worker writes.
"""

from __future__ import annotations

import copy
from typing import Any

from app.demo.scenario import load_builtin

_BUILTIN = load_builtin()


def demo_script() -> dict[str, Any]:
    """The model server's script for the built-in scenario (a fresh copy to change at will)."""
    return _BUILTIN.model_script()


def _calls(name: str) -> list[dict[str, Any]]:
    script = demo_script()
    turns = [turn for agent in script["agents"] for turn in agent.get("turns", [])]
    return [call for turn in turns for call in turn.get("tool_calls", []) if call["name"] == name]


def _written(path: str) -> str:
    return next(
        c["arguments"]["content"] for c in _calls("write_file") if c["arguments"]["path"] == path
    )


GOAL_TITLE: str = _BUILTIN.spec.goal.title
GOAL_BODY: str = _BUILTIN.spec.goal.body
PLAN: dict[str, Any] = copy.deepcopy(_calls("submit_plan")[0]["arguments"])
WORDS_PY = _written("textkit/words.py")
WORDS_TEST = _written("tests/test_words.py")
SLUG_PY = _written("textkit/slug.py")
SLUG_TEST = _written("tests/test_slug.py")
README_DOCS = _written("README.md")
