"""`swarm demo`: a scenario played on the simulator with a scripted model, no keys needed.

Without `--scenario` it plays the built-in one (scenarios/textkit.yaml). A `Player` seeds the
scenario's repository and people into the GitHub simulator, opens and labels the goal, then
watches the simulator's webhook deliveries while the swarm works, firing the timeline's actions
on the deliveries they wait for, until everything has settled; `collect` reads back what the
swarm made through the API and checks the scenario's `expect:`.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from githubkit import GitHub
from rich.console import Console, Group
from rich.live import Live
from rich.panel import Panel
from rich.table import Table

from app import runtime
from app.demo.actions import Stage, perform
from app.demo.expect import Outcome, check
from app.demo.scenario import Entry, LoadedScenario, load_builtin
from app.demo.stack import LocalStack, remove_stack_files, temporary_stack
from app.demo.timeline import Timeline
from app.flows.render import STATE_ICONS
from app.simulator.github.control import SimulatorControl
from app.store import Goal, Task

SAMPLE = Path(__file__).parent / "sample"
OWNER, REPO = "octo", "textkit"  # the built-in scenario's repository
IGNORED_SOURCE = shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache", ".git")

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
    scenario: str = "textkit"
    timeline: list[dict[str, Any]] = field(default_factory=list)
    expectations: list[Outcome] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    unsettled: str | None = None  # why the run stopped before everything had settled
    main_tests_passed: bool | None = None  # CI on the base branch's tip, once all landed
    conflicts_resolved: int = 0  # conflicts with main an agent resolved, in tasks that landed
    judge_verdicts: int = 0  # verdicts the judge posted (a review each)
    ci_runs: int = 0  # CI runs the gate waited for: candidates and re-runs

    def failures(self) -> list[str]:
        """What went other than the scenario says: no settling, expectations missed, actions
        that failed."""
        failures = [self.unsettled] if self.unsettled else []
        failures += [
            f"expected {o.what}: {o.expected}, got {o.actual}"
            for o in self.expectations
            if not o.ok
        ]
        failures += [
            f"action {e['name']!r} failed: {e['error']}" for e in self.timeline if e["error"]
        ]
        return failures

    @property
    def ok(self) -> bool:
        return not self.failures()

    def as_json(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario,
            "goal": self.goal,
            "tasks": self.tasks,
            "pull_requests": self.pull_requests,
            "timeline": self.timeline,
            "expect": [outcome.as_json() for outcome in self.expectations],
            "ok": self.ok,
            "settled": self.unsettled is None,
            "warnings": self.warnings,
            "main_tests_passed": self.main_tests_passed,
            "conflicts_resolved": self.conflicts_resolved,
            "judge_verdicts": self.judge_verdicts,
            "ci_runs": self.ci_runs,
            "wall_seconds": round(self.wall_seconds, 2),
            "model_requests": self.model_requests,
            "simulated": {"github": True, "model": "scripted"},
        }


class Player:
    """One scenario on a started stack: seed it, play it until it settles, collect the result."""

    def __init__(self, stack: LocalStack, scenario: LoadedScenario) -> None:
        self.stack = stack
        self.scenario = scenario
        self.spec = scenario.spec
        self.warnings: list[str] = []
        self.timeline = Timeline(self.spec.timeline, self._act)
        self._stage: Stage | None = None

    @property
    def stage(self) -> Stage:
        assert self._stage is not None, "seed() first"
        return self._stage

    @property
    def full_name(self) -> str:
        return self.spec.repository.name

    def client(self, login: str | None = None) -> GitHub:
        """The API as one of the scenario's people (the maintainer by default)."""
        return self.stage.client(login)

    # seeding ------------------------------------------------------------------------------------
    def seed(self) -> int:
        """The repository with the App installed, its people, and the goal labelled; the
        timeline's `start` entries fire. Returns the goal's number."""
        control = self.stack.control
        repo = self.spec.repository
        people = self.spec.people()
        tokens = {login: control.create_user(login).token for login in people}
        created = control.create_repo(
            owner=repo.owner,
            name=repo.repo,
            source_dir=self._tree(),
            ci_command=repo.ci_command or f"{sys.executable} -m pytest -q",
            **self._ci_options(control),
        )
        for login, permission in people.items():
            if login != repo.owner:
                control.set_permission(repo.owner, repo.repo, login, permission)
        self.stack.settle()  # the installation webhooks: the swarm creates its labels
        self.timeline.cursor = max((int(d["id"]) for d in control.deliveries()), default=0)
        assert self.stack.simulator is not None
        api = self.stack.simulator.url
        maintainer = GitHub(tokens[self.spec.maintainer], base_url=api + "/")
        goal = self.spec.goal
        issue = maintainer.rest.issues.create(
            repo.owner, repo.repo, title=goal.title, body=goal.body
        ).parsed_data
        maintainer.rest.issues.add_labels(repo.owner, repo.repo, issue.number, labels=goal.labels)
        self._stage = Stage(
            api_url=api,
            full_name=self.full_name,
            clone_url=created.clone_url,
            default_branch=created.default_branch,
            goal=issue.number,
            maintainer=self.spec.maintainer,
            tokens=tokens,
            control=control,
            workdir=self.stack.root / "people",
        )
        self.timeline.start()
        return issue.number

    def _tree(self) -> Path | None:
        """The repository's first commit as a directory: `source`, then `files` and `config`."""
        repo = self.spec.repository
        source = self.scenario.source_dir
        if source is None and not repo.files and repo.config is None:
            return None
        tree = self.stack.root / "repository"
        if source is not None:
            shutil.copytree(source, tree, ignore=IGNORED_SOURCE)
        tree.mkdir(exist_ok=True)
        files = dict(repo.files)
        if repo.config is not None:
            files[".github/swarm.yml"] = repo.config
        for path, content in files.items():
            (tree / path).parent.mkdir(parents=True, exist_ok=True)
            (tree / path).write_text(content)
        return tree

    def _ci_options(self, control: SimulatorControl) -> dict[str, Any]:
        return {"ci_branches": list(self.spec.repository.ci_branches)}

    # playing ------------------------------------------------------------------------------------
    def _act(self, entry: Entry, delivery: dict[str, Any] | None) -> str:
        return perform(self.stage, entry, delivery)

    def watch(self) -> None:
        """Fire what the deliveries since the last look trigger (no look when nothing waits)."""
        if any(state.fired is None for state in self.timeline.entries):
            self.timeline.see(self.stack.control.deliveries(since=self.timeline.cursor))

    def play(
        self, timeout: float = 600.0, tick: Callable[[], None] = lambda: None, every: float = 0.2
    ) -> None:
        """Until the swarm has settled and the last look at the deliveries fired nothing more;
        `tick` is called every `every` seconds meanwhile (the progress view)."""
        deadline = time.monotonic() + timeout
        while True:
            fired = self.timeline.fired_count
            try:
                self._settle(deadline - time.monotonic(), tick, every)
            except TimeoutError:
                raise TimeoutError(f"the swarm did not settle in {timeout:g} s") from None
            self.watch()  # what arrived as it settled
            tick()
            if self.timeline.fired_count == fired:
                return

    def _settle(self, timeout: float, tick: Callable[[], None], every: float) -> None:
        done = threading.Event()
        failure: list[BaseException] = []

        def settle() -> None:
            try:
                self.stack.settle(timeout=timeout)
            except BaseException as exc:
                failure.append(exc)
            finally:
                done.set()

        threading.Thread(target=settle, daemon=True).start()
        while not done.wait(every):
            self.watch()
            tick()
        if failure:
            raise failure[0]

    # the result ---------------------------------------------------------------------------------
    def snapshot(self) -> tuple[Goal | None, list[Task]]:
        return snapshot(self.stage.goal, self.full_name)

    def collect(self) -> DemoResult:
        """What the swarm made, read back through the GitHub API as the maintainer sees it, and
        the scenario's expectations checked against it."""
        result = collect(self.client(), self.stage.goal, self.full_name)
        result.scenario = self.scenario.name
        result.timeline = self.timeline.as_json()
        result.warnings = list(self.warnings)
        result.expectations = check(self.spec.expect, result.as_json())
        return result


def seed(stack: LocalStack) -> tuple[GitHub, int]:
    """The built-in scenario seeded on a started stack: the maintainer's client and the goal."""
    player = Player(stack, load_builtin())
    goal = player.seed()
    return player.client(), goal


def snapshot(
    goal_number: int, full_name: str = f"{OWNER}/{REPO}"
) -> tuple[Goal | None, list[Task]]:
    store = runtime.current().store

    async def read() -> tuple[Goal | None, list[Task]]:
        goal = await store.goal(full_name, goal_number)
        return goal, await store.tasks_of(full_name, goal_number)

    return asyncio.run(read())


def progress_view(
    goal: Goal | None, tasks: list[Task], elapsed: float, timeline: Timeline | None = None
) -> Panel:
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
    parts: list[Any] = [table]
    if timeline is not None and timeline.entries:
        parts.append(timeline_table(timeline.as_json()))
    state = goal.state.replace("_", " ") if goal else "waiting for the label event"
    title = f"goal #{goal.number if goal else '?'}: {state} · {elapsed:.1f} s"
    return Panel(Group(*parts), title=title, subtitle="simulated GitHub · scripted model")


def timeline_table(entries: list[dict[str, Any]]) -> Table:
    table = Table(title="timeline", expand=True)
    for column in ("entry", "action", "fired", "what it did"):
        table.add_column(column)
    for entry in entries:
        at = f"delivery {entry['delivery']}" if entry["delivery"] else "at start"
        table.add_row(
            entry["name"],
            entry["action"],
            at if entry["fired"] else "no",
            f"failed: {entry['error']}" if entry["error"] else entry["did"] or "—",
        )
    return table


def run_demo(
    *,
    as_json: bool = False,
    keep: bool = False,
    timeout: float | None = None,
    scenario: LoadedScenario | None = None,
) -> DemoResult:
    """Play a scenario (the built-in one by default) on a fresh local stack, and report it:
    what it reached, also when it did not settle within its timeout."""
    scenario = scenario or load_builtin()
    unsettled: str | None = None
    console = Console(stderr=as_json)
    if not as_json:
        about = f"\n\nScenario [bold]{scenario.name}[/]"
        if scenario.spec.description:
            about += f": {scenario.spec.description}"
        console.print(Panel(HONESTY + about, title="swarm demo"))
    stack = temporary_stack(scenario.model_script())
    started = time.monotonic()
    try:
        with stack:
            player = Player(stack, scenario)
            player.seed()
            for warning in player.warnings:
                console.print(f"[yellow]warning:[/] {warning}")
            with Live(console=console, refresh_per_second=8, transient=as_json) as live:

                def tick() -> None:
                    view = progress_view(
                        *player.snapshot(), time.monotonic() - started, player.timeline
                    )
                    live.update(view)

                try:
                    player.play(timeout=timeout or scenario.spec.timeout, tick=tick)
                except TimeoutError as exc:
                    unsettled = str(exc)
            result = player.collect()
            result.unsettled = unsettled
            if unsettled:  # the swarm stops mid-work: what it logs about that is expected
                logging.disable(logging.ERROR)
            result.kept_files = stack.root if keep else None
            result.wall_seconds = time.monotonic() - started
            result.model_requests = len(stack.models.requests()) if stack.models else 0
    finally:
        logging.disable(logging.NOTSET)
        if keep:
            console.print(f"files kept in {stack.root}")
        else:
            remove_stack_files(stack)
    if not as_json:
        print_summary(console, result)
    return result


def collect(octo: GitHub, goal_number: int, full_name: str = f"{OWNER}/{REPO}") -> DemoResult:
    """What the swarm made, read back through the GitHub API as the maintainer sees it."""
    owner, repo = full_name.split("/", 1)
    goal, tasks = snapshot(goal_number, full_name)
    result = DemoResult(
        goal={
            "number": goal_number,
            "state": goal.state if goal else "missing",
            "note": goal.note if goal else "",  # how it ended: its check, or what is missing
        }
    )
    subs: list[Any] = list(octo.rest.issues.list_sub_issues(owner, repo, goal_number).parsed_data)
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
        pr = octo.rest.pulls.get(owner, repo, task.pr_number).parsed_data
        # The checks of what landed (the tested candidate), else of the pull request's head.
        checked = task.tested_sha or pr.head.sha
        runs = octo.rest.checks.list_for_ref(owner, repo, checked).parsed_data.check_runs
        files: list[Any] = list(octo.rest.pulls.list_files(owner, repo, pr.number).parsed_data)
        reviews: list[Any] = list(octo.rest.pulls.list_reviews(owner, repo, pr.number).parsed_data)
        result.judge_verdicts += sum(1 for r in reviews if r.user and r.user.type == "Bot")
        result.pull_requests.append(
            {
                "number": pr.number,
                "title": pr.title,
                "head_sha": pr.head.sha,
                "files": sorted(f.filename for f in files),
                "check": {run.name: run.conclusion for run in runs},
                "check_conclusion": _overall(r.conclusion for r in runs),
                "merged": bool(pr.merged),
                "tested_sha": task.tested_sha or None,
                "landed_sha": task.landed_sha or None,
                "rounds": task.rounds,
                "flakes": task.flakes,
            }
        )
    result.ci_runs = sum(t.ci_runs for t in tasks)
    result.conflicts_resolved = sum(t.conflicts for t in tasks if t.state == "done")
    if tasks and all(t.state == "done" for t in tasks):
        base = octo.rest.repos.get(owner, repo).parsed_data.default_branch
        tip = octo.rest.git.get_ref(owner, repo, f"heads/{base}").parsed_data.object_.sha
        tip_runs = octo.rest.checks.list_for_ref(owner, repo, tip).parsed_data.check_runs
        ci = [r.conclusion for r in tip_runs if r.name != "swarm/judge"]
        result.main_tests_passed = bool(ci) and all(c == "success" for c in ci)
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
    for column in ("sub-issue", "state", "pull request", "rounds", "tested", "landed", "merged"):
        table.add_column(column)
    prs = {pr["number"]: pr for pr in result.pull_requests}
    for task in result.tasks:
        pr = prs.get(task["pull_request"] or -1, {})
        table.add_row(
            f"#{task['issue']} {task['title']}",
            task["state"],
            f"#{pr['number']}" if pr else "—",
            str(pr.get("rounds", "—")),
            (pr.get("tested_sha") or "")[:10] or "—",
            (pr.get("landed_sha") or "")[:10] or "—",
            "yes" if pr.get("merged") else "no",
        )
    console.print(table)
    if result.goal.get("note"):
        console.print(f"goal #{result.goal['number']}: {result.goal['note']}", highlight=False)
    if result.unsettled:
        console.print(f"[red]{result.unsettled}: this is where it was[/]")
    if result.timeline:
        console.print(timeline_table(result.timeline))
    for outcome in result.expectations:
        style = "green" if outcome.ok else "red"
        console.print(f"[{style}]{outcome.line()}[/]", highlight=False)
    console.print(
        f"{len(result.tasks)} sub-issues, {len(result.pull_requests)} pull requests, "
        f"{result.ci_runs} CI runs, {result.judge_verdicts} judge verdicts, "
        f"{result.conflicts_resolved} conflicts resolved by an agent, "
        f"{result.model_requests} scripted model requests, {result.wall_seconds:.1f} s."
    )
    if result.main_tests_passed is not None:
        verdict = "pass" if result.main_tests_passed else "[red]FAIL[/]"
        console.print(f"main's tests at its tip, after every landing: {verdict}")
