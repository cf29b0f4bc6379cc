"""Git data, branches, commits, contents, check runs and statuses through githubkit's models."""

from __future__ import annotations

import base64

import pytest
from githubkit.exception import RequestFailed

from tests.simulator.conftest import World
from tests.simulator.support import Receiver


def test_git_refs_branches_commits_and_contents(world: World, receiver: Receiver) -> None:
    gh = world.owner_gh
    main = gh.rest.git.get_ref("octo", "demo", "heads/main").parsed_data
    assert main.ref == "refs/heads/main" and len(main.object_.sha) == 40
    created = gh.rest.git.create_ref("octo", "demo", ref="refs/heads/topic", sha=main.object_.sha)
    assert created.status_code == 201
    with pytest.raises(RequestFailed) as exists:
        gh.rest.git.create_ref("octo", "demo", ref="refs/heads/topic", sha=main.object_.sha)
    assert exists.value.response.status_code == 422
    assert world.control.settle(10)
    created_push = receiver.events("push")[-1].payload
    assert (created_push["ref"], created_push["created"]) == ("refs/heads/topic", True)
    assert created_push["commits"] == [] and created_push["head_commit"]["id"] == main.object_.sha
    matching = gh.rest.git.list_matching_refs("octo", "demo", "heads/").parsed_data
    assert [r.ref for r in matching] == ["refs/heads/main", "refs/heads/topic"]

    work = world.clone()
    work.branch("ahead", "origin/main")
    ahead = work.commit({"h.txt": "h\n"}, "ahead")
    work.push("ahead")
    work.branch("sideways", "origin/main")
    sideways = work.commit({"i.txt": "i\n"}, "sideways")
    work.push("sideways")
    moved = gh.rest.git.update_ref("octo", "demo", "heads/topic", sha=ahead).parsed_data
    assert moved.object_.sha == ahead
    with pytest.raises(RequestFailed) as not_ff:
        gh.rest.git.update_ref("octo", "demo", "heads/topic", sha=sideways)
    assert not_ff.value.response.status_code == 422
    forced = gh.rest.git.update_ref("octo", "demo", "heads/topic", sha=sideways, force=True)
    assert forced.parsed_data.object_.sha == sideways
    gh.rest.git.delete_ref("octo", "demo", "heads/topic")
    with pytest.raises(RequestFailed) as gone:
        gh.rest.git.get_ref("octo", "demo", "heads/topic")
    assert gone.value.response.status_code == 404

    branch = gh.rest.repos.get_branch("octo", "demo", "ahead").parsed_data
    assert branch.name == "ahead" and branch.commit.sha == ahead and not branch.protected
    commit = gh.rest.repos.get_commit("octo", "demo", ahead).parsed_data
    assert commit.commit.message == "ahead" and commit.parents[0].sha == main.object_.sha
    assert [(f.filename, f.status) for f in commit.files or []] == [("h.txt", "added")]
    listed = gh.rest.repos.list_commits("octo", "demo", sha="ahead").parsed_data
    assert [c.sha for c in listed] == [ahead, main.object_.sha]

    content = gh.rest.repos.get_content("octo", "demo", "src/calc.py", ref="main").parsed_data
    assert not isinstance(content, list) and content.type == "file"
    assert base64.b64decode(content.content).decode().startswith("def add")
    folder = gh.rest.repos.get_content("octo", "demo", "src").parsed_data
    assert isinstance(folder, list) and [e.path for e in folder] == ["src/calc.py"]
    with pytest.raises(RequestFailed) as absent:
        gh.rest.repos.get_content("octo", "demo", "missing.txt")
    assert absent.value.response.status_code == 404
    with pytest.raises(RequestFailed) as absent_on_branch:
        gh.rest.repos.get_content("octo", "demo", "h.txt", ref="main")
    assert absent_on_branch.value.response.status_code == 404


def test_check_runs_suites_and_statuses(world: World) -> None:
    gh = world.owner_gh
    sha = gh.rest.repos.get_branch("octo", "demo", "main").parsed_data.commit.sha
    bot = world.bot_gh()
    run = bot.rest.checks.create(
        "octo",
        "demo",
        name="swarm/judge",
        head_sha=sha,
        status="in_progress",
        output={"title": "Judging", "summary": "reading the diff"},
    ).parsed_data
    assert run.status == "in_progress" and run.app is not None and run.app.slug == "swarm"
    done = bot.rest.checks.update(
        "octo",
        "demo",
        run.id,
        conclusion="success",
        output={"title": "Approved", "summary": "meets the criteria"},
    ).parsed_data
    assert (done.status, done.conclusion) == ("completed", "success")
    assert done.output.title == "Approved"
    listed = bot.rest.checks.list_for_ref("octo", "demo", "main").parsed_data
    assert [(r.name, r.conclusion) for r in listed.check_runs] == [("swarm/judge", "success")]
    suites = bot.rest.checks.list_suites_for_ref("octo", "demo", sha).parsed_data
    assert suites.total_count == 1 and suites.check_suites[0].conclusion == "success"
    with pytest.raises(RequestFailed) as users_cannot:
        gh.rest.checks.create("octo", "demo", name="x", head_sha=sha)
    assert users_cannot.value.response.status_code == 403

    # The App holds `statuses: read` (app.yml): it reads statuses, people write them.
    with pytest.raises(RequestFailed) as read_only:
        bot.rest.repos.create_commit_status("octo", "demo", sha, state="pending", context="x")
    assert read_only.value.response.status_code == 403
    assert read_only.value.response.json()["message"] == "Resource not accessible by integration"
    pending = gh.rest.repos.create_commit_status(
        "octo", "demo", sha, state="pending", context="lint"
    ).parsed_data
    assert pending.state == "pending" and pending.context == "lint"
    combined = bot.rest.repos.get_combined_status_for_ref("octo", "demo", "main").parsed_data
    assert (combined.state, combined.total_count) == ("pending", 1)
    gh.rest.repos.create_commit_status("octo", "demo", sha, state="success", context="lint")
    gh.rest.repos.create_commit_status("octo", "demo", sha, state="failure", context="docs")
    combined = bot.rest.repos.get_combined_status_for_ref("octo", "demo", sha).parsed_data
    assert combined.state == "failure"
    assert sorted((s.context, s.state) for s in combined.statuses) == [
        ("docs", "failure"),
        ("lint", "success"),
    ]


def test_rate_limit_endpoint_and_headers(world: World) -> None:
    gh = world.owner_gh
    first = gh.rest.repos.get("octo", "demo")
    second = gh.rest.repos.get("octo", "demo")
    assert int(first.headers["x-ratelimit-limit"]) == 5000
    assert int(second.headers["x-ratelimit-used"]) == int(first.headers["x-ratelimit-used"]) + 1
    assert "x-ratelimit-remaining" in second.headers and "x-ratelimit-reset" in second.headers
    overview = gh.rest.rate_limit.get().parsed_data
    assert overview.resources.core.limit == 5000 and overview.resources.core.used >= 2
