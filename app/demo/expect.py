"""A scenario's `expect:`, checked against what it ended with."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from app.demo.scenario import Expect


@dataclass(frozen=True)
class Outcome:
    what: str
    expected: Any
    actual: Any

    @property
    def ok(self) -> bool:
        return bool(self.expected == self.actual)

    def line(self) -> str:
        mark = "ok  " if self.ok else "FAIL"
        if self.ok:
            return f"{mark} {self.what}: {self.actual}"
        return f"{mark} {self.what}: expected {self.expected}, got {self.actual}"

    def as_json(self) -> dict[str, Any]:
        return {"what": self.what, "expected": self.expected, "actual": self.actual, "ok": self.ok}


def check(expect: Expect | None, report: dict[str, Any]) -> list[Outcome]:
    """Each expectation given, against the run's report (DemoResult.as_json's shape)."""
    if expect is None:
        return []
    prs = report["pull_requests"]
    actual = {
        "goal_state": report["goal"]["state"],
        "tasks": len(report["tasks"]),
        "pull_requests": len(prs),
        "merged": sum(1 for pr in prs if pr["merged"]),
        "checks": _checks(prs, expect.checks),
        "all_fired": all(entry["fired"] for entry in report["timeline"]),
    }
    outcomes = []
    for what in type(expect).model_fields:
        expected = getattr(expect, what)
        if expected is None or (what == "all_fired" and not expected):
            continue
        outcomes.append(Outcome(what, expected, actual[what]))
    return outcomes


def _checks(prs: list[dict[str, Any]], wanted: str | None) -> str | None:
    """`wanted` when every pull request's CI concluded so; else the first that did not."""
    if not prs:
        return "no pull request"
    for pr in prs:
        if pr["check_conclusion"] != wanted:
            return f"#{pr['number']}: {pr['check_conclusion']}"
    return wanted
