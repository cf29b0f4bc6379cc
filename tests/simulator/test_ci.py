"""The CI runner: a repository's command runs on each pushed head and reports a check run."""

from __future__ import annotations

from pathlib import Path

from tests.simulator.conftest import World
from tests.simulator.support import Receiver, Worktree, with_token

CI_COMMAND = "echo checking; test -f src/calc.py && test ! -e BROKEN"


def _clone(world: World, name: str, repo: str) -> Worktree:
    url = with_token(f"{world.sim.url}/octo/{repo}.git", world.owner.token)
    return Worktree.clone(url, world.tmp / name)


def test_ci_reports_success_and_failure_as_check_runs(world: World, receiver: Receiver) -> None:
    world.control.create_repo(
        "octo", "tested", source_dir=world.tmp / "source", ci_command=CI_COMMAND
    )
    work = _clone(world, "tested-work", "tested")
    work.branch("good")
    good = work.commit({"ok.txt": "fine\n"}, "good change")
    work.push("good")
    work.branch("bad", "origin/main")
    bad = work.commit({"BROKEN": "oops\n"}, "bad change")
    work.push("bad")
    gh = world.owner_gh
    gh.rest.pulls.create("octo", "tested", title="good", head="good", base="main")
    gh.rest.pulls.create("octo", "tested", title="bad", head="bad", base="main")
    assert world.control.settle(30)

    bot = world.bot_gh()
    outcomes = {}
    for sha in (good, bad):
        runs = bot.rest.checks.list_for_ref("octo", "tested", sha).parsed_data.check_runs
        assert [r.name for r in runs] == ["ci"]
        outcomes[sha] = runs[0]
    assert (outcomes[good].status, outcomes[good].conclusion) == ("completed", "success")
    assert outcomes[bad].conclusion == "failure"
    assert "checking" in (outcomes[good].output.text or "")
    assert outcomes[good].app is not None and outcomes[good].app.slug == "github-actions"

    pull = gh.rest.pulls.get("octo", "tested", 2).parsed_data
    assert pull.mergeable_state == "unstable"  # a failed check on the head
    completed = {
        r.payload["check_run"]["head_sha"]: r.payload["check_run"]["conclusion"]
        for r in receiver.events("check_run", "completed")
    }
    assert completed == {good: "success", bad: "failure"}
    assert len(receiver.events("check_run", "created")) == 2
    suites = {
        r.payload["check_suite"]["head_sha"] for r in receiver.events("check_suite", "completed")
    }
    assert suites == {good, bad}


def test_push_to_default_branch_runs_ci_once_per_commit(world: World) -> None:
    world.control.create_repo("octo", "mainline", ci_command="true")
    work = _clone(world, "mainline-work", "mainline")
    sha = work.commit({"a.txt": "a\n"}, "direct to main")
    work.push("main")
    assert world.control.settle(30)
    work.branch("same")
    work.push("same")  # the same commit on another branch: no second run
    assert world.control.settle(30)
    bot = world.bot_gh()
    runs = bot.rest.checks.list_for_ref("octo", "mainline", sha, filter_="all").parsed_data
    assert [(r.name, r.conclusion) for r in runs.check_runs] == [("ci", "success")]


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    return "State:\tZ" not in state


def test_ci_timeout_kills_the_whole_process_group(world: World, tmp_path: Path) -> None:
    pidfile = tmp_path / "child.pid"
    world.control.create_repo(
        "octo", "slow", ci_command=f"sleep 60 & echo $! > {pidfile}; wait", ci_timeout=1
    )
    work = _clone(world, "slow-work", "slow")
    sha = work.commit({"a.txt": "a\n"}, "slow")
    work.push("main")
    assert world.control.settle(30)
    bot = world.bot_gh()
    run = bot.rest.checks.list_for_ref("octo", "slow", sha).parsed_data.check_runs[0]
    assert run.conclusion == "timed_out"
    child = int(pidfile.read_text())
    assert not _running(child)
