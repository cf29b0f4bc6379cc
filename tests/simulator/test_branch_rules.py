"""Branch protection and rulesets: read through the REST API as GitHub shows them, enforced on
git pushes, on the refs API and on the merge button, with a bypass list the App can be put in."""

from __future__ import annotations

import pytest
from githubkit.exception import RequestFailed

from app.simulator.github.control import SimUser
from tests.simulator.conftest import World
from tests.simulator.support import Worktree, user_client, with_token

GATE_RULES = [
    {"type": "update"},
    {"type": "non_fast_forward"},
    {
        "type": "required_status_checks",
        "parameters": {
            "required_status_checks": [{"context": "ci"}],
            "strict_required_status_checks_policy": False,
        },
    },
]


def _writer(world: World) -> SimUser:
    writer = world.control.create_user("writer")
    world.control.set_permission("octo", "demo", "writer", "write")
    return writer


def _message(error: pytest.ExceptionInfo[RequestFailed]) -> str:
    return str(error.value.response.json()["message"])


def test_protection_reads_as_github_shows_it(world: World) -> None:
    gh = world.owner_gh
    with pytest.raises(RequestFailed) as unprotected:
        gh.rest.repos.get_branch_protection("octo", "demo", "main")
    assert unprotected.value.response.status_code == 404
    assert _message(unprotected) == "Branch not protected"
    assert not gh.rest.repos.get_branch("octo", "demo", "main").parsed_data.protected

    world.control.protect_branch(
        "octo", "demo", "main", required_checks=["ci"], strict=True, push_apps=["swarm"]
    )
    protection = gh.rest.repos.get_branch_protection("octo", "demo", "main").parsed_data
    assert protection.required_status_checks is not None
    assert protection.required_status_checks.contexts == ["ci"]
    assert protection.restrictions is not None
    assert [a.slug for a in protection.restrictions.apps] == ["swarm"]
    policy = gh.rest.repos.get_status_checks_protection("octo", "demo", "main").parsed_data
    assert (policy.strict, policy.contexts) == (True, ["ci"])
    assert [(c.context, c.app_id) for c in policy.checks] == [("ci", None)]
    branch = gh.rest.repos.get_branch("octo", "demo", "main").parsed_data
    assert branch.protected and branch.protection.required_status_checks is not None
    assert branch.protection.required_status_checks.contexts == ["ci"]
    listed = gh.rest.repos.list_branches("octo", "demo", protected=True).parsed_data
    assert [b.name for b in listed] == ["main"]

    # The App has no `administration` permission: GitHub hides the settings from it.
    bot = world.bot_gh()
    with pytest.raises(RequestFailed) as hidden:
        bot.rest.repos.get_status_checks_protection("octo", "demo", "main")
    assert hidden.value.response.status_code == 403
    assert _message(hidden) == "Resource not accessible by integration"
    world.control.set_app_permissions(administration="read")
    allowed = world.bot_gh()
    assert allowed.rest.repos.get_branch_protection("octo", "demo", "main").status_code == 200

    world.control.protect_branch("octo", "demo", "main", required_reviews=1)
    with pytest.raises(RequestFailed) as no_checks:
        gh.rest.repos.get_status_checks_protection("octo", "demo", "main")
    assert _message(no_checks) == "Required status checks not enabled"
    world.control.unprotect_branch("octo", "demo", "main")
    with pytest.raises(RequestFailed):
        gh.rest.repos.get_branch_protection("octo", "demo", "main")


def test_rules_of_a_branch_come_from_active_rulesets(world: World) -> None:
    ruleset = world.control.create_ruleset(
        "octo",
        "demo",
        "gate",
        [*GATE_RULES, {"type": "pull_request"}],
        include=["~DEFAULT_BRANCH", "refs/heads/swarm/gate/**"],
        bypass_app=True,
    )
    world.control.create_ruleset(
        "octo", "demo", "trial", [{"type": "deletion"}], include=["~ALL"], enforcement="evaluate"
    )
    bot = world.bot_gh()  # metadata access is enough to read the rules
    rules = bot.rest.repos.get_branch_rules("octo", "demo", "main").json()
    assert [r["type"] for r in rules] == [
        "update",
        "non_fast_forward",
        "required_status_checks",
        "pull_request",
    ]
    assert {(r["ruleset_id"], r["ruleset_source"]) for r in rules} == {(ruleset["id"], "octo/demo")}
    checks = rules[2]["parameters"]["required_status_checks"]
    assert checks == [{"context": "ci"}]
    assert len(bot.rest.repos.get_branch_rules("octo", "demo", "swarm/gate/12").json()) == 4
    assert bot.rest.repos.get_branch_rules("octo", "demo", "swarm/12-task").json() == []
    shown = bot.rest.repos.get_repo_ruleset("octo", "demo", ruleset["id"]).parsed_data
    assert shown.bypass_actors is not None
    assert [(a.actor_type, a.actor_id) for a in shown.bypass_actors] == [("Integration", 1)]


def test_a_ruleset_refuses_pushes_but_not_its_bypass_list(world: World) -> None:
    world.control.create_ruleset("octo", "demo", "gate", GATE_RULES, bypass_app=True)
    writer = _writer(world)
    work = world.clone("writer-work", token=writer.token)
    before = work.git("rev-parse", "HEAD").stdout.strip()
    sha = work.commit({"w.txt": "w\n"}, "straight to main")
    refused = work.push("main", check=False)
    assert refused.returncode != 0
    assert "GH013: Repository rule violations found for refs/heads/main." in refused.stderr
    assert "- Cannot update this protected ref." in refused.stderr
    assert '- Required status check "ci" is expected.' in refused.stderr
    assert "[remote rejected] HEAD -> main (hook declined)" in refused.stderr
    gh = world.owner_gh
    assert gh.rest.repos.get_branch("octo", "demo", "main").parsed_data.commit.sha == before

    work.push("side")  # other branches are not covered
    with pytest.raises(RequestFailed) as by_api:
        gh.rest.git.update_ref("octo", "demo", "heads/main", sha=sha)  # the owner is no bypasser
    assert by_api.value.response.status_code == 422
    assert _message(by_api) == (
        "Repository rule violations found\n\nCannot update this protected ref.\n\n"
        'Required status check "ci" is expected.\n\n'
    )
    bot = world.bot_gh()
    landed = bot.rest.git.update_ref("octo", "demo", "heads/main", sha=sha).parsed_data
    assert landed.object_.sha == sha  # the App is in the bypass list


def test_classic_push_restriction_lets_admins_and_listed_apps_through(world: World) -> None:
    world.control.protect_branch("octo", "demo", "main", push_users=[], push_apps=["swarm"])
    writer = _writer(world)
    work = world.clone("writer-work", token=writer.token)
    work.commit({"w.txt": "w\n"}, "by the writer")
    refused = work.push("main", check=False)
    assert refused.returncode != 0
    assert "GH006: Protected branch update failed for refs/heads/main." in refused.stderr
    assert "You're not authorized to push to this branch." in refused.stderr

    owner = world.clone("owner-work")
    owner.commit({"o.txt": "o\n"}, "by the owner")
    pushed = owner.push("main", check=False)
    assert pushed.returncode == 0  # admins bypass unless enforce_admins
    assert "Bypassed rule violations for refs/heads/main" in pushed.stderr

    app_gh = world.bot_gh()
    head = app_gh.rest.repos.get_branch("octo", "demo", "main").parsed_data.commit.sha
    app_gh.rest.git.create_ref("octo", "demo", ref="refs/heads/swarm/x", sha=head)
    work.git("fetch", "--quiet", "origin")
    work.branch("ff", "origin/main")
    ff = work.commit({"f.txt": "f\n"}, "fast-forward")
    work.push("ff")
    assert app_gh.rest.git.update_ref("octo", "demo", "heads/main", sha=ff).status_code == 200
    with pytest.raises(RequestFailed) as deletion:
        app_gh.rest.git.delete_ref("octo", "demo", "heads/main")
    assert _message(deletion) == "Cannot delete this protected branch."


def _ci_repo(world: World, name: str, command: str = "test ! -e BROKEN") -> Worktree:
    """A repository whose CI runs on main and on gate branches, with a clone of it."""
    world.control.create_repo(
        "octo",
        name,
        source_dir=world.tmp / "source",
        ci_command=command,
        ci_branches=["main", "swarm/gate/**"],
    )
    url = with_token(f"{world.sim.url}/octo/{name}.git", world.owner.token)
    return Worktree.clone(url, world.tmp / f"{name}-work")


def test_required_checks_gate_a_fast_forward_of_the_base(world: World) -> None:
    writer = world.control.create_user("writer")
    work = _ci_repo(world, "gated")
    world.control.protect_branch("octo", "gated", "main", required_checks=["ci"])
    bot = world.bot_gh()
    work.branch("swarm/gate/1")
    tested = work.commit({"t.txt": "t\n"}, "candidate")
    work.push("swarm/gate/1")  # a new branch: required checks do not stop its creation
    assert world.control.settle(30)
    assert bot.rest.git.update_ref("octo", "gated", "heads/main", sha=tested).status_code == 200

    untested = work.commit({"u.txt": "u\n"}, "never ran")
    work.git("push", "--quiet", "origin", f"{untested}:refs/heads/parked")
    with pytest.raises(RequestFailed) as refused:
        bot.rest.git.update_ref("octo", "gated", "heads/main", sha=untested)
    assert _message(refused) == 'Required status check "ci" is expected.'
    world.control.set_permission("octo", "gated", "writer", "write")
    url = with_token(f"{world.sim.url}/octo/gated.git", writer.token)
    pushed = work.git("push", url, f"{untested}:refs/heads/main", check=False)
    assert pushed.returncode != 0
    assert 'Required status check "ci" is expected.' in pushed.stderr


def test_merge_button_and_mergeable_state_follow_the_rules(world: World) -> None:
    writer = world.control.create_user("writer")
    reviewer_user = world.control.create_user("reviewer")
    work = _ci_repo(world, "guarded")
    for login in ("writer", "reviewer"):
        world.control.set_permission("octo", "guarded", login, "write")
    world.control.protect_branch(
        "octo", "guarded", "main", required_checks=["ci"], strict=True, required_reviews=1
    )
    gh = user_client(world.sim.url, writer.token)  # admins would bypass the rules
    work.branch("feature")
    work.commit({"feature.txt": "x\n"}, "feature")
    work.push("feature")
    pr = gh.rest.pulls.create("octo", "guarded", title="F", head="feature", base="main").parsed_data

    def state() -> str | None:
        assert world.control.settle(30)
        return gh.rest.pulls.get("octo", "guarded", pr.number).parsed_data.mergeable_state

    assert state() == "blocked"  # CI passed, but no approval yet
    with pytest.raises(RequestFailed) as unapproved:
        gh.rest.pulls.merge("octo", "guarded", pr.number)
    assert unapproved.value.response.status_code == 405
    assert _message(unapproved) == (
        "At least 1 approving review is required by reviewers with write access."
    )
    reviewer = user_client(world.sim.url, reviewer_user.token)
    reviewer.rest.pulls.create_review(
        "octo", "guarded", pr.number, event="REQUEST_CHANGES", body="no"
    )
    assert state() == "blocked"
    reviewer.rest.pulls.create_review("octo", "guarded", pr.number, event="APPROVE")
    assert state() == "clean"

    world.control.push_files("octo", "guarded", "main", "octo", {"other.txt": "o\n"})
    assert state() == "behind"  # strict: the head must contain the base
    with pytest.raises(RequestFailed) as stale:
        gh.rest.pulls.merge("octo", "guarded", pr.number)
    assert _message(stale) == 'Required status check "ci" is expected.'
    gh.rest.pulls.update_branch("octo", "guarded", pr.number)
    assert state() == "clean"
    merged = gh.rest.pulls.merge("octo", "guarded", pr.number).parsed_data
    assert merged.merged


def test_failing_checks_block_when_required_and_only_unsettle_otherwise(world: World) -> None:
    writer = world.control.create_user("writer")
    work = _ci_repo(world, "loose")
    world.control.set_permission("octo", "loose", "writer", "write")
    gh = user_client(world.sim.url, writer.token)
    work.branch("broken")
    work.commit({"BROKEN": "x\n"}, "breaks CI")
    work.push("broken")
    pr = gh.rest.pulls.create("octo", "loose", title="B", head="broken", base="main").parsed_data
    assert world.control.settle(30)
    assert gh.rest.pulls.get("octo", "loose", pr.number).parsed_data.mergeable_state == "unstable"
    world.control.protect_branch("octo", "loose", "main", required_checks=["ci"])
    assert gh.rest.pulls.get("octo", "loose", pr.number).parsed_data.mergeable_state == "blocked"
    with pytest.raises(RequestFailed) as failing:
        gh.rest.pulls.merge("octo", "loose", pr.number)
    assert _message(failing) == 'Required status check "ci" is failing.'
