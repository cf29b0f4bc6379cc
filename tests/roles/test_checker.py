"""The goal's checker: a real session (the OpenAI SDK against the scripted model server, the real
tools in the machine's sandbox, a real repository) checking a goal and planning what is left;
and how a check is validated, as pure functions."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from app.agent.inbox import MemoryInbox
from app.agent.loop import AgentConfig
from app.agent.session import Session
from app.llm import make_model
from app.roles.checker import (
    Checked,
    CheckError,
    LandedTask,
    brief_message,
    check,
    check_from_text,
    validate_check,
)
from app.simulator.models import ScriptedModelServer, start_model_server

NAME = "amber-otter-checker"
MATCH = "Swarm's goal checker"
TEST_COMMAND = "python3 -m unittest -q 2>&1"
LANDED = [LandedTask("add", 3, "Make add() add", 5, "c" * 40)]
GOAL = "Goal #1, as its issue says:\n\nCalculator: add() adds, and sub() subtracts."


def call(name: str, **arguments: Any) -> dict[str, Any]:
    return {"name": name, "arguments": arguments}


def criterion(text: str, met: bool, evidence: str = "calc.py:2") -> dict[str, Any]:
    return {"criterion": text, "met": met, "evidence": evidence}


def task(key: str, title: str = "Add sub()", depends_on: list[str] | None = None) -> dict:
    return {"key": key, "title": title, "spec": "Add sub(a, b) to calc.py, with a test.",
            "acceptance": ["sub(5, 3) == 2"], "files": ["calc.py"],
            "depends_on": depends_on or []}  # fmt: skip


MET = [criterion("add(2, 3) == 5", True), criterion("the tests pass", True, "unittest: OK")]
UNMET = [MET[0], criterion("sub(5, 3) == 2", False, "calc.py has no sub()")]


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "main"
    root.mkdir()
    (root / "calc.py").write_text("def add(a, b):\n    return a + b\n")
    (root / "test_calc.py").write_text(
        "import unittest\n\nfrom calc import add\n\n\n"
        "class T(unittest.TestCase):\n"
        "    def test_add(self):\n        self.assertEqual(add(2, 3), 5)\n"
    )
    for args in (
        ["init", "-q", "-b", "main"],
        ["add", "."],
        ["-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "i"],
    ):
        subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True)
    return root


@pytest.fixture(scope="module")
def server() -> Iterator[ScriptedModelServer]:
    with start_model_server({"agents": []}) as running:
        yield running


async def run_checker(
    server: ScriptedModelServer, repo: Path, tmp_path: Path, turns: list[dict[str, Any]]
) -> tuple[Checked, list[dict[str, Any]]]:
    server.load({"agents": [{"name": "checker", "match": MATCH, "turns": turns}]})
    model = make_model("openai/gpt-5", api_key="test-key", base_url=server.url + "/v1")
    session = Session(
        agent_name=NAME,
        worktree=repo,
        model=model,
        transcript=tmp_path / "checker.jsonl",
        inbox=MemoryInbox(),
        config=AgentConfig(max_turns=20),
    )
    try:
        checked = await check(session, brief_message(GOAL, "main", "a" * 40, LANDED), ["add"])
    finally:
        await model.aclose()
    records = server.requests()
    assert [r["status"] for r in records] == [200] * len(records), [r["error"] for r in records]
    return checked, records


# -- a checker at work ------------------------------------------------------------------------


async def test_a_checker_runs_the_tests_and_finds_the_goal_met(
    server: ScriptedModelServer, repo: Path, tmp_path: Path
) -> None:
    turns = [
        {"expect": "sub\\(\\) subtracts", "tool_calls": [call("run", command=TEST_COMMAND)]},
        {"expect": "Ran 1 test", "tool_calls": [
            call("submit_goal_check", criteria=MET, summary="add() adds.")]},
        {"expect": "check recorded: every criterion met", "tool_calls": [
            call("finish", summary="Met.")]},
    ]  # fmt: skip
    checked, records = await run_checker(server, repo, tmp_path, turns)

    assert checked.session.commands == [TEST_COMMAND]
    assert checked.check is not None and checked.check.met and not checked.check.tasks
    # It reads and runs the tests, and hands in a check; it has no tool to change a file.
    names = {tool["function"]["name"] for tool in records[0]["body"]["tools"]}
    assert names == {"list_files", "read_file", "search", "run", "submit_goal_check", "finish"}
    first = json.dumps(records[0]["body"]["messages"][:2])
    assert "`add`: #3 Make add() add, pull request #5" in first and "a" * 40 in first


async def test_a_gap_is_planned_as_the_remainder_and_a_bad_check_is_sent_back(
    server: ScriptedModelServer, repo: Path, tmp_path: Path
) -> None:
    turns = [
        {"tool_calls": [call("submit_goal_check", criteria=UNMET, summary="no sub()")]},
        {"expect": "not recorded: a criterion is not met: plan the remaining tasks",
         "tool_calls": [call("submit_goal_check", criteria=UNMET, summary="no sub()",
                             tasks=[task("add")])]},
        {"expect": r"task key\(s\) \['add'\] are the goal's earlier tasks'",
         "tool_calls": [call("submit_goal_check", criteria=UNMET, summary="no sub()",
                             tasks=[task("sub", depends_on=["add"])])]},
        {"expect": r"check recorded: 1 task\(s\) left",
         "tool_calls": [call("finish", summary="One task left.")]},
    ]  # fmt: skip
    checked, _ = await run_checker(server, repo, tmp_path, turns)

    found = checked.check
    assert found is not None and not found.met
    assert found.unmet() == ["sub(5, 3) == 2"]
    remainder = found.remainder()
    # The landed task it depends on is not waited for: it is on the base already.
    assert [(t.key, t.depends_on) for t in remainder.tasks] == [("sub", [])]


async def test_a_checker_that_never_hands_in_a_check_has_none(
    server: ScriptedModelServer, repo: Path, tmp_path: Path
) -> None:
    turns = [{"tool_calls": [call("finish", summary="Looks fine to me.")]}] * 4
    checked, records = await run_checker(server, repo, tmp_path, turns)

    assert checked.check is None
    assert any("no check is recorded" in json.dumps(r["body"]) for r in records)


# -- validation ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        ({"criteria": [], "summary": "x"}, "criteria: List should have at least 1 item"),
        ({"criteria": MET, "summary": "x", "tasks": [task("sub")]}, "hand in no tasks"),
        ({"criteria": UNMET, "summary": "x"}, "plan the remaining tasks"),
        ({"criteria": UNMET, "summary": "x", "tasks": [task("add")]}, "earlier tasks'"),
        ({"criteria": UNMET, "summary": "x", "tasks": [task("s", depends_on=["nope"])]},
         "task s depends on unknown task(s) ['nope']"),
        ({"criteria": UNMET, "summary": "x", "tasks": [task("s", depends_on=["s"])]},
         "depends on itself"),
        ({"criteria": [criterion("x", True, "")], "summary": "x"}, "evidence"),
    ],
)  # fmt: skip
def test_invalid_checks_say_what_to_fix(data: dict[str, Any], problem: str) -> None:
    with pytest.raises(CheckError) as raised:
        validate_check(data, ["add"])
    assert problem in str(raised.value)


def test_a_check_from_a_finish_summary() -> None:
    text = "Done. " + json.dumps({"criteria": MET, "summary": "met"})
    found = check_from_text(text, ["add"])
    assert found is not None and found.met
    assert check_from_text("no JSON here", ["add"]) is None
