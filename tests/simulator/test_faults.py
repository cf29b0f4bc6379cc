"""Injected faults and the request log."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from githubkit.exception import RequestFailed, SecondaryRateLimitExceeded

from tests.simulator.conftest import World


def test_a_503_then_the_real_answer(world: World) -> None:
    world.control.inject_fault(r"^/repos/octo/demo$", 503, method="GET", count=1)
    headers = {"Authorization": f"token {world.owner.token}"}
    with httpx.Client(base_url=world.sim.url, headers=headers) as client:
        failed = client.get("/repos/octo/demo")
        assert failed.status_code == 503
        assert set(failed.json()) >= {"message", "documentation_url"}
        assert client.get("/repos/octo/demo").status_code == 200
    world.control.inject_fault(r"^/repos/octo/demo$", 503, method="GET")
    gh = world.owner_gh
    with pytest.raises(RequestFailed) as through_githubkit:
        gh.rest.repos.get("octo", "demo")
    assert through_githubkit.value.response.status_code == 503
    assert gh.rest.repos.get("octo", "demo").parsed_data.name == "demo"
    log = [r for r in world.control.requests() if r["path"] == "/repos/octo/demo"]
    assert [(r["status"], r["fault"]) for r in log] == [
        (503, True),
        (200, False),
        (503, True),
        (200, False),
    ]
    assert all(r["actor"] == "octo" for r in log)


def test_secondary_rate_limit_with_retry_after(world: World) -> None:
    world.control.inject_fault(r"/issues$", 403, method="POST", retry_after=7)
    gh = world.owner_gh
    with pytest.raises(SecondaryRateLimitExceeded) as limited:
        gh.rest.issues.create("octo", "demo", title="too fast")
    assert limited.value.retry_after == timedelta(seconds=7)
    assert "secondary rate limit" in limited.value.response.json()["message"]
    assert gh.rest.issues.create("octo", "demo", title="later").parsed_data.number == 1


def test_a_409_on_the_next_merge(world: World) -> None:
    work = world.clone()
    work.branch("feature")
    head = work.commit({"a.txt": "a\n"}, "a")
    work.push("feature")
    gh = world.owner_gh
    pr = gh.rest.pulls.create("octo", "demo", title="A", head="feature", base="main").parsed_data
    world.control.inject_fault(r"/pulls/\d+/merge$", 409, method="PUT")
    with pytest.raises(RequestFailed) as conflict:
        gh.rest.pulls.merge("octo", "demo", pr.number, sha=head)
    assert conflict.value.response.status_code == 409
    assert gh.rest.pulls.merge("octo", "demo", pr.number, sha=head).parsed_data.merged
    assert world.control.faults()[0]["remaining"] == 0


def test_request_log_shows_whether_anything_was_written(world: World) -> None:
    start = world.control.requests()[-1]["seq"] if world.control.requests() else 0
    gh = world.owner_gh
    gh.rest.issues.list_for_repo("octo", "demo")
    gh.rest.repos.get("octo", "demo")
    reads = world.control.requests(since=start)
    assert reads and all(r["method"] == "GET" for r in reads)
    gh.rest.issues.create("octo", "demo", title="a write")
    writes = [r for r in world.control.requests(since=start) if r["method"] != "GET"]
    assert [(w["method"], w["path"], w["actor"], w["status"]) for w in writes] == [
        ("POST", "/repos/octo/demo/issues", "octo", 201)
    ]
