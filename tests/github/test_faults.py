"""GitHub failing under a write (5xx, secondary rate limits), through the simulator's fault
injection: githubkit retries what it may, the ops function then succeeds or raises, and in
neither case is anything created twice.

githubkit waits between attempts (1 s, 4 s, 9 s after a 5xx; `retry-after` after a rate
limit); `waits` records those waits instead of sleeping through them.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import anyio
import anyio.lowlevel
import githubkit.core
import pytest
from githubkit.exception import RequestFailed, SecondaryRateLimitExceeded

from app import context
from app.github import ops
from app.github.ops import SWARM_LABELS, marker
from tests.github.conftest import Repo

pytestmark = pytest.mark.asyncio(loop_scope="module")

RATE_LIMITED = "You have exceeded a secondary rate limit. Please wait a few minutes."


class _RecordedWaits:
    """Stands in for the `anyio` module inside githubkit.core only."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    async def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        await anyio.lowlevel.checkpoint()

    def __getattr__(self, name: str) -> Any:
        return getattr(anyio, name)


@pytest.fixture
def waits(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[float]]:
    recorded = _RecordedWaits()
    monkeypatch.setattr(githubkit.core, "anyio", recorded)
    yield recorded.waits


@pytest.fixture(autouse=True)
def _no_fault_left_behind(repo: Repo) -> Iterator[None]:
    yield
    repo.hub.control.clear_faults()


def _log(repo: Repo, since: int, method: str, path: str) -> list[tuple[int, bool]]:
    return [
        (r["status"], r["fault"]) for r in repo.hub.requests(since, path) if r["method"] == method
    ]


def _new_issue(repo: Repo) -> int:
    r = repo.ref
    return repo.owner_gh.rest.issues.create(r.owner, r.name, title="An issue").parsed_data.number


def _comments(repo: Repo, number: int) -> list[Any]:
    r = repo.ref
    return list(repo.owner_gh.rest.issues.list_comments(r.owner, r.name, number).parsed_data)


# one failure: retried, and done once -------------------------------------------------------------
async def test_a_502_on_creating_a_comment_is_retried_once_and_comments_once(
    repo: Repo, waits: list[float]
) -> None:
    r, number = repo.ref, _new_issue(repo)
    path = rf"^/repos/{r.full_name}/issues/{number}/comments$"
    repo.hub.control.inject_fault(path, 502, method="POST")
    before = repo.hub.last_seq()
    with context.bound(delivery="d-502"):
        cid = await ops.upsert_comment(repo.gh, r, number, "status", "k", "hello")
    assert waits == [1]
    assert [c.id for c in _comments(repo, number)] == [cid]
    assert _log(repo, before, "POST", path) == [(502, True), (201, False)]
    # The retried request names its run as the first did.
    posts = [x for x in repo.hub.requests(before, path) if x["method"] == "POST"]
    assert [x["run"] for x in posts] == ["delivery=d-502", "delivery=d-502"]


async def test_a_503_on_editing_a_comment_is_retried_and_edits_in_place(
    repo: Repo, waits: list[float]
) -> None:
    r, number = repo.ref, _new_issue(repo)
    cid = await ops.upsert_comment(repo.gh, r, number, "status", "k", "one")
    repo.hub.control.inject_fault(rf"^/repos/{r.full_name}/issues/comments/{cid}$", 503)
    assert await ops.upsert_comment(repo.gh, r, number, "status", "k", "two") == cid
    assert waits == [1]
    assert [(c.id, c.body) for c in _comments(repo, number)] == [
        (cid, f"two\n\n{marker('status', 'k')}")
    ]


async def test_a_500_on_the_look_before_creating_is_retried(repo: Repo, waits: list[float]) -> None:
    r, number = repo.ref, _new_issue(repo)
    await ops.upsert_comment(repo.gh, r, number, "status", "k", "one")
    path = rf"^/repos/{r.full_name}/issues/{number}/comments$"
    repo.hub.control.inject_fault(path, 500, method="GET")
    await ops.upsert_comment(repo.gh, r, number, "status", "k", "two")
    assert waits == [1]
    assert len(_comments(repo, number)) == 1


async def test_a_secondary_rate_limit_on_opening_a_pull_request_waits_and_opens_one(
    repo: Repo, waits: list[float]
) -> None:
    r = repo.ref
    head_sha = repo.push_branch("swarm/limited", {"a.txt": "a\n"}, "a")
    path = rf"^/repos/{r.full_name}/pulls$"
    repo.hub.control.inject_fault(path, 403, method="POST", retry_after=3, message=RATE_LIMITED)
    before = repo.hub.last_seq()
    pr = await ops.open_pull_request(
        repo.gh, r, head="swarm/limited", base="main", title="T", body="B"
    )
    assert waits == [3]  # GitHub's retry-after, honoured
    assert pr.head_sha == head_sha
    assert _log(repo, before, "POST", path) == [(403, True), (201, False)]
    pulls = repo.owner_gh.rest.pulls.list(r.owner, r.name, state="all").parsed_data
    assert [p.number for p in pulls] == [pr.number]


async def test_a_secondary_rate_limit_on_creating_an_issue_waits_and_creates_one(
    repo: Repo, waits: list[float]
) -> None:
    r = repo.ref
    await ops.ensure_labels(repo.gh, r)
    repo.hub.control.inject_fault(
        rf"^/repos/{r.full_name}/issues$", 403, method="POST", retry_after=1
    )
    tag = marker("task", "g/1")
    number, _ = await ops.create_issue(repo.gh, r, "Task", f"x\n\n{tag}", ["swarm:task"])
    assert waits == [1]
    assert await ops.find_issue_by_marker(repo.gh, r, "swarm:task", tag) == number
    issues = repo.owner_gh.rest.issues.list_for_repo(r.owner, r.name, state="all").parsed_data
    assert [i.number for i in issues] == [number]


# failures that outlast githubkit's retries: a clear error, nothing made, the replay makes one ----
async def test_a_rate_limit_that_persists_raises_and_the_replay_opens_one_pull_request(
    repo: Repo, waits: list[float]
) -> None:
    r = repo.ref
    repo.push_branch("swarm/busy", {"b.txt": "b\n"}, "b")
    path = rf"^/repos/{r.full_name}/pulls$"
    repo.hub.control.inject_fault(path, 403, method="POST", count=2, retry_after=1)
    with pytest.raises(SecondaryRateLimitExceeded) as limited:
        await ops.open_pull_request(repo.gh, r, head="swarm/busy", base="main", title="T", body="")
    assert limited.value.response.status_code == 403
    assert waits == [1]  # githubkit retries a rate limit once
    assert repo.owner_gh.rest.pulls.list(r.owner, r.name, state="all").parsed_data == []

    # The step's own retry (a replay) then finds nothing, creates one; a further replay finds it.
    first = await ops.open_pull_request(
        repo.gh, r, head="swarm/busy", base="main", title="T", body=""
    )
    again = await ops.open_pull_request(
        repo.gh, r, head="swarm/busy", base="main", title="T", body=""
    )
    assert again == first
    pulls = repo.owner_gh.rest.pulls.list(r.owner, r.name, state="all").parsed_data
    assert [p.number for p in pulls] == [first.number]


async def test_a_5xx_that_persists_raises_after_three_retries_and_creates_nothing(
    repo: Repo, waits: list[float]
) -> None:
    r = repo.ref
    await ops.ensure_labels(repo.gh, r)
    path = rf"^/repos/{r.full_name}/issues$"
    repo.hub.control.inject_fault(path, 502, method="POST", count=4)
    before = repo.hub.last_seq()
    with pytest.raises(RequestFailed) as failed:
        await ops.create_issue(repo.gh, r, "Task", "body", ["swarm:task"])
    assert failed.value.response.status_code == 502
    assert waits == [1, 4, 9]
    assert _log(repo, before, "POST", path) == [(502, True)] * 4
    assert repo.owner_gh.rest.issues.list_for_repo(r.owner, r.name, state="all").parsed_data == []


async def test_a_plain_403_is_not_retried(repo: Repo, waits: list[float]) -> None:
    """A 403 without `retry-after` (and with rate limit left) is a refusal, not a limit."""
    r, number = repo.ref, _new_issue(repo)
    path = rf"^/repos/{r.full_name}/issues/{number}/comments$"
    repo.hub.control.inject_fault(
        path, 403, method="POST", message="Resource not accessible by integration"
    )
    with pytest.raises(RequestFailed) as refused:
        await ops.upsert_comment(repo.gh, r, number, "status", "k", "hello")
    assert refused.value.response.status_code == 403
    assert not isinstance(refused.value, SecondaryRateLimitExceeded)
    assert waits == []
    assert _comments(repo, number) == []


async def test_labels_after_a_limit_that_persists_are_made_once_by_the_replay(
    repo: Repo, waits: list[float]
) -> None:
    r = repo.ref
    path = rf"^/repos/{r.full_name}/labels$"
    repo.hub.control.inject_fault(path, 403, method="POST", count=2, retry_after=1)
    with pytest.raises(SecondaryRateLimitExceeded):
        await ops.ensure_labels(repo.gh, r)
    assert waits == [1]
    assert _swarm_labels(repo) == []
    assert await ops.ensure_labels(repo.gh, r) == list(SWARM_LABELS)
    assert await ops.ensure_labels(repo.gh, r) == []
    assert _swarm_labels(repo) == sorted(SWARM_LABELS)


def _swarm_labels(repo: Repo) -> list[str]:
    r = repo.ref
    labels = repo.owner_gh.rest.issues.list_labels_for_repo(r.owner, r.name, per_page=100)
    return sorted(lb.name for lb in labels.parsed_data if lb.name.startswith("swarm"))
