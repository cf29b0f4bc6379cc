"""`app.github.client.GitHubApp` against the simulator: the App's identity, installation
clients, repository-narrowed tokens for git, and the run header on every write."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from githubkit.exception import RequestFailed

from app import context
from app.github import ops
from app.github.client import HEADER, GitHubApp
from app.workspace.git import auth_env
from tests.github.conftest import APP_SLUG, OWNER, Hub, Repo
from tests.simulator.support import git_env

pytestmark = pytest.mark.asyncio(loop_scope="module")


def _git(cwd: Path, token: str, *args: str) -> subprocess.CompletedProcess[str]:
    """git as the swarm runs it: the token sent as a header, never written into a URL."""
    return subprocess.run(
        ["git", *args],
        cwd=cwd,
        env={**git_env(cwd), **auth_env(token)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


# identity and installations ----------------------------------------------------------------------
async def test_identity_is_the_app_s_slug_and_is_asked_once(hub: Hub) -> None:
    app = hub.fresh_app()
    before = hub.last_seq()
    identity = await app.identity()
    assert identity.slug == APP_SLUG
    assert identity.bot_login == f"{APP_SLUG}[bot]"
    assert await app.identity() is identity
    asked = hub.requests(before, r"^/app$")
    assert [(r["method"], r["actor"], r["status"]) for r in asked] == [("GET", "app", 200)]


async def test_each_installation_has_one_client(repo: Repo) -> None:
    app = repo.app
    assert app.installation(repo.installation_id) is app.installation(repo.installation_id)
    assert app.installation(repo.installation_id) is not app.app


async def test_apps_with_the_same_id_do_not_share_tokens(repo: Repo) -> None:
    """Two App objects (two simulators in one process, a test's and the service's) each fetch
    their own installation token rather than reuse the other's from a process-wide cache."""
    hub = repo.hub
    before = hub.last_seq()
    for _ in range(2):
        await ops.repo_info(GitHubApp(1, hub.private_key, hub.url).installation(
            repo.installation_id
        ), repo.ref)  # fmt: skip
    minted = hub.requests(before, rf"^/app/installations/{repo.installation_id}/access_tokens$")
    assert [r["status"] for r in minted] == [201, 201]


async def test_an_installation_token_is_reused_for_later_requests(hub: Hub, repo: Repo) -> None:
    app = hub.fresh_app()
    gh = app.installation(repo.installation_id)
    before = hub.last_seq()
    for _ in range(3):
        await ops.repo_info(gh, repo.ref)
    minted = hub.requests(before, r"/access_tokens$")
    assert len(minted) == 1


# repository tokens for git -----------------------------------------------------------------------
async def test_repository_token_works_for_git_on_its_repository(repo: Repo) -> None:
    token = await repo.app.repository_token(repo.installation_id, repo.ref.name)
    url = repo.sim_repo.clone_url
    work = repo.tmp / "clone"
    cloned = _git(repo.tmp, token, "clone", "--quiet", url, str(work))
    assert cloned.returncode == 0, cloned.stderr
    assert (work / "README.md").read_text() == "# demo\n"
    (work / "new.txt").write_text("new\n")
    assert _git(work, token, "add", "new.txt").returncode == 0
    assert _git(work, token, "commit", "--quiet", "-m", "new").returncode == 0
    pushed = _git(work, token, "push", "--quiet", "origin", "HEAD:refs/heads/swarm/new")
    assert pushed.returncode == 0, pushed.stderr
    assert await ops.file_text(repo.gh, repo.ref, "new.txt", "swarm/new") == "new\n"
    # The push is the App's bot's, as on GitHub.
    push = repo.hub.requests(0, rf"^/{repo.sim_repo.full_name}\.git/git-receive-pack")
    assert push and push[-1]["actor"] == f"{APP_SLUG}[bot]"


async def test_repository_token_is_narrowed_to_its_repository(repo: Repo) -> None:
    """The simulator enforces the narrowing: another repository of the same installation is
    out of the token's reach (a private one is invisible, a public one read-only)."""
    hub = repo.hub
    private = hub.control.create_repo(OWNER, f"{repo.ref.name}-secret", private=True)
    public = hub.control.create_repo(OWNER, f"{repo.ref.name}-other")
    assert private.installation_id == public.installation_id == repo.installation_id
    token = await repo.app.repository_token(repo.installation_id, repo.ref.name)

    hidden = _git(repo.tmp, token, "ls-remote", private.clone_url)
    assert hidden.returncode != 0 and "not found" in hidden.stderr.lower()
    # The installation itself (a token not narrowed) does reach it.
    whole = await repo.app.app.rest.apps.async_create_installation_access_token(
        repo.installation_id
    )
    assert _git(repo.tmp, whole.parsed_data.token, "ls-remote", private.clone_url).returncode == 0

    work = repo.tmp / "other"
    assert _git(repo.tmp, token, "clone", "--quiet", public.clone_url, str(work)).returncode == 0
    (work / "x.txt").write_text("x\n")
    _git(work, token, "add", "x.txt")
    _git(work, token, "commit", "--quiet", "-m", "x")
    denied = _git(work, token, "push", "--quiet", "origin", "HEAD:refs/heads/nope")
    assert denied.returncode != 0 and "denied" in denied.stderr.lower()


async def test_repository_token_for_a_repository_outside_the_installation(repo: Repo) -> None:
    outside = repo.hub.control.create_repo(OWNER, f"{repo.ref.name}-bare", install=False)
    with pytest.raises(RequestFailed) as refused:
        await repo.app.repository_token(repo.installation_id, outside.name)
    assert refused.value.response.status_code == 422


# the run header ----------------------------------------------------------------------------------
async def test_every_write_names_its_run_and_reads_do_not(hub: Hub, repo: Repo) -> None:
    app = hub.fresh_app()  # a fresh App: its token request falls in the window too
    gh = app.installation(repo.installation_id)
    r = repo.ref
    number = repo.owner_gh.rest.issues.create(r.owner, r.name, title="t").parsed_data.number
    before = hub.last_seq()
    with context.bound(delivery="d-1", target="o/r#1"):
        await ops.ensure_labels(gh, r)
        cid = await ops.upsert_comment(gh, r, number, "status", "k", "one")
        await ops.upsert_comment(gh, r, number, "status", "k", "two")
        await ops.react_to_comment(gh, r, cid, "eyes")
        await ops.find_issue_by_marker(gh, r, "swarm", "nothing")
    logged = hub.requests(before)
    writes = [x for x in logged if x["method"] != "GET"]
    reads = [x for x in logged if x["method"] == "GET"]
    assert {(x["method"], x["path"].rsplit("/", 1)[-1]) for x in writes} == {
        ("POST", "access_tokens"),
        ("POST", "labels"),
        ("POST", "comments"),
        ("PATCH", str(cid)),
        ("POST", "reactions"),
    }
    assert all(x["run"] == "delivery=d-1;target=o/r#1" for x in writes), writes
    assert reads and all(x["run"] == "" for x in reads), reads


async def test_a_write_outside_any_run_sends_an_empty_run(hub: Hub, repo: Repo) -> None:
    assert HEADER == "X-Swarm-Run"
    gh = hub.fresh_app().installation(repo.installation_id)  # used as the service uses it
    r = repo.ref
    number = repo.owner_gh.rest.issues.create(r.owner, r.name, title="t").parsed_data.number
    before = hub.last_seq()
    await ops.react_to_issue(gh, r, number, "eyes")
    writes = [x for x in hub.requests(before) if x["method"] != "GET"]
    # The installation token's request, then the reaction: neither names a run.
    assert [x["path"].rsplit("/", 1)[-1] for x in writes] == ["access_tokens", "reactions"]
    assert [x["run"] for x in writes] == ["", ""]
    # Nothing of an earlier bound run leaks into a later write.
    before = hub.last_seq()
    with context.bound(delivery="d-2"):
        await ops.react_to_issue(gh, r, number, "rocket")
    await ops.react_to_issue(gh, r, number, "heart")
    runs = [x["run"] for x in hub.requests(before) if x["method"] != "GET"]
    assert runs == ["delivery=d-2", ""]
