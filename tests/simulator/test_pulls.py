"""Pull requests with real git: opening, reviews, mergeability, merging with an expected head,
update-branch with an expected head, and what each does to the branches."""

from __future__ import annotations

import pytest
from githubkit.exception import RequestFailed

from tests.simulator.conftest import World
from tests.simulator.support import Receiver, Worktree


def _feature(world: World, work: Worktree, branch: str, files: dict[str, str]) -> str:
    work.branch(branch, "origin/main")
    sha = work.commit(files, f"Change on {branch}")
    work.push(branch)
    return sha


def test_open_get_list_update_and_inspect_a_pull_request(world: World, receiver: Receiver) -> None:
    work = world.clone()
    head = _feature(world, work, "feature", {"src/mul.py": "def mul(a, b):\n    return a * b\n"})
    gh = world.owner_gh
    opened = gh.rest.pulls.create(
        "octo", "demo", title="Add mul", head="feature", base="main", body="Closes #99"
    ).parsed_data
    assert opened.number == 1 and opened.head.sha == head and opened.state == "open"
    # GitHub computes mergeability in the background: null until its job has run.
    assert (opened.mergeable, opened.mergeable_state) == (None, "unknown")
    assert world.control.settle(10)
    pull = gh.rest.pulls.get("octo", "demo", 1).parsed_data
    assert (pull.mergeable, pull.mergeable_state, pull.merged) == (True, "clean", False)
    assert (pull.commits, pull.additions, pull.changed_files) == (1, 2, 1)
    issue_view = gh.rest.issues.get("octo", "demo", 1).parsed_data
    assert issue_view.pull_request  # pull requests are issues too

    assert [
        p.number for p in gh.rest.pulls.list("octo", "demo", head="octo:feature").parsed_data
    ] == [1]
    assert gh.rest.pulls.list("octo", "demo", head="octo:other").parsed_data == []
    assert gh.rest.pulls.list("octo", "demo", state="closed").parsed_data == []
    files = gh.rest.pulls.list_files("octo", "demo", 1).parsed_data
    assert [(f.filename, f.status, f.additions) for f in files] == [("src/mul.py", "added", 2)]
    commits = gh.rest.pulls.list_commits("octo", "demo", 1).parsed_data
    assert [c.sha for c in commits] == [head]
    edited = gh.rest.pulls.update("octo", "demo", 1, title="Add mul()").parsed_data
    assert edited.title == "Add mul()"

    with pytest.raises(RequestFailed) as duplicate:
        gh.rest.pulls.create("octo", "demo", title="again", head="feature", base="main")
    assert duplicate.value.response.status_code == 422
    with pytest.raises(RequestFailed) as empty:
        gh.rest.pulls.create("octo", "demo", title="nothing", head="main", base="feature")
    assert empty.value.response.status_code == 422

    assert world.control.settle(10)
    actions = [r.action for r in receiver.events("pull_request")]
    assert actions == ["opened", "edited"]


def test_push_to_the_head_synchronizes_the_pull_request(world: World, receiver: Receiver) -> None:
    work = world.clone()
    first = _feature(world, work, "feature", {"a.txt": "a\n"})
    gh = world.owner_gh
    gh.rest.pulls.create("octo", "demo", title="A", head="feature", base="main")
    second = work.commit({"a.txt": "a2\n"}, "Again")
    work.push("feature")
    assert gh.rest.pulls.get("octo", "demo", 1).parsed_data.head.sha == second
    assert world.control.settle(10)
    sync = receiver.events("pull_request", "synchronize")
    assert [(s.payload["before"], s.payload["after"]) for s in sync] == [(first, second)]


def test_reviews_and_review_comments(world: World, receiver: Receiver) -> None:
    work = world.clone()
    _feature(world, work, "feature", {"a.txt": "a\n"})
    world.owner_gh.rest.pulls.create("octo", "demo", title="A", head="feature", base="main")
    bot = world.bot_gh()
    review = bot.rest.pulls.create_review(
        "octo",
        "demo",
        1,
        event="REQUEST_CHANGES",
        body="Needs tests",
        comments=[{"path": "a.txt", "line": 1, "body": "why?"}],
    ).parsed_data
    assert review.state == "CHANGES_REQUESTED" and review.user is not None
    approved = bot.rest.pulls.create_review("octo", "demo", 1, event="APPROVE").parsed_data
    assert approved.state == "APPROVED"
    listed = bot.rest.pulls.list_reviews("octo", "demo", 1).parsed_data
    assert [r.state for r in listed] == ["CHANGES_REQUESTED", "APPROVED"]
    comments = bot.rest.pulls.list_review_comments("octo", "demo", 1).parsed_data
    assert [(c.path, c.body, c.pull_request_review_id) for c in comments] == [
        ("a.txt", "why?", review.id)
    ]
    with pytest.raises(RequestFailed) as own:
        world.owner_gh.rest.pulls.create_review("octo", "demo", 1, event="APPROVE")
    assert own.value.response.status_code == 422
    assert world.control.settle(10)
    states = [r.payload["review"]["state"] for r in receiver.events("pull_request_review")]
    assert states == ["changes_requested", "approved"]


def test_merge_requires_the_current_head_and_closes_linked_issues(
    world: World, receiver: Receiver
) -> None:
    gh = world.owner_gh
    task = gh.rest.issues.create("octo", "demo", title="task").parsed_data
    work = world.clone()
    head = _feature(world, work, "feature", {"b.txt": "b\n"})
    pr = gh.rest.pulls.create(
        "octo", "demo", title="B", head="feature", base="main", body=f"Closes #{task.number}"
    ).parsed_data
    with pytest.raises(RequestFailed) as stale:
        gh.rest.pulls.merge("octo", "demo", pr.number, sha="0" * 40)
    assert stale.value.response.status_code == 409
    assert stale.value.response.json()["message"] == (
        "Head branch was modified. Review and try the merge again."
    )
    merged = gh.rest.pulls.merge("octo", "demo", pr.number, sha=head, merge_method="merge")
    assert merged.status_code == 200 and merged.parsed_data.merged
    main = gh.rest.repos.get_commit("octo", "demo", "main").parsed_data
    assert main.sha == merged.parsed_data.sha
    assert [p.sha for p in main.parents] == [pr.base.sha, head]

    fetched = gh.rest.pulls.get("octo", "demo", pr.number)
    after = fetched.parsed_data
    assert (after.state, after.merged) == ("closed", True)
    # API version 2026-03-10 dropped `merge_commit_sha` from the model; GitHub still sends it.
    assert fetched.json()["merge_commit_sha"] == main.sha
    closed = gh.rest.issues.get("octo", "demo", task.number).parsed_data
    assert (closed.state, closed.state_reason) == ("closed", "completed")
    assert world.control.settle(10)
    closing = receiver.events("pull_request", "closed")
    assert closing and closing[0].payload["pull_request"]["merged"] is True
    assert receiver.events("issues", "closed")[0].payload["issue"]["number"] == task.number
    assert receiver.events("push")[-1].payload["after"] == main.sha


def test_conflicting_pull_request_is_not_mergeable(world: World) -> None:
    gh = world.owner_gh
    work = world.clone()
    _feature(world, work, "left", {"README.md": "# left\n"})
    _feature(world, work, "right", {"README.md": "# right\n"})
    left = gh.rest.pulls.create("octo", "demo", title="L", head="left", base="main").parsed_data
    right = gh.rest.pulls.create("octo", "demo", title="R", head="right", base="main").parsed_data
    gh.rest.pulls.merge("octo", "demo", left.number, sha=left.head.sha)
    assert world.control.settle(10)
    after = gh.rest.pulls.get("octo", "demo", right.number).parsed_data
    assert (after.mergeable, after.mergeable_state) == (False, "dirty")
    with pytest.raises(RequestFailed) as conflict:
        gh.rest.pulls.merge("octo", "demo", right.number, sha=right.head.sha)
    assert conflict.value.response.status_code == 405
    assert conflict.value.response.json()["message"] == "Pull Request is not mergeable"


def test_update_branch_needs_the_expected_head(world: World, receiver: Receiver) -> None:
    gh = world.owner_gh
    work = world.clone()
    head = _feature(world, work, "feature", {"c.txt": "c\n"})
    _feature(world, work, "other", {"d.txt": "d\n"})
    pr = gh.rest.pulls.create("octo", "demo", title="C", head="feature", base="main").parsed_data
    other = gh.rest.pulls.create("octo", "demo", title="D", head="other", base="main").parsed_data
    gh.rest.pulls.merge("octo", "demo", other.number, merge_method="squash")

    with pytest.raises(RequestFailed) as wrong:
        gh.rest.pulls.update_branch("octo", "demo", pr.number, expected_head_sha="1" * 40)
    assert wrong.value.response.status_code == 422
    answer = gh.rest.pulls.update_branch("octo", "demo", pr.number, expected_head_sha=head)
    assert answer.status_code == 202 and answer.parsed_data.message
    moved = gh.rest.pulls.get("octo", "demo", pr.number).parsed_data
    assert moved.head.sha != head
    merge_commit = gh.rest.repos.get_commit("octo", "demo", moved.head.sha).parsed_data
    main = gh.rest.repos.get_branch("octo", "demo", "main").parsed_data.commit.sha
    assert [p.sha for p in merge_commit.parents] == [head, main]
    assert world.control.settle(10)
    sync = receiver.events("pull_request", "synchronize")
    assert [s.payload["after"] for s in sync] == [moved.head.sha]


def test_squash_and_rebase_merges(world: World) -> None:
    gh = world.owner_gh
    work = world.clone()
    work.branch("squashed", "origin/main")
    work.commit({"e.txt": "e1\n"}, "e one")
    work.commit({"e.txt": "e2\n"}, "e two")
    work.push("squashed")
    _feature(world, work, "rebased", {"f.txt": "f\n"})
    squash = gh.rest.pulls.create(
        "octo", "demo", title="E", head="squashed", base="main"
    ).parsed_data
    rebase = gh.rest.pulls.create(
        "octo", "demo", title="F", head="rebased", base="main"
    ).parsed_data
    squashed = gh.rest.pulls.merge("octo", "demo", squash.number, merge_method="squash").parsed_data
    commit = gh.rest.repos.get_commit("octo", "demo", squashed.sha).parsed_data
    assert len(commit.parents) == 1 and commit.commit.message.startswith("E (#")
    rebased = gh.rest.pulls.merge("octo", "demo", rebase.number, merge_method="rebase").parsed_data
    top = gh.rest.repos.get_commit("octo", "demo", rebased.sha).parsed_data
    assert [p.sha for p in top.parents] == [squashed.sha]
    assert top.commit.message == "Change on rebased"
    contents = gh.rest.repos.get_content("octo", "demo", "e.txt").parsed_data
    assert not isinstance(contents, list)


def test_draft_pull_requests_cannot_be_merged(world: World) -> None:
    gh = world.owner_gh
    work = world.clone()
    _feature(world, work, "wip", {"w.txt": "w\n"})
    pr = gh.rest.pulls.create(
        "octo", "demo", title="W", head="wip", base="main", draft=True
    ).parsed_data
    assert pr.draft and pr.mergeable_state == "draft"
    with pytest.raises(RequestFailed) as draft:
        gh.rest.pulls.merge("octo", "demo", pr.number)
    assert draft.value.response.status_code == 405


def test_deleting_the_head_branch_closes_the_pull_request(world: World) -> None:
    gh = world.owner_gh
    work = world.clone()
    _feature(world, work, "gone", {"g.txt": "g\n"})
    pr = gh.rest.pulls.create("octo", "demo", title="G", head="gone", base="main").parsed_data
    gh.rest.git.delete_ref("octo", "demo", "heads/gone")
    assert gh.rest.pulls.get("octo", "demo", pr.number).parsed_data.state == "closed"
