"""Twenty pull requests against one moving base: each lands or is blocked with a reason, the
tests pass at every landed commit, and every landed sha equals its tested sha.

The real stack (the GitHub simulator with CI on `main` and `swarm/gate/**`, the scripted model,
the real swarm in-process): a planner hands in 20 independent tasks, one scripted worker each
writes its module and test, judges approve, and the merge gate lands them one after another on
a base that every landing moves under the others — and so does a person's push to main, made
once the first pull request has landed, under a candidate built on that landing.
`bench/merge_gate.py` plays the same goal (`many_script`, `play`).
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from githubkit import GitHub

from app.demo.script import checker_agent, judge_agent
from app.demo.stack import LocalStack
from app.store import Task
from tests.swarm_support import OWNER, REPO, open_goal, seeded_stack, wait_for
from tests.test_merge_gate import rows

TASKS = 20
# The sample's own config caps it at 3 agents and 500k tokens a goal; 20 tasks need more tokens.
# Four agents at once: the process's default `SWARM_MAX_AGENTS`, so the repository's cap binds
# no lower than the process's. Pull requests waiting in their gate hold no agent.
CONFIG = """\
test_command: python -m pytest -q
max_agents: 4
budgets:
  goal_tokens: 20000000
"""
HUMAN_FILE = "NOTES.md"  # a person's push to main mid-run, touching nothing the tasks write
HUMAN_TEXT = "# Notes\n\nA maintainer's note, pushed to main while the swarm works.\n"


def module(i: int) -> str:
    return f"m{i:02d}"


def title(i: int) -> str:
    return f"Add module {module(i)}"


def files(i: int) -> dict[str, str]:
    """What task i's worker writes: a module of the sample's package and its test."""
    name = module(i)
    return {
        f"textkit/{name}.py": f'"""Module {name}."""\n\n\ndef value() -> int:\n    return {i}\n',
        f"tests/test_{name}.py": (
            f"from textkit.{name} import value\n\n\ndef test_value() -> None:\n"
            f"    assert value() == {i}\n"
        ),
    }


def acceptance(i: int) -> list[str]:
    return [f"textkit.{module(i)}.value() returns {i}", "python -m pytest -q passes"]


def _call(name: str, **arguments: Any) -> dict[str, Any]:
    return {"name": name, "arguments": arguments}


def _turn(*calls: dict[str, Any]) -> dict[str, Any]:
    return {"tool_calls": list(calls)}


def worker_agent(i: int, *rounds: dict[str, str]) -> dict[str, Any]:
    """Task i's scripted worker: one run per set of files it writes (the first run's, then one
    per hand-back), each running the tests before it finishes."""
    turns = []
    for written in rounds or (files(i),):
        turns += [
            _turn(*(_call("write_file", path=p, content=c) for p, c in written.items())),
            _turn(_call("run", command="python -m pytest -q")),
            _turn(_call("finish", summary=f"Done: {title(i)}; pytest passes.")),
        ]
    return {"name": f"worker: {title(i)}", "match": f"{re.escape(title(i))} \\(#", "turns": turns}


def many_script(count: int = TASKS, **workers: dict[str, Any]) -> dict[str, Any]:
    """The model's script: the planner's `count` independent tasks, a judge that approves each
    (the judges first: a judge's brief names its pull request too), a worker for each (or the
    one `workers` names by task key), and the goal's checker."""
    tasks = [
        {
            "key": f"t{i:02d}",
            "title": title(i),
            "spec": f"Add `textkit/{module(i)}.py` with `value() -> int` returning {i}; test it.",
            "acceptance": acceptance(i),
            "files": list(files(i)),
            "size": "S",
        }
        for i in range(1, count + 1)
    ]
    planner = {
        "name": "planner",
        "match": "the planner in Swarm",
        "turns": [
            _turn(_call("submit_plan", summary="Independent modules.", tasks=tasks)),
            _turn(_call("finish", summary=f"Planned {count} tasks.")),
        ],
    }
    judges = [judge_agent(title(i), acceptance(i), repeat=3) for i in range(1, count + 1)]
    agents = [workers.get(f"t{i:02d}") or worker_agent(i) for i in range(1, count + 1)]
    return {"agents": [planner, checker_agent(), *judges, *agents]}


def main_sha(octo: GitHub) -> str:
    return octo.rest.git.get_ref(OWNER, REPO, "heads/main").parsed_data.object_.sha


@dataclass(frozen=True)
class Played:
    goal_number: int
    base: str  # main when the goal was labelled
    human: str  # the person's commit on main
    under: str  # the candidate it was pushed under: built on main's tip, not landed yet
    labelled_at: float  # time.time() just before the label


def candidate_on_tip(octo: GitHub, parents: dict[str, str]) -> str:
    """A gate's candidate built on main's tip now (its next landing, unless main moves), or ""."""
    tip = main_sha(octo)
    for ref in octo.rest.git.list_matching_refs(OWNER, REPO, "heads/swarm/gate/").parsed_data:
        sha = ref.object_.sha
        if sha not in parents:  # a commit's parents never change: ask once
            commit = octo.rest.git.get_commit(OWNER, REPO, sha).parsed_data
            parents[sha] = commit.parents[0].sha if commit.parents else ""
        if parents[sha] == tip:
            return sha
    return ""


def play(
    stack: LocalStack, octo: GitHub, settle_timeout: float = 900.0, config: str = CONFIG
) -> Played:
    """Commit the config, label the goal, and once the first pull request has landed and a
    gate (or the merge train) has built a candidate on that new tip, push a person's commit to
    main under it; then settle."""
    stack.control.push_files(
        OWNER, REPO, "main", OWNER, {".github/swarm.yml": config}, message="Swarm: 20 at once"
    )
    stack.settle()  # its CI run on main, out of the way
    base = main_sha(octo)
    labelled_at = time.time()
    goal_number = open_goal(octo)
    wait_for(lambda: main_sha(octo) != base, "the first landing", timeout=240)
    parents: dict[str, str] = {}
    under = wait_for(
        lambda: candidate_on_tip(octo, parents), "a candidate on main's tip", timeout=240
    )
    human = stack.control.push_files(
        OWNER, REPO, "main", OWNER, {HUMAN_FILE: HUMAN_TEXT}, message="A maintainer's note"
    )
    stack.settle(timeout=settle_timeout)
    return Played(goal_number, base, human, under, labelled_at)


def ci_conclusions(octo: GitHub, sha: str) -> list[str | None]:
    """The conclusions of every `ci` check run on `sha` (a re-run is a run too)."""
    runs = octo.rest.checks.list_for_ref(OWNER, REPO, sha, per_page=100).parsed_data.check_runs
    return [r.conclusion for r in runs if r.name == "ci"]


def first_parents(octo: GitHub, tip: str, stop: str) -> list[str]:
    """main's commits from `tip` back to `stop` (excluded), along first parents."""
    chain: list[str] = []
    sha = tip
    while sha != stop:
        chain.append(sha)
        parents = octo.rest.git.get_commit(OWNER, REPO, sha).parsed_data.parents
        assert parents, f"{stop[:12]} is not on main's first-parent line"
        sha = parents[0].sha
    return chain


def describe(tasks: list[Task]) -> list[tuple[str, str, str, int, int]]:
    return [(t.key, t.state, t.note, t.ci_runs, t.rounds) for t in tasks]


def test_twenty_pull_requests_land_what_was_tested_on_a_moving_base(tmp_path: Path) -> None:
    with seeded_stack(tmp_path, many_script()) as (stack, octo):
        played = play(stack, octo)
        goal, tasks = rows(played.goal_number)

        assert len(tasks) == TASKS
        done = [t for t in tasks if t.state == "done"]
        blocked = [t for t in tasks if t.state == "blocked"]
        # Each lands, or is blocked and says why (and the goal says it is not done).
        assert len(done) + len(blocked) == TASKS, describe(tasks)
        assert all(t.note for t in blocked), describe(blocked)
        assert goal.state == ("done" if not blocked else "incomplete"), (goal.note, describe(tasks))
        # None of them is blocked for losing landing races: a refused landing takes its turn.
        assert not blocked, describe(blocked)
        assert done, describe(tasks)

        for task in done:
            assert task.landed_sha and task.landed_sha == task.tested_sha, describe([task])
            pull = octo.rest.pulls.get(OWNER, REPO, task.pr_number or 0).parsed_data
            assert pull.merged_at is not None, task.pr_number
        for task in blocked:
            pull = octo.rest.pulls.get(OWNER, REPO, task.pr_number or 0).parsed_data
            assert pull.merged_at is None and "swarm:blocked" in {x.name for x in pull.labels}
        # Main's history since the goal began is exactly the landed candidates and the person's
        # commit (theirs kept, not overwritten), and CI passed on every one of them.
        tip = main_sha(octo)
        chain = first_parents(octo, tip, played.base)
        assert set(chain) == {t.landed_sha for t in done} | {played.human}
        assert played.under not in chain  # tested on a base that moved: rebuilt, not landed
        for sha in chain:
            conclusions = ci_conclusions(octo, sha)
            assert conclusions and set(conclusions) == {"success"}, (sha, conclusions)
        # The tip holds every landed module and its test (and no blocked one), and the
        # person's file.
        modules = {e.name for e in _listing(octo, "textkit", tip)}
        tests = {e.name for e in _listing(octo, "tests", tip)}
        for task in tasks:
            i = int(task.key.removeprefix("t"))
            landed = task.state == "done"
            assert (f"{module(i)}.py" in modules) == landed, describe([task])
            assert (f"test_{module(i)}.py" in tests) == landed, describe([task])
        note = octo.rest.repos.get_content(OWNER, REPO, HUMAN_FILE, ref=tip).parsed_data
        assert getattr(note, "sha", None), note


def _listing(octo: GitHub, path: str, ref: str) -> list[Any]:
    entries = octo.rest.repos.get_content(OWNER, REPO, path, ref=ref).parsed_data
    assert isinstance(entries, list), path
    return entries
