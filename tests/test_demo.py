"""`swarm demo --json`, run as a user runs it: the built-in scenario, and scenario files."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]


def swarm_demo(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app.cli", "demo", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


@pytest.mark.parametrize(
    ("flags", "name", "min_ci_runs"),
    [((), "textkit", 6), (("--train",), "textkit (merge train)", 5)],
    ids=["gate", "train"],
)
def test_the_demo_plans_works_and_reports_honestly(
    flags: tuple[str, ...], name: str, min_ci_runs: int
) -> None:
    """The built-in scenario, landed by each pull request's gate or by the merge train: the
    same red CI, judge's changes and conflict on the way, and what landed is what was tested."""
    result = swarm_demo("--json", *flags)
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout)
    assert report["scenario"] == name and report["timeline"] == []
    assert report["ok"] is True and report["settled"] is True and report["warnings"] == []
    assert {e["what"]: e["ok"] for e in report["expect"]} == {
        "goal_state": True,
        "tasks": True,
        "pull_requests": True,
        "merged": True,
    }
    assert report["goal"]["state"] == "done"
    assert report["simulated"] == {"github": True, "model": "scripted"}
    assert len(report["tasks"]) == 3
    for task in report["tasks"]:
        assert task["state"] == "done" and task["sub_issue"] and task["pull_request"]
    # On the way: a red CI fixed, the judge's changes made, a conflict resolved by an agent.
    assert report["main_tests_passed"] is True
    assert report["conflicts_resolved"] == 1
    assert report["judge_verdicts"] >= 4  # one per head judged, "changes needed" included
    rounds = sorted(pr["rounds"] for pr in report["pull_requests"])
    assert rounds == [0, 1, 2]  # docs: none; one of words and slug: 1, the other: 2
    assert report["ci_runs"] >= min_ci_runs  # a red candidate and its re-run, the fixed one…
    assert len(report["pull_requests"]) == 3
    for pr in report["pull_requests"]:
        assert re.fullmatch(r"[0-9a-f]{40}", pr["head_sha"])
        # The agents ran the tests; the sample's .gitignore keeps their bytecode out of the PR.
        assert pr["files"] and not [f for f in pr["files"] if "__pycache__" in f], pr["files"]
        assert pr["check"] == {"ci": "success", "swarm/judge": "success"}
        assert pr["merged"] is True
        assert pr["tested_sha"] and pr["tested_sha"] == pr["landed_sha"]


STALLED = """\
name: stalled
repository:
  name: ada/greet
  files: {greet.py: "x = 1\\n"}
goal: {title: Do nothing}
model:
  agents:
    - match: the planner in Swarm # the model is busy for longer than the scenario waits
      turns: [{error: {status: 429, retry_after: 30, message: slow down}, repeat: 3}]
timeout: 15 # long enough to be planning on a busy machine; the model stays busy for 90 s
expect: {tasks: 1}
"""


def test_a_scenario_that_misses_fails_the_demo_and_says_why(tmp_path: Path) -> None:
    scenario = tmp_path / "stalled.yaml"
    scenario.write_text(STALLED)
    result = swarm_demo("--json", "--scenario", str(scenario))
    assert result.returncode == 1, result.stderr[-3000:]
    assert result.stderr.splitlines() == [
        "swarm demo: stalled: the swarm did not settle in 15 s",
        "swarm demo: stalled: expected tasks: 1, got 0",
    ]
    report = json.loads(result.stdout)
    assert report["scenario"] == "stalled" and report["ok"] is False
    assert report["settled"] is False and report["goal"]["state"] == "planning"
    assert report["expect"] == [{"what": "tasks", "expected": 1, "actual": 0, "ok": False}]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            STALLED + "timeline: [{when: {event: push, match: {ref: '(main'}},"
            " do: {comment: {goal: true, body: x}}}]\n",
            "`timeline[0].when.match`: '(main' is not a valid regex",
        ),
        (STALLED.replace("title: Do nothing", "titel: x"), "`goal.titel` is not a known"),
    ],
)
def test_a_bad_scenario_stops_before_anything_starts(
    tmp_path: Path, text: str, message: str
) -> None:
    scenario = tmp_path / "bad.yaml"
    scenario.write_text(text)
    result = swarm_demo("--scenario", str(scenario))
    assert result.returncode == 2
    assert result.stderr.startswith(f"swarm demo: {scenario}: ") and message in result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""
