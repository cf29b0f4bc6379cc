"""The foundation's handlers against the simulator: installation labels, the goal trigger,
and GitHub failing under the swarm (5xx, secondary rate limits) without double-creating."""

from __future__ import annotations

import asyncio
from pathlib import Path

from app import runtime
from app.demo.script import happy_script
from app.github.ops import SWARM_LABELS
from tests.swarm_support import (
    FULL,
    OWNER,
    REPO,
    all_pulls,
    open_goal,
    seeded_stack,
    sub_issue_numbers,
    task_issues,
    user_client,
)


def test_installing_the_app_creates_the_swarm_labels(tmp_path: Path) -> None:
    with seeded_stack(tmp_path, {"agents": []}) as (_stack, octo):
        labels = {
            label.name for label in octo.rest.issues.list_labels_for_repo(OWNER, REPO).parsed_data
        }
        assert set(SWARM_LABELS) <= labels


def test_a_writer_s_label_is_acknowledged_and_recorded_as_a_goal(tmp_path: Path) -> None:
    with seeded_stack(tmp_path, {"agents": []}) as (stack, _octo):
        writer = user_client(stack, "wendy", "write")
        issue = writer.rest.issues.create(OWNER, REPO, title="Make it faster").parsed_data
        writer.rest.issues.add_labels(OWNER, REPO, issue.number, labels=["swarm"])
        stack.settle()
        reactions = writer.rest.reactions.list_for_issue(OWNER, REPO, issue.number).parsed_data
        assert [(r.content, r.user.login if r.user else "") for r in reactions] == [
            ("eyes", "swarm[bot]")
        ]
        goal = asyncio.run(runtime.current().store.goal(FULL, issue.number))
        assert goal is not None and goal.requested_by == "wendy"
        # The scripted model has no planner: the goal says so instead of pretending.
        assert goal.state == "failed" and "No plan" in goal.note


def test_github_failing_mid_run_is_retried_and_creates_nothing_twice(tmp_path: Path) -> None:
    with seeded_stack(tmp_path, happy_script()) as (stack, octo):
        issues = rf"^/repos/{OWNER}/{REPO}/issues$"
        stack.control.inject_fault(issues, 502, method="POST", count=1)
        stack.control.inject_fault(
            rf"^/repos/{OWNER}/{REPO}/pulls$", 403, method="POST", count=1, retry_after=1,
            message="You have exceeded a secondary rate limit. Please wait a few minutes.",
        )  # fmt: skip
        goal = open_goal(octo)
        stack.settle()
        # Both faults were met, and the swarm went on past them.
        assert [(f["status"], f["hits"], f["remaining"]) for f in stack.control.faults()] == [
            (502, 1, 0),
            (403, 1, 0),
        ]
        assert len(task_issues(octo)) == 3
        assert len(sub_issue_numbers(octo, goal)) == 3
        assert len(all_pulls(octo)) == 3


def test_a_planner_that_cannot_run_is_reported_on_the_goal(tmp_path: Path) -> None:
    overrides = {"SWARM_PLANNER_MODEL": "mystery/model-9"}
    with seeded_stack(tmp_path, happy_script(), overrides=overrides) as (stack, octo):
        goal = open_goal(octo)
        stack.settle()
        comments = octo.rest.issues.list_comments(OWNER, REPO, goal).parsed_data
        status = next(c.body or "" for c in comments if "<!-- swarm:status:" in (c.body or ""))
        assert "Swarm status: failed" in status
        assert "The planner failed" in status and "mystery/model-9" in status
        assert task_issues(octo) == []
