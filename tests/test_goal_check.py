"""A goal that finishes: once every task has landed, the goal's checker looks at main as it is
then; a gap it finds is planned as a new sub-issue, worked, gated and landed like the others, and
checked again — within the repository's `goal_checks`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from app.demo.script import final_worker, happy_script, judge_agent
from tests.swarm_support import (
    OWNER,
    REPO,
    all_pulls,
    open_goal,
    seeded_stack,
    sub_issue_numbers,
    task_issues,
)
from tests.test_merge_gate import rows

CHANGELOG = "# Changelog\n\n- word_count(text) and slugify(text).\n"
CHANGELOG_TASK = {
    "key": "changelog",
    "title": "Add a CHANGELOG",
    "spec": "Add CHANGELOG.md naming the two new helpers.",
    "acceptance": ["CHANGELOG.md names word_count and slugify"],
    "files": ["CHANGELOG.md"],
    "size": "S",
}
NO_CHANGELOG = {
    "criterion": "the change log names the new helpers",
    "met": False,
    "evidence": "read_file CHANGELOG.md: not found",
}


def _call(name: str, **arguments: Any) -> dict[str, Any]:
    return {"tool_calls": [{"name": name, "arguments": arguments}]}


def _script(checker_turns: list[dict[str, Any]]) -> dict[str, Any]:
    script = happy_script()
    others = [a for a in script["agents"] if a["name"] != "goal checker"]
    checker = {"name": "goal checker", "match": "Swarm's goal checker", "turns": checker_turns}
    changelog = [
        judge_agent(CHANGELOG_TASK["title"], CHANGELOG_TASK["acceptance"]),
        final_worker(CHANGELOG_TASK["title"], {"CHANGELOG.md": CHANGELOG}),
    ]
    return {"agents": [checker, *others, *changelog]}


def _finds_no_changelog() -> list[dict[str, Any]]:
    """The checker's first look: the tests pass on main, but there is no change log."""
    return [
        _call("run", command="python -m pytest -q"),
        {"expect": r"\d+ passed", **_call("read_file", path="CHANGELOG.md")},
        _call("submit_goal_check", criteria=[NO_CHANGELOG], summary="No change log yet.",
              tasks=[CHANGELOG_TASK]),
        _call("finish", summary="One task left."),
    ]  # fmt: skip


def test_a_gap_the_check_finds_is_planned_landed_and_checked_again(tmp_path: Path) -> None:
    met = {**NO_CHANGELOG, "met": True, "evidence": "CHANGELOG.md:3 names both"}
    second_look = [
        # It is told what landed, the new task among them, and sees it on main.
        {"expect": r"`changelog`: #\d+ Add a CHANGELOG",
         **_call("read_file", path="CHANGELOG.md")},
        {"expect": "word_count\\(text\\) and slugify",
         **_call("submit_goal_check", criteria=[met], summary="The goal is met.")},
        _call("finish", summary="Met."),
    ]  # fmt: skip
    with seeded_stack(tmp_path, _script(_finds_no_changelog() + second_look)) as (stack, octo):
        goal_number = open_goal(octo)
        stack.settle()

        goal, tasks = rows(goal_number)
        assert goal.state == "done", (goal.note, [(t.number, t.state, t.note) for t in tasks])
        assert [t.key for t in tasks] == ["words", "slug", "docs", "changelog"]
        assert all(t.state == "done" and t.landed_sha == t.tested_sha for t in tasks)
        changelog = tasks[-1]
        # A sub-issue of the goal like the others, whose pull request landed.
        assert sub_issue_numbers(octo, goal_number) == sorted(t.number for t in tasks)
        assert all(pr.merged_at is not None for pr in all_pulls(octo))
        landed = octo.rest.repos.get_content(OWNER, REPO, "CHANGELOG.md", ref="main").parsed_data
        assert changelog.pr_number and getattr(landed, "path", "") == "CHANGELOG.md"
        # The goal is closed with the check that found it met.
        assert octo.rest.issues.get(OWNER, REPO, goal_number).parsed_data.state == "closed"
        comments = octo.rest.issues.list_comments(OWNER, REPO, goal_number).parsed_data
        (summary,) = [c.body or "" for c in comments if "<!-- swarm:summary:" in (c.body or "")]
        assert "1 of 1 criteria met" in summary and "CHANGELOG.md:3 names both" in summary


def test_past_its_checks_a_goal_with_a_gap_is_incomplete_and_says_what(tmp_path: Path) -> None:
    with seeded_stack(tmp_path, _script(_finds_no_changelog())) as (stack, octo):
        stack.control.push_files(
            OWNER, REPO, "main", OWNER, {".github/swarm.yml": "goal_checks: 1\n"},
            message="One check",
        )  # fmt: skip
        goal_number = open_goal(octo)
        stack.settle()

        goal, tasks = rows(goal_number)
        assert goal.state == "incomplete"
        assert "found unmet: the change log names the new helpers" in goal.note
        assert "check 1 of 1" in goal.note
        assert [t.key for t in tasks] == ["words", "slug", "docs"]  # nothing more planned
        assert "Add a CHANGELOG" not in {i.title for i in task_issues(octo)}
        assert octo.rest.issues.get(OWNER, REPO, goal_number).parsed_data.state == "open"
