"""The judge's writes in `app.github.ops` — its review and its `swarm/judge` check run — over
real HTTP against the simulator: each lands once however often a step is replayed, and touches
only what is the App's own."""

from __future__ import annotations

import pytest
from githubkit.exception import RequestFailed

from app.github import ops
from app.github.ops import marker
from tests.github.conftest import APP_SLUG, Repo
from tests.simulator.support import user_client

pytestmark = pytest.mark.asyncio(loop_scope="module")

BOT = f"{APP_SLUG}[bot]"
NAME = "swarm/judge"


def _writes(repo: Repo, since: int) -> list[tuple[str, str]]:
    return [(r["method"], r["path"]) for r in repo.hub.requests(since) if r["method"] != "GET"]


async def _bot_pull_request(repo: Repo, branch: str = "swarm/1-task") -> ops.PullRequestRef:
    repo.push_branch(branch, {"a.txt": "a\n"}, "Add a")
    return await ops.open_pull_request(
        repo.gh, repo.ref, head=branch, base="main", title="Task", body="Closes #1"
    )


# reviews -----------------------------------------------------------------------------------------
async def test_post_review_posts_one_comment_review_per_key(repo: Repo) -> None:
    r, pr = repo.ref, await _bot_pull_request(repo)
    first = await ops.post_review(repo.gh, r, pr.number, pr.head_sha, "Looks right", "1:abc", BOT)
    before = repo.hub.last_seq()
    again = await ops.post_review(repo.gh, r, pr.number, pr.head_sha, "Looks right", "1:abc", BOT)
    assert again == first and _writes(repo, before) == []

    other = await ops.post_review(repo.gh, r, pr.number, pr.head_sha, "Again", "1:def", BOT)
    assert other != first
    reviews = repo.owner_gh.rest.pulls.list_reviews(r.owner, r.name, pr.number).parsed_data
    assert [(v.id, v.state, v.commit_id, v.body) for v in reviews] == [
        (first, "COMMENTED", pr.head_sha, f"Looks right\n\n{marker('review', '1:abc')}"),
        (other, "COMMENTED", pr.head_sha, f"Again\n\n{marker('review', '1:def')}"),
    ]
    assert all(v.user is not None and v.user.login == BOT for v in reviews)


async def test_the_bot_may_not_approve_its_own_pull_request(repo: Repo) -> None:
    """Why `post_review` only comments: GitHub refuses a verdict from the pull request's
    author, and the App's bot opened it."""
    r, pr = repo.ref, await _bot_pull_request(repo)
    for event in ("APPROVE", "REQUEST_CHANGES"):
        with pytest.raises(RequestFailed) as refused:
            await repo.gh.rest.pulls.async_create_review(
                r.owner, r.name, pr.number, commit_id=pr.head_sha, body="ok", event=event
            )
        assert refused.value.response.status_code == 422


async def test_post_review_leaves_other_peoples_reviews_with_the_marker_alone(repo: Repo) -> None:
    r, pr = repo.ref, await _bot_pull_request(repo)
    tag = marker("review", "1:abc")
    mallory = repo.hub.control.create_user(f"mallory-{r.name}"[:39])
    repo.hub.control.set_permission(r.owner, r.name, mallory.login, "write")
    mallory_gh = user_client(repo.hub.url, mallory.token)
    planted = mallory_gh.rest.pulls.create_review(
        r.owner, r.name, pr.number, body=f"lgtm\n\n{tag}", event="COMMENT"
    ).parsed_data.id
    mine = await ops.post_review(repo.gh, r, pr.number, pr.head_sha, "Judged", "1:abc", BOT)
    assert mine != planted
    # Another App's bot is not ours either, when the App says who it is.
    theirs = await ops.post_review(
        repo.gh, r, pr.number, pr.head_sha, "Judged", "1:abc", "another-app[bot]"
    )
    assert theirs not in (mine, planted)


async def test_post_review_removes_credentials_from_the_text(repo: Repo) -> None:
    r, pr = repo.ref, await _bot_pull_request(repo)
    secret = "ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"
    rid = await ops.post_review(repo.gh, r, pr.number, pr.head_sha, f"saw {secret}", "k", BOT)
    review = repo.owner_gh.rest.pulls.get_review(r.owner, r.name, pr.number, rid).parsed_data
    assert secret not in review.body and "[credential removed]" in review.body


# check runs --------------------------------------------------------------------------------------
def _runs(repo: Repo, sha: str, name: str = NAME) -> list[tuple[int, str, str | None, str | None]]:
    r = repo.ref
    runs = repo.owner_gh.rest.checks.list_for_ref(
        r.owner, r.name, sha, check_name=name, filter_="all"
    ).parsed_data.check_runs
    return [(c.id, c.app.slug if c.app else "", c.conclusion, c.output.title) for c in runs]


async def test_set_check_run_creates_it_completed_then_updates_it_in_place(repo: Repo) -> None:
    r = repo.ref
    sha = repo.push_branch("swarm/2-task", {"b.txt": "b\n"}, "Add b")
    first = await ops.set_check_run(
        repo.gh, r, sha, NAME, "failure", "Changes requested", "Not yet", "| table |",
        app_slug=APP_SLUG,
    )  # fmt: skip
    run = repo.owner_gh.rest.checks.get(r.owner, r.name, first).parsed_data
    assert (run.status, run.conclusion, run.head_sha) == ("completed", "failure", sha)
    assert (run.output.title, run.output.summary, run.output.text) == (
        "Changes requested", "Not yet", "| table |",
    )  # fmt: skip

    before = repo.hub.last_seq()
    same = await ops.set_check_run(
        repo.gh, r, sha, NAME, "failure", "Changes requested", "Not yet", "| table |",
        app_slug=APP_SLUG,
    )  # fmt: skip
    assert same == first and _writes(repo, before) == []

    url = "https://example.com/judged"
    now = await ops.set_check_run(
        repo.gh, r, sha, NAME, "success", "Approved", "All met", "| t |", url, app_slug=APP_SLUG
    )
    assert now == first
    assert [(m, p) for m, p in _writes(repo, before) if "check-runs" in p] == [
        ("PATCH", f"/repos/{r.owner}/{r.name}/check-runs/{first}")
    ]
    assert _runs(repo, sha) == [(first, APP_SLUG, "success", "Approved")]
    run = repo.owner_gh.rest.checks.get(r.owner, r.name, first).parsed_data
    assert (run.output.summary, run.output.text, run.details_url) == ("All met", "| t |", url)


async def test_set_check_run_is_per_commit(repo: Repo) -> None:
    r = repo.ref
    one = repo.push_branch("swarm/3-task", {"c.txt": "1\n"}, "c1")
    two = repo.push_branch("swarm/3-task", {"c.txt": "2\n"}, "c2")
    a = await ops.set_check_run(repo.gh, r, one, NAME, "success", "ok", "s", "t")
    b = await ops.set_check_run(repo.gh, r, two, NAME, "failure", "no", "s", "t")
    assert a != b
    assert _runs(repo, one) == [(a, APP_SLUG, "success", "ok")]
    assert _runs(repo, two) == [(b, APP_SLUG, "failure", "no")]


async def test_set_check_run_leaves_another_apps_run_of_that_name_alone(repo: Repo) -> None:
    """CI (GitHub Actions, here) reports a run named `ci`; the App's own `ci` is another run."""
    r, control = repo.ref, repo.hub.control
    control.update_repo(r.owner, r.name, ci_command="true")
    sha = (await _bot_pull_request(repo, "swarm/4-task")).head_sha  # CI runs on pull requests
    assert control.settle()
    [(ci, ci_app, ci_conclusion, _)] = _runs(repo, sha, "ci")
    assert ci_app != APP_SLUG and ci_conclusion == "success"

    # Not told who it is, the App tries the other's run, is refused (403), and makes its own.
    before = repo.hub.last_seq()
    mine = await ops.set_check_run(repo.gh, r, sha, "ci", "failure", "judged", "s", "t")
    assert mine != ci
    writes = [(w["method"], w["path"].rsplit("/", 1)[-1], w["status"])
              for w in repo.hub.requests(before, "check-runs") if w["method"] != "GET"]  # fmt: skip
    assert writes == [("PATCH", str(ci), 403), ("POST", "check-runs", 201)]
    # Told, it never looks at the other's run: it finds its own, unchanged.
    before = repo.hub.last_seq()
    again = await ops.set_check_run(
        repo.gh, r, sha, "ci", "failure", "judged", "s", "t", app_slug=APP_SLUG
    )
    assert again == mine and _writes(repo, before) == []
    runs = {(run_id, app, conclusion) for run_id, app, conclusion, _ in _runs(repo, sha, "ci")}
    assert runs == {(ci, ci_app, "success"), (mine, APP_SLUG, "failure")}


async def test_set_check_run_caps_and_redacts_its_output(repo: Repo) -> None:
    r = repo.ref
    sha = repo.push_branch("swarm/5-task", {"e.txt": "e\n"}, "e")
    secret = "ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"
    cid = await ops.set_check_run(
        repo.gh, r, sha, NAME, "failure", "t", f"leaked {secret}", "x" * 70_000
    )
    run = repo.owner_gh.rest.checks.get(r.owner, r.name, cid).parsed_data
    assert secret not in (run.output.summary or "")
    assert len(run.output.text or "") <= ops.CHECK_TEXT_LIMIT
    assert (run.output.text or "").endswith("[… cut at GitHub's limit]")
