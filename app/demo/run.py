"""`swarm demo`: the whole flow on the simulator with a scripted model, no keys needed."""

from __future__ import annotations

import asyncio
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from githubkit import GitHub
from rich.console import Console, Group
from rich.live import Live
from rich.panel import Panel
from rich.table import Table

from app import runtime
from app.demo.script import GOAL_BODY, GOAL_TITLE, demo_script
from app.demo.stack import LocalStack, remove_stack_files, temporary_stack
from app.flows.render import STATE_ICONS
from app.store import Goal, Task

SAMPLE = Path(__file__).parent / "sample"
OWNER, REPO = "octo", "textkit"

HONESTY = (
    "This demo runs Swarm for real — its webhooks, durable workflows, agent loop, sandbox, git "
    "and pull requests — against a [bold]simulated GitHub[/] and a [bold]scripted model[/] "
    "that replays written-down turns. Nothing leaves this machine. To run the same flow on "
    "github.com with real models, see the README: 'Running it for real'."
)


@dataclass
class DemoResult:
    goal: dict[str, Any]
    tasks: list[dict[str, Any]] = field(default_factory=list)
    pull_requests: list[dict[str, Any]] = field(default_factory=list)
    wall_seconds: float = 0.0
    model_requests: int = 0
    kept_files: Path | None = None  # with --keep: the repositories, database and transcripts

    def as_json(self) -> dict[str, Any]:
        return {
            "goal": self.goal,
            "tasks": self.tasks,
            "pull_requests": self.pull_requests,
            "wall_seconds": round(self.wall_seconds, 2),
            "model_requests": self.model_requests,
            "simulated": {"github": True, "model": "scripted"},
        }


def seed(stack: LocalStack) -> tuple[GitHub, int]:
    """The sample repository with the App installed, and the goal issue labelled `swarm`."""
    control = stack.control
    maintainer = control.create_user(OWNER)
    control.create_repo(
        owner=OWNER,
        name=REPO,
        source_dir=str(SAMPLE),
        ci_command=f"{sys.executable} -m pytest -q",
    )
    stack.settle()  # the installation webhooks: the swarm creates its labels
    assert stack.simulator is not None
    octo = GitHub(maintainer["token"], base_url=stack.simulator.url + "/")
    issue = octo.rest.issues.create(OWNER, REPO, title=GOAL_TITLE, body=GOAL_BODY).parsed_data
    octo.rest.issues.add_labels(OWNER, REPO, issue.number, labels=["swarm"])
    return octo, issue.number


def snapshot(goal_number: int) -> tuple[Goal | None, list[Task]]:
    store = runtime.current().store

    async def read() -> tuple[Goal | None, list[Task]]:
        goal = await store.goal(f"{OWNER}/{REPO}", goal_number)
        return goal, await store.tasks_of(f"{OWNER}/{REPO}", goal_number)

    return asyncio.run(read())


def progress_view(goal: Goal | None, tasks: list[Task], elapsed: float) -> Panel:
    table = Table(expand=True)
    for column in ("task", "state", "agent", "pull request", "CI", "tokens"):
        table.add_column(column)
    for task in tasks:
        table.add_row(
            f"#{task.number} {task.title}",
            STATE_ICONS.get(task.state, task.state),
            task.agent or "—",
            f"#{task.pr_number}" if task.pr_number else "—",
            task.ci or "—",
            f"{task.tokens:,}",
        )
    state = goal.state.replace("_", " ") if goal else "waiting for the label event"
    title = f"goal #{goal.number if goal else '?'}: {state} · {elapsed:.1f} s"
    return Panel(Group(table), title=title, subtitle="simulated GitHub · scripted model")


def run_demo(*, as_json: bool = False, keep: bool = False, timeout: float = 600.0) -> DemoResult:
    console = Console(stderr=as_json)
    if not as_json:
        console.print(Panel(HONESTY, title="swarm demo"))
    stack = temporary_stack(demo_script())
    started = time.monotonic()
    try:
        with stack:
            octo, goal_number = seed(stack)
            done = threading.Event()
            failure: list[BaseException] = []

            def settle() -> None:
                try:
                    stack.settle(timeout=timeout)
                except BaseException as exc:
                    failure.append(exc)
                finally:
                    done.set()

            threading.Thread(target=settle, daemon=True).start()
            with Live(console=console, refresh_per_second=8, transient=as_json) as live:
                while not done.wait(0.2):
                    live.update(progress_view(*snapshot(goal_number), time.monotonic() - started))
                live.update(progress_view(*snapshot(goal_number), time.monotonic() - started))
            if failure:
                raise failure[0]
            result = collect(octo, goal_number)
            result.kept_files = stack.root if keep else None
            result.wall_seconds = time.monotonic() - started
            result.model_requests = len(stack.models.requests()) if stack.models else 0
    finally:
        if keep:
            console.print(f"files kept in {stack.root}")
        else:
            remove_stack_files(stack)
    if not as_json:
        print_summary(console, result)
    return result


def collect(octo: GitHub, goal_number: int) -> DemoResult:
    """What the swarm made, read back through the GitHub API as the maintainer sees it."""
    goal, tasks = snapshot(goal_number)
    result = DemoResult(goal={"number": goal_number, "state": goal.state if goal else "missing"})
    subs: list[Any] = list(octo.rest.issues.list_sub_issues(OWNER, REPO, goal_number).parsed_data)
    linked = {issue.number for issue in subs}
    for task in tasks:
        result.tasks.append(
            {
                "issue": task.number,
                "title": task.title,
                "state": task.state,
                "agent": task.agent,
                "sub_issue": task.number in linked,
                "pull_request": task.pr_number,
            }
        )
        if not task.pr_number:
            continue
        pr = octo.rest.pulls.get(OWNER, REPO, task.pr_number).parsed_data
        runs = octo.rest.checks.list_for_ref(OWNER, REPO, pr.head.sha).parsed_data.check_runs
        files: list[Any] = list(octo.rest.pulls.list_files(OWNER, REPO, pr.number).parsed_data)
        result.pull_requests.append(
            {
                "number": pr.number,
                "title": pr.title,
                "head_sha": pr.head.sha,
                "files": sorted(f.filename for f in files),
                "check": {run.name: run.conclusion for run in runs},
                "check_conclusion": _overall(r.conclusion for r in runs),
                "merged": bool(pr.merged),
            }
        )
    return result


def _overall(conclusions: Any) -> str | None:
    values = [c for c in conclusions]
    if not values:
        return None
    if all(c == "success" for c in values):
        return "success"
    return next((c for c in values if c not in {"success", None}), None)


def print_summary(console: Console, result: DemoResult) -> None:
    table = Table(title=f"goal #{result.goal['number']}: {result.goal['state']}")
    for column in ("sub-issue", "state", "pull request", "head", "CI", "merged"):
        table.add_column(column)
    prs = {pr["number"]: pr for pr in result.pull_requests}
    for task in result.tasks:
        pr = prs.get(task["pull_request"] or -1, {})
        table.add_row(
            f"#{task['issue']} {task['title']}",
            task["state"],
            f"#{pr['number']}" if pr else "—",
            pr.get("head_sha", "")[:10] or "—",
            str(pr.get("check_conclusion") or "—"),
            "yes" if pr.get("merged") else "no",
        )
    console.print(table)
    console.print(
        f"{len(result.tasks)} sub-issues, {len(result.pull_requests)} pull requests, "
        f"{result.model_requests} scripted model requests, {result.wall_seconds:.1f} s. "
        "Merging is the merge gate's job (CI + judge), not the demo's."
    )
