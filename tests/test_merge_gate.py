"""The merge gate end to end: the simulator (CI on candidate branches), real git, the scripted
model as workers and judges, the real gate — what lands is what was tested."""

from __future__ import annotations

import asyncio
from pathlib import Path

from app import runtime
from app.demo.script import happy_script
from app.store import Goal, Task
from tests.swarm_support import (
    FULL,
    OWNER,
    REPO,
    all_pulls,
    open_goal,
    seeded_stack,
)


def rows(goal_number: int) -> tuple[Goal, list[Task]]:
    store = runtime.current().store

    async def read() -> tuple[Goal, list[Task]]:
        goal = await store.goal(FULL, goal_number)
        assert goal is not None
        return goal, await store.tasks_of(FULL, goal_number)

    return asyncio.run(read())


def test_every_task_lands_the_commit_that_was_tested_and_the_goal_closes(tmp_path: Path) -> None:
    with seeded_stack(tmp_path, happy_script()) as (stack, octo):
        goal_number = open_goal(octo)
        stack.settle()

        goal, tasks = rows(goal_number)
        assert goal.state == "done", (goal.note, [(t.number, t.state, t.note) for t in tasks])
        assert [t.state for t in tasks] == ["done"] * 3
        main = octo.rest.git.get_ref(OWNER, REPO, "heads/main").parsed_data.object_.sha
        landed = {t.landed_sha for t in tasks}
        assert main in landed
        for task in tasks:
            assert task.landed_sha and task.landed_sha == task.tested_sha
            assert task.verdict == "approved"
            # The tested commit carries green CI and the judge's approval, as check runs.
            runs = octo.rest.checks.list_for_ref(OWNER, REPO, task.tested_sha).parsed_data
            conclusions = {r.name: r.conclusion for r in runs.check_runs}
            assert conclusions == {"ci": "success", "swarm/judge": "success"}
            issue = octo.rest.issues.get(OWNER, REPO, task.number).parsed_data
            assert issue.state == "closed"
        for pr in all_pulls(octo):
            assert pr.merged_at is not None, pr.number
        # Dependencies mean landed: the docs task began from a main that had both modules.
        docs = next(t for t in tasks if t.key == "docs")
        for path in ("textkit/words.py", "textkit/slug.py"):
            octo.rest.repos.get_content(OWNER, REPO, path, ref=docs.head_sha)  # 404 if absent
        # Main is green at its tip, and the goal is closed with its summary.
        tip_runs = octo.rest.checks.list_for_ref(OWNER, REPO, main).parsed_data.check_runs
        assert {(r.name, r.conclusion) for r in tip_runs} >= {("ci", "success")}
        issue = octo.rest.issues.get(OWNER, REPO, goal_number).parsed_data
        assert issue.state == "closed"
        comments = octo.rest.issues.list_comments(OWNER, REPO, goal_number).parsed_data
        summary = [c.body or "" for c in comments if "<!-- swarm:summary:" in (c.body or "")]
        assert len(summary) == 1 and summary[0].count("same commit") == 3
