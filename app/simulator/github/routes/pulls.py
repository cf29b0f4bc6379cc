"""Pull requests: create, get, list, update, files, commits, merge and update-branch."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from app.simulator.github import issueops, merging
from app.simulator.github.auth import Actor, require
from app.simulator.github.core import Simulator
from app.simulator.github.errors import GitHubError, validation_failed
from app.simulator.github.events import commit_json
from app.simulator.github.gitops import GitRepo
from app.simulator.github.models import Issue, PullInfo, Repo
from app.simulator.github.policy import pusher_for
from app.simulator.github.pullfacts import apply_facts, compute_facts, forget_mergeability
from app.simulator.github.routes.deps import (
    ActorDep,
    BodyDep,
    SimDep,
    opt_bool,
    opt_str,
    paginate,
    repo_for,
    req_str,
)
from app.simulator.github.routes.repos import diff_entry

router = APIRouter()


def _custom(message: str) -> GitHubError:
    return GitHubError(
        422,
        "Validation Failed",
        errors=[{"resource": "PullRequest", "code": "custom", "message": message}],
    )


def _branch_of(repo: Repo, head: str) -> str:
    owner, sep, branch = head.partition(":")
    if not sep:
        return head
    if owner.lower() != repo.owner.login.lower():
        raise validation_failed("PullRequest", "head", "invalid")  # forks are not simulated
    return branch


@router.post("/repos/{owner}/{repo}/pulls", status_code=201)
def create_pull(
    sim: SimDep, actor: ActorDep, owner: str, repo: str, body: BodyDep
) -> dict[str, Any]:
    found = repo_for(sim, actor, owner, repo, "read", "pull_requests")
    user = actor.require_user()
    if actor.token is not None:
        require(sim.state, actor, found, "write", "pull_requests")
    head = _branch_of(found, req_str(body, "head", "PullRequest"))
    base = req_str(body, "base", "PullRequest")
    title = req_str(body, "title", "PullRequest")
    git = GitRepo(found.path)
    with sim.repo_lock(found):
        head_sha = git.resolve(f"refs/heads/{head}")
        if head_sha is None:
            raise validation_failed("PullRequest", "head", "invalid")
        base_sha = git.resolve(f"refs/heads/{base}")
        if base_sha is None:
            raise validation_failed("PullRequest", "base", "invalid")
        if not git.rev_list(f"{base_sha}..{head_sha}"):
            raise _custom(f"No commits between {base} and {head}")
        facts = compute_facts(git, base, head_sha)
        with sim.state.lock:
            if any(
                i.pull.head_ref == head and i.pull.base_ref == base
                for i in found.open_pulls()
                if i.pull is not None
            ):
                raise _custom(f"A pull request already exists for {found.owner.login}:{head}.")
            pull = PullInfo(
                sim.state.next_id(),
                head,
                head_sha,
                base,
                base_sha,
                draft=bool(opt_bool(body, "draft", "PullRequest")),
            )
            if facts is not None:
                apply_facts(pull, facts)
            issue = issueops.new_issue(
                sim, found, user, title, opt_str(body, "body", "PullRequest"), pull
            )
            sim.events.pull_request("opened", found, issue, user)
            answer = sim.render.pull(found, issue)
        git.set_ref(f"refs/pull/{issue.number}/head", head_sha)
        sim.ci.trigger(found, head_sha, head)
    sim.mergeability.request(found, issue.number)
    return answer


@router.get("/repos/{owner}/{repo}/pulls/{number:int}")
def get_pull(sim: SimDep, actor: ActorDep, owner: str, repo: str, number: int) -> dict[str, Any]:
    found = repo_for(sim, actor, owner, repo, "read", "pull_requests")
    with sim.state.lock:
        return sim.render.pull(found, sim.state.pull(found, number))


def _listed(issue: Issue, query: dict[str, str], repo: Repo) -> bool:
    pull = issue.pull
    if pull is None:
        return False
    state = query.get("state", "open")
    if state != "all" and issue.state != state:
        return False
    if query.get("head") and _branch_of(repo, query["head"]) != pull.head_ref:
        return False
    return not query.get("base") or query["base"] == pull.base_ref


@router.get("/repos/{owner}/{repo}/pulls")
def list_pulls(
    sim: SimDep, actor: ActorDep, owner: str, repo: str, request: Request, response: Response
) -> list[dict[str, Any]]:
    found = repo_for(sim, actor, owner, repo, "read", "pull_requests")
    query = dict(request.query_params)
    head_owner = query.get("head", "").partition(":")[0] if ":" in query.get("head", "") else None
    if head_owner is not None and head_owner.lower() != found.owner.login.lower():
        return []
    with sim.state.lock:
        items = [i for i in found.issues.values() if _listed(i, query, found)]
        attr = "updated_at" if query.get("sort") == "updated" else "created_at"
        items.sort(
            key=lambda i: (getattr(i, attr), i.number),
            reverse=query.get("direction", "desc") != "asc",
        )
        return [sim.render.pull(found, i) for i in paginate(request, response, items)]


def _may_edit(sim: Simulator, actor: Actor, repo: Repo, issue: Issue) -> None:
    if actor.token is not None or issue.user.id != actor.require_user().id:
        require(sim.state, actor, repo, "write", "pull_requests")


@router.patch("/repos/{owner}/{repo}/pulls/{number:int}")
def update_pull(
    sim: SimDep, actor: ActorDep, owner: str, repo: str, number: int, body: BodyDep
) -> dict[str, Any]:
    found = repo_for(sim, actor, owner, repo, "read", "pull_requests")
    user = actor.require_user()
    new_base = opt_str(body, "base", "PullRequest")
    git = GitRepo(found.path)
    with sim.repo_lock(found):
        with sim.state.lock:
            issue = sim.state.pull(found, number)
            _may_edit(sim, actor, found, issue)
            pull = issue.pull
            assert pull is not None
            head_sha = pull.head_sha
        facts = None
        if new_base and new_base != pull.base_ref:
            if git.resolve(f"refs/heads/{new_base}") is None:
                raise validation_failed("PullRequest", "base", "invalid")
            facts = compute_facts(git, new_base, head_sha)
        with sim.state.lock:
            issueops.edit_text(
                sim,
                found,
                issue,
                opt_str(body, "title", "PullRequest"),
                opt_str(body, "body", "PullRequest"),
                "body" in body,
                user,
            )
            if facts is not None and new_base:
                changes = {"base": {"ref": {"from": pull.base_ref}, "sha": {"from": pull.base_sha}}}
                pull.base_ref = new_base
                forget_mergeability(pull)
                apply_facts(pull, facts)
                sim.mergeability.request(found, number)
                sim.events.pull_request("edited", found, issue, user, changes=changes)
            state = opt_str(body, "state", "PullRequest")
            if state is not None:
                issueops.set_state(sim, found, issue, state, None, user)
            return sim.render.pull(found, issue)


def _range(sim: Simulator, repo: Repo, number: int) -> tuple[str, str]:
    with sim.state.lock:
        pull = sim.state.pull(repo, number).pull
        assert pull is not None
        return pull.base_sha, pull.head_sha


@router.get("/repos/{owner}/{repo}/pulls/{number:int}/files")
def pull_files(
    sim: SimDep,
    actor: ActorDep,
    owner: str,
    repo: str,
    number: int,
    request: Request,
    response: Response,
) -> list[dict[str, Any]]:
    found = repo_for(sim, actor, owner, repo, "read", "pull_requests")
    base, head = _range(sim, found, number)
    git = GitRepo(found.path)
    files = git.changed_files(git.merge_base(base, head) or base, head)
    return [diff_entry(sim, found, head, f) for f in paginate(request, response, files)]


@router.get("/repos/{owner}/{repo}/pulls/{number:int}/commits")
def pull_commits(
    sim: SimDep,
    actor: ActorDep,
    owner: str,
    repo: str,
    number: int,
    request: Request,
    response: Response,
) -> list[dict[str, Any]]:
    found = repo_for(sim, actor, owner, repo, "read", "pull_requests")
    base, head = _range(sim, found, number)
    git = GitRepo(found.path)
    infos = [git.commit_info(s) for s in git.rev_list("--reverse", f"{base}..{head}")]
    with sim.state.lock:
        return [commit_json(sim.render, found, i) for i in paginate(request, response, infos)]


@router.put("/repos/{owner}/{repo}/pulls/{number:int}/merge")
def merge_pull(
    sim: SimDep, actor: ActorDep, owner: str, repo: str, number: int, body: BodyDep
) -> dict[str, Any]:
    found = repo_for(sim, actor, owner, repo, "write", "contents")
    with sim.state.lock:
        pusher = pusher_for(sim, actor, found)
    return merging.merge_pull(
        sim,
        found,
        number,
        actor.require_user(),
        pusher,
        sha=opt_str(body, "sha", "PullRequest"),
        method=opt_str(body, "merge_method", "PullRequest") or "merge",
        title=opt_str(body, "commit_title", "PullRequest"),
        message=opt_str(body, "commit_message", "PullRequest"),
    )


@router.get("/repos/{owner}/{repo}/pulls/{number:int}/merge", status_code=204)
def check_merged(sim: SimDep, actor: ActorDep, owner: str, repo: str, number: int) -> Response:
    """204 if the pull request has been merged, 404 if not (or if it is no pull request)."""
    found = repo_for(sim, actor, owner, repo, "read", "pull_requests")
    with sim.state.lock:
        pull = sim.state.pull(found, number).pull
        if pull is None or not pull.merged:
            raise GitHubError(404, "Not Found")
    return Response(status_code=204)


@router.put("/repos/{owner}/{repo}/pulls/{number:int}/update-branch")
def update_branch(
    sim: SimDep, actor: ActorDep, owner: str, repo: str, number: int, body: BodyDep
) -> JSONResponse:
    found = repo_for(sim, actor, owner, repo, "write", "contents")
    with sim.state.lock:
        pusher = pusher_for(sim, actor, found)
    merging.update_branch(
        sim,
        found,
        number,
        actor.require_user(),
        pusher,
        opt_str(body, "expected_head_sha", "PullRequest"),
    )
    with sim.state.lock:
        url = sim.render.html(f"/{found.full_name}/pull/{number}")
    return JSONResponse({"message": "Updating pull request branch.", "url": url}, status_code=202)
