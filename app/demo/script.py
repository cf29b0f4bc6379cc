"""The built-in scenario's scripted model, and what tests read from it.

The turns themselves are written in scenarios/textkit.yaml (the format: the README's
"Scenarios"); this module hands them out in the shapes tests and benchmarks have used: the model
server's script, the goal's text, the planner's plan and the files each worker writes.
"""

from __future__ import annotations

import copy
import re
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
    """What the scenario's workers leave in `path`: its last write."""
    writes = [c for c in _calls("write_file") if c["arguments"]["path"] == path]
    return str(writes[-1]["arguments"]["content"])


GOAL_TITLE: str = _BUILTIN.spec.goal.title
GOAL_BODY: str = _BUILTIN.spec.goal.body
PLAN: dict[str, Any] = copy.deepcopy(_calls("submit_plan")[0]["arguments"])
WORDS_PY = _written("textkit/words.py")
WORDS_TEST = _written("tests/test_words.py")
SLUG_PY = _written("textkit/slug.py")
SLUG_TEST = _written("tests/test_slug.py")
README_DOCS = _written("README.md")
# What each task's worker writes in the end (without the shared `textkit/__init__.py`).
FINAL_FILES: dict[str, dict[str, str]] = {
    "words": {"textkit/words.py": WORDS_PY, "tests/test_words.py": WORDS_TEST},
    "slug": {"textkit/slug.py": SLUG_PY, "tests/test_slug.py": SLUG_TEST},
    "docs": {"README.md": README_DOCS},
}


def _call(name: str, **arguments: Any) -> dict[str, Any]:
    return {"name": name, "arguments": arguments}


def judge_agent(
    title: str, criteria: list[str], *, approve: bool = True, repeat: int = 1
) -> dict[str, Any]:
    """A scripted judge of the task titled `title`: it runs the tests, then hands in a verdict
    on every criterion (all met, or none), `repeat` times (once per head it is asked about)."""
    verdict = {
        "decision": "approve" if approve else "request_changes",
        "criteria": [
            {"criterion": c, "met": approve, "evidence": "python -m pytest -q: passed"}
            for c in criteria
        ],
        "summary": "Checked against every criterion." if approve else "Not yet.",
    }
    turns = [
        {"tool_calls": [_call("run", command="python -m pytest -q")]},
        {"tool_calls": [_call("submit_verdict", **verdict)]},
        {"tool_calls": [_call("finish", summary=verdict["summary"])]},
    ]
    return {"name": f"judge: {title}", "match": f"for the task “{title}”", "turns": turns * repeat}


def checker_agent(repeat: int = 1) -> dict[str, Any]:
    """The scenario's goal checker (every criterion met), for `repeat` finished goals."""
    (checker,) = [a for a in demo_script()["agents"] if a["name"] == "goal checker"]
    return {**checker, "turns": checker["turns"] * repeat}


def happy_script(**approve: bool) -> dict[str, Any]:
    """The built-in plan with nothing going wrong: each worker writes its final files at once,
    each judge approves (unless `approve` says otherwise for its task's key), and the goal's
    checker finds the goal met."""
    planner = demo_script()["agents"][0]
    judges = [
        judge_agent(t["title"], t["acceptance"], approve=approve.get(t["key"], True), repeat=3)
        for t in PLAN["tasks"]
    ]
    workers = [final_worker(t["title"], FINAL_FILES[t["key"]]) for t in PLAN["tasks"]]
    return {"agents": [planner, checker_agent(), *judges, *workers]}


def final_worker(title: str, files: dict[str, str]) -> dict[str, Any]:
    """A scripted worker that writes `files` at once, runs the tests and finishes."""
    writes = [_call("write_file", path=p, content=c) for p, c in files.items()]
    return {
        "name": f"worker: {title}",
        "match": f"{re.escape(title)} \\(#",
        "turns": [
            {"tool_calls": [_call("list_files", path=".")]},
            {"tool_calls": writes},
            {"tool_calls": [_call("run", command="python -m pytest -q")]},
            {"tool_calls": [_call("finish", summary=f"Done: {title}; pytest passes.")]},
        ],
    }
