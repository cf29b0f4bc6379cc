"""The merge train on the real stack (the GitHub simulator with CI on `swarm/gate/**`, the
scripted model, the real swarm in-process): pull requests join the train as soon as their gate
starts judging them, candidates are built on one another and tested at once, and the base moves
only to a candidate that passed — landing every pull request in it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from githubkit import GitHub

from app.demo.run import snapshot
from app.store import Task
from tests.swarm_support import OWNER, REPO, open_goal, requests_of, seeded_stack, wait_for
from tests.test_merge_gate import rows, task_row
from tests.test_merge_gate_many import (
    ci_conclusions,
    files,
    first_parents,
    main_sha,
    many_script,
    worker_agent,
)


def train_config(*, approval: bool = False) -> str:
    return (
        "test_command: python -m pytest -q\n"
        "max_agents: 4\n"
        f"require_human_approval: {str(approval).lower()}\n"
        "gate:\n  train:\n    enabled: true\n    window: 4\n    batch: 1\n"
    )


def describe(tasks: list[Task]) -> list[tuple[str, str, str, int, int, int]]:
    return [(t.key, t.state, t.note, t.ci_runs, t.rounds, t.flakes) for t in tasks]


def start(stack: Any, octo: GitHub, config: str) -> tuple[str, int]:
    stack.control.push_files(
        OWNER, REPO, "main", OWNER, {".github/swarm.yml": config}, message="A merge train"
    )
    stack.settle()  # its CI run on main, out of the way
    return main_sha(octo), 0


def test_a_train_tests_its_candidates_at_once_and_lands_them_in_one_fast_forward(
    tmp_path: Path,
) -> None:
    """Four pull requests, held for a maintainer's approval: each joins the train and CI runs
    on its candidate (the base with every pull request ahead of it merged in) while it waits.
    Approved last to first, the deepest candidate lands all four at once: main moves by one
    commit, the one that passed, and each pull request was tested once."""
    with seeded_stack(tmp_path, many_script(4)) as (stack, octo):
        base, _ = start(stack, octo, train_config(approval=True))
        goal = open_goal(octo)

        def judged_and_green() -> list[Task] | None:
            _, tasks = snapshot(goal)
            ready = [t for t in tasks if t.ci == "success" and "approval" in t.note]
            return tasks if len(tasks) == 4 and len(ready) == 4 else None

        tasks = wait_for(judged_and_green, "four candidates green, judged", timeout=600)
        assert main_sha(octo) == base  # nothing lands without approval
        # Candidate i contains pull requests 1…i: each is built on the one ahead of it.
        ordered = sorted(tasks, key=lambda t: _depth(octo, t.candidate_sha, base))
        assert [_depth(octo, t.candidate_sha, base) for t in ordered] == [1, 2, 3, 4]
        for task in reversed(ordered):
            octo.rest.pulls.create_review(OWNER, REPO, task.pr_number or 0, event="APPROVE")
            if task is not ordered[0]:
                wait_for(lambda t=task: "approved" in task_row(goal, t.key).note, "approval")
        stack.settle(timeout=600)

        goal_row, tasks = rows(goal)
        assert goal_row.state == "done", (goal_row.note, describe(tasks))
        landed = {t.landed_sha for t in tasks}
        assert len(landed) == 1, describe(tasks)  # one landing for the four
        (tip,) = landed
        assert tip == ordered[-1].candidate_sha == main_sha(octo)
        assert all(t.tested_sha == tip and t.ci_runs == 1 for t in tasks), describe(tasks)
        assert first_parents(octo, tip, base) == [tip, *_ahead(ordered)]
        assert set(ci_conclusions(octo, tip)) == {"success"}
        for task in tasks:
            pull = octo.rest.pulls.get(OWNER, REPO, task.pr_number or 0).parsed_data
            assert pull.merged_at is not None, task.pr_number


def test_a_flake_is_rerun_and_a_real_failure_is_handed_back_without_blaming_the_others(
    tmp_path: Path,
) -> None:
    """Every candidate's first CI run fails (a flake: its re-run passes), and task 2's first
    version breaks its own test. The flakes cost a re-run each and eject no one; task 2's
    candidate fails again on its re-run, so it is handed back with the log and the pull
    requests it was tested with, fixed, and lands; the others never leave the train."""
    broken = {
        **files(2),
        "textkit/m02.py": '"""Module m02."""\n\n\ndef value() -> int:\n    return 0\n',
    }
    custom = many_script(3, t02=worker_agent(2, broken, files(2)))
    overrides = {"SWARM_GATE_POLL_SECONDS": "0.5"}
    with seeded_stack(tmp_path, custom, overrides=overrides) as (stack, octo):
        base, _ = start(stack, octo, train_config())
        stack.control.set_flake(OWNER, REPO, branches=["swarm/gate/*"])
        goal = open_goal(octo)
        stack.settle(timeout=600)

        goal_row, tasks = rows(goal)
        assert goal_row.state == "done", (goal_row.note, describe(tasks))
        by_key = {t.key: t for t in tasks}
        assert by_key["t02"].rounds == 1, describe(tasks)  # the culprit, handed back once
        assert by_key["t01"].rounds == by_key["t03"].rounds == 0, describe(tasks)  # no innocent
        # Each candidate that is a new commit flakes once: all but the first pull request's,
        # which is its own head when nothing landed before it (its first run was on its branch).
        assert sum(t.flakes for t in tasks) >= 2, describe(tasks)
        for task in tasks:
            assert task.landed_sha and task.landed_sha == task.tested_sha, describe([task])
        # Its worker was told why, with the log and the pull requests it was tested with.
        told = json.dumps([r["body"] for r in requests_of(stack, "worker: Add module m02")])
        assert "Why: CI failed twice on the train's candidate" in told
        assert "Check `ci`: failure" in told  # the failing check's log came with it
        for sha in first_parents(octo, main_sha(octo), base):
            assert set(ci_conclusions(octo, sha)) >= {"success"}, sha


def _depth(octo: GitHub, sha: str, base: str) -> int:
    """How many merges a candidate is above `base`, along first parents."""
    return len(first_parents(octo, sha, base))


def _ahead(ordered: list[Task]) -> list[str]:
    """The candidates below the deepest one, deepest first: main's first-parent line."""
    return [t.candidate_sha for t in reversed(ordered[:-1])]


def test_candidates_that_ci_never_runs_on_are_blocked_naming_the_ci_line_to_add(
    tmp_path: Path,
) -> None:
    """CI runs on pull requests and on pushes to main, not on `swarm/gate/**`. The first pull
    request's candidate is its own head (it contains main), which CI tested as a pull request:
    it lands. The second's candidate is a new merge commit that no check ever runs on: once
    `gate.check_timeout_minutes` pass it is blocked with the reason (no worker could fix it),
    and the goal ends incomplete."""
    overrides = {"SWARM_GATE_POLL_SECONDS": "0.5"}
    config = train_config() + "  check_timeout_minutes: 0.02\n"
    with seeded_stack(tmp_path, many_script(2), overrides=overrides, ci_branches=["main"]) as (
        stack,
        octo,
    ):
        start(stack, octo, config)
        goal = open_goal(octo)
        stack.settle(timeout=600)

        goal_row, tasks = rows(goal)
        assert goal_row.state == "incomplete", (goal_row.note, describe(tasks))
        landed, blocked = sorted(tasks, key=lambda t: t.state != "done")
        assert (landed.state, blocked.state) == ("done", "blocked"), describe(tasks)
        assert landed.candidate_sha == landed.head_sha == landed.landed_sha == landed.tested_sha
        assert set(ci_conclusions(octo, landed.landed_sha)) == {"success"}
        assert "does your CI run on pushes to `swarm/gate/**`" in blocked.note, describe(tasks)
        assert blocked.rounds == 0 and not blocked.landed_sha and not blocked.train
        assert ci_conclusions(octo, blocked.candidate_sha) == []  # no check ever ran there
        pull = octo.rest.pulls.get(OWNER, REPO, blocked.pr_number or 0).parsed_data
        assert "swarm:blocked" in {label.name for label in pull.labels}
