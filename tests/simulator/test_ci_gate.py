"""CI as a merge gate meets it: branch filters like Actions' `on: push: branches:`, check runs
and suites as GitHub reports them, re-runs, flaky runs, and a person pushing mid-run."""

from __future__ import annotations

import githubkit.webhooks

from tests.simulator.conftest import World
from tests.simulator.support import Receiver, Worktree, wait_until, with_token


def _repo(world: World, name: str, command: str, branches: list[str] | None) -> Worktree:
    world.control.create_repo(
        "octo", name, source_dir=world.tmp / "source", ci_command=command, ci_branches=branches
    )
    url = with_token(f"{world.sim.url}/octo/{name}.git", world.owner.token)
    return Worktree.clone(url, world.tmp / f"{name}-work")


def test_ci_runs_on_the_branches_its_workflow_selects(world: World, receiver: Receiver) -> None:
    work = _repo(world, "filtered", "true", ["main", "swarm/gate/**"])
    work.branch("swarm/gate/3/try")
    gate = work.commit({"g.txt": "g\n"}, "gate candidate")
    work.push("swarm/gate/3/try")
    work.branch("swarm/7-task")
    task = work.commit({"t.txt": "t\n"}, "work in progress")
    work.push("swarm/7-task")
    assert world.control.settle(30)
    bot = world.bot_gh()
    runs = bot.rest.checks.list_for_ref("octo", "filtered", gate).parsed_data.check_runs
    assert [(r.name, r.conclusion) for r in runs] == [("ci", "success")]
    run = runs[0]
    assert run.check_suite is not None and run.check_suite.id
    assert run.details_url and run.html_url
    suites = bot.rest.checks.list_suites_for_ref("octo", "filtered", gate).parsed_data
    assert suites.check_suites[0].head_branch == "swarm/gate/3/try"
    assert bot.rest.checks.list_for_ref("octo", "filtered", task).parsed_data.total_count == 0

    completed = [
        e.payload["check_suite"]
        for e in receiver.events("check_suite", "completed")
        if e.payload["check_suite"]["head_sha"] == gate
    ]
    assert [(s["head_branch"], s["conclusion"], s["status"]) for s in completed] == [
        ("swarm/gate/3/try", "success", "completed")
    ]
    created = [e.payload["check_run"] for e in receiver.events("check_run", "created")]
    assert [c["check_suite"]["head_branch"] for c in created] == ["swarm/gate/3/try"]


def test_rerequested_ci_runs_again_on_the_same_commit(world: World, receiver: Receiver) -> None:
    counter = world.tmp / "runs"
    work = _repo(world, "rerun", f"echo run >> {counter}", None)
    sha = work.commit({"r.txt": "r\n"}, "on main")
    work.push("main")
    assert world.control.settle(30)
    bot = world.bot_gh()
    first = bot.rest.checks.list_for_ref("octo", "rerun", sha).parsed_data.check_runs[0]
    answer = bot.rest.checks.rerequest_run("octo", "rerun", first.id)
    assert answer.status_code == 201
    assert world.control.settle(30)
    runs = bot.rest.checks.list_for_ref("octo", "rerun", sha, filter_="all").parsed_data
    assert [(r.name, r.conclusion) for r in runs.check_runs] == [
        ("ci", "success"),
        ("ci", "success"),
    ]
    assert runs.check_runs[0].id != first.id
    assert runs.check_runs[0].check_suite is not None and first.check_suite is not None
    assert runs.check_runs[0].check_suite.id == first.check_suite.id
    assert counter.read_text() == "run\nrun\n"
    latest = bot.rest.checks.list_for_ref("octo", "rerun", sha).parsed_data
    assert [r.id for r in latest.check_runs] == [runs.check_runs[0].id]
    suites = [
        e.payload["check_suite"]["head_sha"] for e in receiver.events("check_suite", "completed")
    ]
    assert suites.count(sha) == 2


def test_the_apps_own_check_run_is_rerequested_through_its_webhook(
    world: World, receiver: Receiver
) -> None:
    bot = world.bot_gh()
    sha = bot.rest.repos.get_branch("octo", "demo", "main").parsed_data.commit.sha
    run = bot.rest.checks.create(
        "octo", "demo", name="swarm/judge", head_sha=sha, conclusion="failure"
    ).parsed_data
    assert bot.rest.checks.rerequest_run("octo", "demo", run.id).status_code == 201
    assert world.control.settle(10)
    asked = receiver.events("check_run", "rerequested")
    assert [e.payload["check_run"]["id"] for e in asked] == [run.id]
    parsed = githubkit.webhooks.parse("check_run", asked[0].body)  # githubkit's strict model
    assert parsed.action == "rerequested"


def test_flaky_ci_fails_a_first_run_and_passes_its_rerun(world: World) -> None:
    work = _repo(world, "flaky", "true", ["main", "swarm/gate/**"])
    world.control.set_flake("octo", "flaky", branches=["swarm/gate/**"])
    bot = world.bot_gh()
    work.branch("swarm/gate/1")
    sha = work.commit({"f.txt": "f\n"}, "candidate")
    work.push("swarm/gate/1")
    assert world.control.settle(30)
    run = bot.rest.checks.list_for_ref("octo", "flaky", sha).parsed_data.check_runs[0]
    assert run.conclusion == "failure"
    assert "FLAKY: simulated intermittent failure" in (run.output.text or "")
    bot.rest.checks.rerequest_run("octo", "flaky", run.id)
    assert world.control.settle(30)
    again = bot.rest.checks.list_for_ref("octo", "flaky", sha).parsed_data.check_runs[0]
    assert (again.conclusion, "FLAKY" in (again.output.text or "")) == ("success", False)

    work.branch("main", "origin/main")
    steady = work.commit({"m.txt": "m\n"}, "not covered by the rule")
    work.push("main")
    world.control.set_flake("octo", "flaky", fail_first_runs=1)
    work.branch("swarm/gate/2")
    unlucky = work.commit({"u.txt": "u\n"}, "first run of the repo fails")
    work.push("swarm/gate/2")
    assert world.control.settle(30)
    conclusions = {
        s: bot.rest.checks.list_for_ref("octo", "flaky", s).parsed_data.check_runs[0].conclusion
        for s in (steady, unlucky)
    }
    assert conclusions == {steady: "success", unlucky: "failure"}
    world.control.clear_flake("octo", "flaky")


def test_a_person_pushes_to_the_base_while_ci_runs(world: World, receiver: Receiver) -> None:
    release = world.tmp / "release"
    started = world.tmp / "started"
    work = _repo(
        world,
        "busy",
        f"touch {started}; while [ ! -e {release} ]; do sleep 0.02; done",
        ["main", "swarm/gate/**"],
    )
    work.branch("swarm/gate/5")
    work.commit({"c.txt": "c\n"}, "candidate")
    work.push("swarm/gate/5")
    wait_until(started.exists)
    before = world.owner_gh.rest.repos.get_branch("octo", "busy", "main").parsed_data.commit.sha
    sha = world.control.push_files(
        "octo",
        "busy",
        "main",
        "octo",
        {"README.md": "# changed by a person\n", "docs/new.md": "new\n"},
        delete=["src/calc.py"],
        message="A person's change",
    )
    release.touch()
    assert world.control.settle(30)
    gh = world.owner_gh
    main = gh.rest.repos.get_commit("octo", "busy", "main").parsed_data
    assert main.sha == sha and main.commit.message == "A person's change"
    assert [p.sha for p in main.parents] == [before]
    assert sorted((f.filename, f.status) for f in main.files or []) == [
        ("README.md", "modified"),
        ("docs/new.md", "added"),
        ("src/calc.py", "removed"),
    ]
    push = [e.payload for e in receiver.events("push") if e.payload["after"] == sha]
    assert len(push) == 1 and push[0]["pusher"]["name"] == "octo"
    assert push[0]["ref"] == "refs/heads/main"
    bot = world.bot_gh()
    runs = bot.rest.checks.list_for_ref("octo", "busy", sha).parsed_data
    assert [r.conclusion for r in runs.check_runs] == ["success"]
