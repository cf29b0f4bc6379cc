"""Goals beyond the straight path: plans that wait for `/swarm go`, sub-goals, budgets."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from app import runtime
from app.demo.script import PLAN, SLUG_PY, WORDS_PY, checker_agent, happy_script, judge_agent
from tests.swarm_support import (
    FULL,
    OWNER,
    REPO,
    all_pulls,
    open_goal,
    push_file,
    seeded_stack,
    sub_issue_numbers,
    task_issues,
)


def _comments(octo: Any, number: int) -> list[str]:
    return [c.body or "" for c in octo.rest.issues.list_comments(OWNER, REPO, number).parsed_data]


def test_a_swarm_plan_goal_posts_its_plan_and_waits_for_go(tmp_path: Path) -> None:
    with seeded_stack(tmp_path, happy_script()) as (stack, octo):
        goal = open_goal(octo, label="swarm:plan")
        stack.settle()  # settles while the goal waits for a person
        plan = [c for c in _comments(octo, goal) if "<!-- swarm:plan:" in c]
        assert len(plan) == 1
        for task in PLAN["tasks"]:
            assert str(task["title"]) in plan[0]
        assert task_issues(octo) == [] and all_pulls(octo) == []

        octo.rest.issues.create_comment(OWNER, REPO, goal, body="/swarm go")
        stack.settle()
        assert len(sub_issue_numbers(octo, goal)) == 3
        assert len(all_pulls(octo)) == 3
        assert any("going: the tasks are being created" in c for c in _comments(octo, goal))


def _sub_goal_script() -> dict[str, Any]:
    def call(name: str, **arguments: Any) -> dict[str, Any]:
        return {"tool_calls": [{"name": name, "arguments": arguments}]}

    def task(key: str, title: str, size: str = "S") -> dict[str, Any]:
        return {"key": key, "title": title, "spec": f"{title}.", "acceptance": ["tests pass"],
                "size": size}  # fmt: skip

    def worker(title: str, path: str, content: str) -> dict[str, Any]:
        return {
            "name": f"worker: {title}",
            "match": rf"{title} \(#",
            "turns": [call("write_file", path=path, content=content), call("finish", summary="ok")],
        }

    judges = [
        judge_agent(title, ["tests pass"])
        for title in ("Add word_count", "Add slugify", "Add a CHANGELOG")
    ]
    return {
        "agents": [
            *judges,
            checker_agent(repeat=2),  # the sub-goal's check, then the goal's
            {   # the sub-planner sees the big task's issue as its goal
                "name": "sub-planner",
                "match": (
                    r"(?s)the planner in Swarm.*Goal #\d+, as its issue says:\s+"
                    r"<github-issue id=\S+>\s+Add the text helpers"
                ),
                "turns": [
                    call("submit_plan", tasks=[
                        task("w", "Add word_count"), task("s", "Add slugify"),
                    ]),
                    call("finish", summary="split"),
                ],
            },
            {
                "name": "planner",
                "match": "the planner in Swarm",
                "turns": [
                    call("submit_plan", tasks=[
                        task("big", "Add the text helpers", size="XL"),
                        task("notes", "Add a CHANGELOG"),
                    ]),
                    call("finish", summary="one big, one small"),
                ],
            },
            worker("Add word_count", "textkit/words.py", WORDS_PY),
            worker("Add slugify", "textkit/slug.py", SLUG_PY),
            worker("Add a CHANGELOG", "CHANGELOG.md", "# Changelog\n"),
        ]
    }  # fmt: skip


def test_a_task_too_big_for_one_worker_becomes_a_sub_goal(tmp_path: Path) -> None:
    with seeded_stack(tmp_path, _sub_goal_script()) as (stack, octo):
        goal = open_goal(octo)
        stack.settle()
        issues = {i.title: i.number for i in task_issues(octo)}
        big = issues["Add the text helpers"]
        assert sub_issue_numbers(octo, goal) == sorted([big, issues["Add a CHANGELOG"]])
        assert sub_issue_numbers(octo, big) == sorted(
            [issues["Add word_count"], issues["Add slugify"]]
        )
        titles = sorted(p.title for p in all_pulls(octo))
        assert titles == ["Add a CHANGELOG", "Add slugify", "Add word_count"]  # no PR for "big"
        store = runtime.current().store
        parent = asyncio.run(store.goal(FULL, goal))
        assert parent is not None and parent.state == "done"
        sub = asyncio.run(store.task(FULL, big))  # its own tasks landed: so did it
        assert sub is not None and sub.state == "done"
        assert all(p.merged_at for p in all_pulls(octo))


def test_a_spent_budget_stops_the_goal_and_retry_after_raising_it_goes_on(
    tmp_path: Path,
) -> None:
    tiny = "test_command: python -m pytest -q\nmax_agents: 1\nbudgets:\n  goal_tokens: 20000\n"
    ample = tiny.replace("20000", "1000000")
    with seeded_stack(tmp_path, happy_script()) as (stack, octo):
        token = stack.control.create_user("octo-pusher")["token"]
        stack.control.set_permission(OWNER, REPO, "octo-pusher", "write")
        push_file(stack, token, ".github/swarm.yml", tiny, "Tiny budget")
        goal = open_goal(octo)
        stack.settle()
        status = next(c for c in _comments(octo, goal) if "<!-- swarm:status:" in c)
        assert "budget spent" in status
        assert "goal's budget of 20,000 tokens is spent" in status
        assert 0 < len(all_pulls(octo)) < 3

        push_file(stack, token, ".github/swarm.yml", ample, "More budget")
        octo.rest.issues.create_comment(OWNER, REPO, goal, body="/swarm retry")
        stack.settle()
        assert len(all_pulls(octo)) == 3
        status = next(c for c in _comments(octo, goal) if "<!-- swarm:status:" in c)
        assert "Swarm status: done" in status


def test_retry_after_an_invalid_config_plans_the_goal(tmp_path: Path) -> None:
    with seeded_stack(tmp_path, happy_script()) as (stack, octo):
        token = stack.control.create_user("octo-pusher")["token"]
        stack.control.set_permission(OWNER, REPO, "octo-pusher", "write")
        push_file(stack, token, ".github/swarm.yml", "max_agents: lots\n", "Broken config")
        goal = open_goal(octo)
        stack.settle()
        status = next(c for c in _comments(octo, goal) if "<!-- swarm:status:" in c)
        assert "Swarm status: invalid config" in status and "`max_agents`" in status
        assert task_issues(octo) == [] and all_pulls(octo) == []

        push_file(stack, token, ".github/swarm.yml", "max_agents: 2\n", "Fixed config")
        octo.rest.issues.create_comment(OWNER, REPO, goal, body="/swarm retry")
        stack.settle()
        # The retry planned (the first run never did), then worked: no claim without its PRs.
        assert len(sub_issue_numbers(octo, goal)) == 3
        assert len(all_pulls(octo)) == 3
        status = next(c for c in _comments(octo, goal) if "<!-- swarm:status:" in c)
        assert "Swarm status: done" in status


def test_a_repository_can_bring_its_own_agent_cli(tmp_path: Path) -> None:
    config = "worker_command: head -n 5 {prompt_file} > TASK.txt\n"
    with seeded_stack(tmp_path, happy_script()) as (stack, octo):
        token = stack.control.create_user("octo-pusher")["token"]
        stack.control.set_permission(OWNER, REPO, "octo-pusher", "write")
        push_file(stack, token, ".github/swarm.yml", config, "Use our own agent")
        open_goal(octo)
        stack.settle()
        pulls = all_pulls(octo)
        assert len(pulls) == 3
        assert stack.models is not None
        agents = {r["agent"] for r in stack.models.requests()}
        assert not any(a.startswith("worker") for a in agents)  # no worker model: the CLI
        for pr in pulls:
            files = [
                f.filename for f in octo.rest.pulls.list_files(OWNER, REPO, pr.number).parsed_data
            ]
            assert files == ["TASK.txt"]
            written = octo.rest.repos.get_content(OWNER, REPO, "TASK.txt", ref=pr.head.sha).json()
            import base64

            assert pr.title in base64.b64decode(written["content"]).decode()
