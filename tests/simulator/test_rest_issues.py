"""Issues, labels, comments, reactions, assignees and sub-issues, read back through githubkit's
strict typed models (`parsed_data` raises if a required field is missing)."""

from __future__ import annotations

import pytest
from githubkit.exception import RequestFailed

from tests.simulator.conftest import World
from tests.simulator.support import user_client


def test_repository_and_installation_repositories(world: World) -> None:
    repo = world.owner_gh.rest.repos.get("octo", "demo").parsed_data
    assert repo.full_name == "octo/demo" and repo.default_branch == "main"
    assert repo.clone_url == world.repo.clone_url
    assert repo.clone_url.startswith(world.sim.url)
    assert repo.permissions is not None and repo.permissions.admin
    bot = world.bot_gh()
    listed = bot.rest.apps.list_repos_accessible_to_installation().parsed_data
    assert listed.total_count == 1 and listed.repositories[0].name == "demo"


def test_issue_create_get_update_list(world: World) -> None:
    gh = world.owner_gh
    created = gh.rest.issues.create(
        "octo", "demo", title="Add mul", body="please", labels=["swarm"], assignees=["octo"]
    ).parsed_data
    assert created.number == 1 and created.state == "open"
    assert [lb.name for lb in created.labels if not isinstance(lb, str)] == ["swarm"]
    assert created.assignees is not None and created.assignees[0].login == "octo"
    assert created.author_association == "OWNER"
    fetched = gh.rest.issues.get("octo", "demo", 1).parsed_data
    assert fetched.title == "Add mul" and not fetched.pull_request

    updated = gh.rest.issues.update(
        "octo",
        "demo",
        1,
        title="Add mul()",
        state="closed",
        state_reason="not_planned",
        labels=["bug"],
    ).parsed_data
    assert (updated.title, updated.state, updated.state_reason) == (
        "Add mul()",
        "closed",
        "not_planned",
    )
    assert [lb.name for lb in updated.labels if not isinstance(lb, str)] == ["bug"]
    assert updated.closed_at is not None

    for n in range(2, 6):
        gh.rest.issues.create("octo", "demo", title=f"issue {n}")
    page = gh.rest.issues.list_for_repo("octo", "demo", state="open", per_page=2, page=1)
    assert [i.number for i in page.parsed_data] == [5, 4]
    assert 'rel="next"' in page.headers["link"] and 'rel="last"' in page.headers["link"]
    closed = gh.rest.issues.list_for_repo("octo", "demo", state="closed").parsed_data
    assert [i.number for i in closed] == [1]
    labelled = gh.rest.issues.list_for_repo("octo", "demo", state="all", labels="bug").parsed_data
    assert [i.number for i in labelled] == [1]
    by_creator = gh.rest.issues.list_for_repo("octo", "demo", creator="nobody").parsed_data
    assert by_creator == []
    everything = list(
        gh.rest.paginate(
            gh.rest.issues.list_for_repo, owner="octo", repo="demo", state="all", per_page=2
        )
    )
    assert len(everything) == 5
    with pytest.raises(RequestFailed) as missing:
        gh.rest.issues.get("octo", "demo", 99)
    assert missing.value.response.status_code == 404
    assert missing.value.response.json()["message"] == "Not Found"


def test_labels(world: World) -> None:
    gh = world.owner_gh
    created = gh.rest.issues.create_label(
        "octo", "demo", name="swarm", color="5319e7", description="work for the swarm"
    ).parsed_data
    assert created.name == "swarm" and created.color == "5319e7"
    assert gh.rest.issues.get_label("octo", "demo", "swarm").parsed_data.id == created.id
    names = [
        lb.name
        for lb in gh.rest.issues.list_labels_for_repo("octo", "demo", per_page=100).parsed_data
    ]
    assert "swarm" in names and "bug" in names
    with pytest.raises(RequestFailed) as duplicate:
        gh.rest.issues.create_label("octo", "demo", name="SWARM", color="000000")
    assert duplicate.value.response.status_code == 422

    issue = gh.rest.issues.create("octo", "demo", title="labels").parsed_data
    added = gh.rest.issues.add_labels("octo", "demo", issue.number, labels=["swarm", "new-one"])
    assert [lb.name for lb in added.parsed_data] == ["swarm", "new-one"]
    assert gh.rest.issues.get_label("octo", "demo", "new-one").parsed_data.color == "ededed"
    replaced = gh.rest.issues.set_labels("octo", "demo", issue.number, labels=["bug"]).parsed_data
    assert [lb.name for lb in replaced] == ["bug"]
    left = gh.rest.issues.remove_label("octo", "demo", issue.number, "bug").parsed_data
    assert left == []
    with pytest.raises(RequestFailed) as absent:
        gh.rest.issues.remove_label("octo", "demo", issue.number, "bug")
    assert absent.value.response.status_code == 404
    listed = gh.rest.issues.list_labels_on_issue("octo", "demo", issue.number).parsed_data
    assert listed == []


def test_comments_and_reactions(world: World) -> None:
    gh = world.owner_gh
    issue = gh.rest.issues.create("octo", "demo", title="talk").parsed_data
    comment = gh.rest.issues.create_comment(
        "octo", "demo", issue.number, body="/swarm go"
    ).parsed_data
    assert comment.body == "/swarm go" and comment.user is not None
    assert gh.rest.issues.get_comment("octo", "demo", comment.id).parsed_data.id == comment.id
    edited = gh.rest.issues.update_comment(
        "octo", "demo", comment.id, body="/swarm stop"
    ).parsed_data
    assert edited.body == "/swarm stop"
    listed = gh.rest.issues.list_comments("octo", "demo", issue.number).parsed_data
    assert [c.id for c in listed] == [comment.id]
    assert gh.rest.issues.get("octo", "demo", issue.number).parsed_data.comments == 1

    bot = world.bot_gh()
    first = bot.rest.reactions.create_for_issue_comment("octo", "demo", comment.id, content="eyes")
    again = bot.rest.reactions.create_for_issue_comment("octo", "demo", comment.id, content="eyes")
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.parsed_data.id == again.parsed_data.id
    reactions = bot.rest.reactions.list_for_issue_comment("octo", "demo", comment.id).parsed_data
    assert [(r.content, r.user.login if r.user else None) for r in reactions] == [
        ("eyes", "swarm[bot]")
    ]
    on_issue = gh.rest.reactions.create_for_issue("octo", "demo", issue.number, content="+1")
    assert on_issue.status_code == 201
    assert [
        r.content
        for r in gh.rest.reactions.list_for_issue("octo", "demo", issue.number).parsed_data
    ] == ["+1"]
    rollup = gh.rest.issues.get_comment("octo", "demo", comment.id).parsed_data.reactions
    assert rollup is not None and rollup.eyes == 1 and rollup.total_count == 1

    gh.rest.issues.delete_comment("octo", "demo", comment.id)
    assert gh.rest.issues.list_comments("octo", "demo", issue.number).parsed_data == []


def test_assignees(world: World) -> None:
    world.control.create_user("helper")
    gh = world.owner_gh
    issue = gh.rest.issues.create("octo", "demo", title="assign").parsed_data
    added = gh.rest.issues.add_assignees("octo", "demo", issue.number, assignees=["helper"])
    assert [a.login for a in added.parsed_data.assignees or []] == ["helper"]
    removed = gh.rest.issues.remove_assignees("octo", "demo", issue.number, assignees=["helper"])
    assert removed.parsed_data.assignees == []


def test_sub_issues(world: World) -> None:
    gh = world.owner_gh
    goal = gh.rest.issues.create("octo", "demo", title="goal").parsed_data
    tasks = [gh.rest.issues.create("octo", "demo", title=f"task {n}").parsed_data for n in (1, 2)]
    for task in tasks:
        parent = gh.rest.issues.add_sub_issue("octo", "demo", goal.number, sub_issue_id=task.id)
        assert parent.status_code == 201 and parent.parsed_data.number == goal.number
    listed = gh.rest.issues.list_sub_issues("octo", "demo", goal.number).parsed_data
    assert [i.number for i in listed] == [t.number for t in tasks]
    parent = gh.rest.issues.get_parent("octo", "demo", tasks[0].number).parsed_data
    assert parent.number == goal.number
    with pytest.raises(RequestFailed) as orphan:
        gh.rest.issues.get_parent("octo", "demo", goal.number)
    assert orphan.value.response.status_code == 404

    other_goal = gh.rest.issues.create("octo", "demo", title="other goal").parsed_data
    with pytest.raises(RequestFailed) as taken:
        gh.rest.issues.add_sub_issue("octo", "demo", other_goal.number, sub_issue_id=tasks[0].id)
    assert taken.value.response.status_code == 422

    gh.rest.issues.update("octo", "demo", tasks[0].number, state="closed")
    summary = gh.rest.issues.get("octo", "demo", goal.number).parsed_data.sub_issues_summary
    assert summary is not None and (summary.total, summary.completed) == (2, 1)
    assert summary.percent_completed == 50


def test_non_collaborator_cannot_edit_someone_elses_issue(world: World) -> None:
    stranger = world.control.create_user("stranger")
    issue = world.owner_gh.rest.issues.create("octo", "demo", title="mine").parsed_data
    stranger_gh = user_client(world.sim.url, stranger.token)
    with pytest.raises(RequestFailed) as refused:
        stranger_gh.rest.issues.update("octo", "demo", issue.number, title="theirs")
    assert refused.value.response.status_code == 403
    requests = world.control.requests()
    assert requests[-1]["actor"] == "stranger" and requests[-1]["status"] == 403
    assert world.owner_gh.rest.issues.get("octo", "demo", issue.number).parsed_data.title == "mine"
