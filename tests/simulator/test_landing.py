"""What a merge gate leans on when it lands a commit itself: fast-forward-only ref updates, pull
requests GitHub marks merged when their head reaches the base, `refs/pull/N/head`, compare, the
"is it merged?" check and git commits."""

from __future__ import annotations

import pytest
from githubkit.exception import RequestFailed

from tests.simulator.conftest import World
from tests.simulator.support import Receiver, Worktree


def _branch(work: Worktree, name: str, files: dict[str, str], start: str = "origin/main") -> str:
    work.branch(name, start)
    sha = work.commit(files, f"Change on {name}")
    work.push(name)
    return sha


def test_ref_update_must_fast_forward_unless_forced(world: World) -> None:
    gh = world.owner_gh
    work = world.clone()
    ahead = _branch(work, "ahead", {"a.txt": "a\n"})
    sideways = _branch(work, "sideways", {"b.txt": "b\n"})
    with pytest.raises(RequestFailed) as refused:
        gh.rest.git.update_ref("octo", "demo", "heads/ahead", sha=sideways)  # force defaults off
    assert refused.value.response.status_code == 422
    assert refused.value.response.json()["message"] == "Update is not a fast forward"
    with pytest.raises(RequestFailed):
        gh.rest.git.update_ref("octo", "demo", "heads/ahead", sha=sideways, force=False)
    assert gh.rest.git.get_ref("octo", "demo", "heads/ahead").parsed_data.object_.sha == ahead
    moved = gh.rest.git.update_ref("octo", "demo", "heads/ahead", sha=sideways, force=True)
    assert moved.parsed_data.object_.sha == sideways


def test_a_fast_forward_of_the_base_merges_the_pull_request_once(
    world: World, receiver: Receiver
) -> None:
    gh = world.owner_gh
    task = gh.rest.issues.create("octo", "demo", title="task").parsed_data
    work = world.clone()
    head = _branch(work, "feature", {"c.txt": "c\n"})
    pr = gh.rest.pulls.create(
        "octo", "demo", title="C", head="feature", base="main", body=f"Fixes #{task.number}"
    ).parsed_data
    bot = world.bot_gh()
    bot.rest.git.update_ref("octo", "demo", "heads/main", sha=head)  # the gate lands it

    fetched = gh.rest.pulls.get("octo", "demo", pr.number)
    after = fetched.parsed_data
    assert (after.state, after.merged) == ("closed", True)
    assert after.merged_by is not None and after.merged_by.login == "swarm[bot]"
    assert after.merged_at is not None
    assert fetched.json()["merge_commit_sha"] == head
    assert gh.rest.pulls.check_if_merged("octo", "demo", pr.number).status_code == 204
    assert gh.rest.issues.get("octo", "demo", task.number).parsed_data.state == "closed"

    more = work.commit({"d.txt": "d\n"}, "after the landing")
    work.push("main")  # another push to the base: nothing happens to the merged pull request
    assert more
    assert world.control.settle(10)
    closed = receiver.events("pull_request", "closed")
    assert len(closed) == 1 and closed[0].payload["pull_request"]["merged"] is True
    assert closed[0].payload["pull_request"]["merged_by"]["login"] == "swarm[bot]"
    assert [e.payload["issue"]["number"] for e in receiver.events("issues", "closed")] == [
        task.number
    ]


def test_a_push_containing_the_head_merges_and_other_branches_do_not(world: World) -> None:
    gh = world.owner_gh
    work = world.clone()
    head = _branch(work, "topic", {"e.txt": "e\n"})
    pr = gh.rest.pulls.create("octo", "demo", title="E", head="topic", base="main").parsed_data
    work.branch("elsewhere", head)
    work.push("elsewhere")  # the head reaches another branch: not the base
    assert gh.rest.pulls.get("octo", "demo", pr.number).parsed_data.state == "open"
    with pytest.raises(RequestFailed) as not_merged:
        gh.rest.pulls.check_if_merged("octo", "demo", pr.number)
    assert not_merged.value.response.status_code == 404
    work.git("merge", "--quiet", "--no-ff", "-m", "merge by hand", head)
    landed = work.git("rev-parse", "HEAD").stdout.strip()
    work.push("main")
    fetched = gh.rest.pulls.get("octo", "demo", pr.number)
    assert fetched.parsed_data.merged and fetched.json()["merge_commit_sha"] == landed
    assert fetched.parsed_data.merged_by is not None
    assert fetched.parsed_data.merged_by.login == "octo"


def test_refs_pull_head_follows_the_head_and_can_be_fetched(world: World) -> None:
    gh = world.owner_gh
    work = world.clone()
    first = _branch(work, "feature", {"f.txt": "f\n"})
    gh.rest.pulls.create("octo", "demo", title="F", head="feature", base="main")
    work.git("fetch", "--quiet", "origin", "refs/pull/1/head")
    assert work.git("rev-parse", "FETCH_HEAD").stdout.strip() == first
    second = work.commit({"f.txt": "f2\n"}, "again")
    work.push("feature")
    work.git("fetch", "--quiet", "origin", "refs/pull/1/head")
    assert work.git("rev-parse", "FETCH_HEAD").stdout.strip() == second
    refused = work.git("push", "origin", "HEAD:refs/pull/1/head", check=False)
    assert refused.returncode != 0  # GitHub keeps these refs itself


def test_compare_tells_ahead_behind_identical_and_diverged(world: World) -> None:
    gh = world.owner_gh
    work = world.clone()
    main = work.git("rev-parse", "HEAD").stdout.strip()
    one = _branch(work, "one", {"g.txt": "g\n"})
    two = work.commit({"h.txt": "h\n"}, "second on one")
    work.push("one")
    other = _branch(work, "other", {"i.txt": "i\n"})

    ahead = gh.rest.repos.compare_commits("octo", "demo", "main...one").parsed_data
    assert (ahead.status, ahead.ahead_by, ahead.behind_by, ahead.total_commits) == (
        "ahead",
        2,
        0,
        2,
    )
    assert [c.sha for c in ahead.commits] == [one, two]
    assert ahead.merge_base_commit.sha == main and ahead.base_commit.sha == main
    assert [(f.filename, f.status) for f in ahead.files or []] == [
        ("g.txt", "added"),
        ("h.txt", "added"),
    ]
    behind = gh.rest.repos.compare_commits("octo", "demo", "one...main").parsed_data
    assert (behind.status, behind.ahead_by, behind.behind_by) == ("behind", 0, 2)
    same = gh.rest.repos.compare_commits("octo", "demo", f"{main}...main").parsed_data
    assert (same.status, same.commits) == ("identical", [])
    diverged = gh.rest.repos.compare_commits("octo", "demo", "one...other").parsed_data
    assert (diverged.status, diverged.ahead_by, diverged.behind_by) == ("diverged", 1, 2)
    assert diverged.merge_base_commit.sha == main and [c.sha for c in diverged.commits] == [other]
    paged = gh.rest.repos.compare_commits("octo", "demo", "main...one", per_page=1).parsed_data
    assert [c.sha for c in paged.commits] == [one] and paged.total_commits == 2
    with pytest.raises(RequestFailed) as missing:
        gh.rest.repos.compare_commits("octo", "demo", "main...nowhere")
    assert missing.value.response.status_code == 404


def test_git_commit_of_a_sha(world: World) -> None:
    gh = world.owner_gh
    work = world.clone()
    sha = _branch(work, "j", {"j.txt": "j\n"})
    commit = gh.rest.git.get_commit("octo", "demo", sha).parsed_data
    assert commit.sha == sha and commit.message == "Change on j"
    assert commit.tree.sha == work.git("rev-parse", "HEAD^{tree}").stdout.strip()
    assert [p.sha for p in commit.parents] == [work.git("rev-parse", "HEAD^").stdout.strip()]
