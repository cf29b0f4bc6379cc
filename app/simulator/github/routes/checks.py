"""Check runs, check suites and commit statuses."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request, Response

from app.simulator.github import checks
from app.simulator.github.auth import Actor
from app.simulator.github.core import Simulator
from app.simulator.github.errors import GitHubError, not_found, validation_failed
from app.simulator.github.gitops import GitRepo
from app.simulator.github.models import CheckRun, CommitStatus, Repo
from app.simulator.github.routes.deps import ActorDep, BodyDep, SimDep, paginate, repo_for, req_str
from app.simulator.github.util import utcnow

router = APIRouter()
STATUSES = ("queued", "in_progress", "completed", "waiting", "requested", "pending")
CONCLUSIONS = (
    "success",
    "failure",
    "neutral",
    "cancelled",
    "skipped",
    "timed_out",
    "action_required",
)
STATUS_STATES = ("error", "failure", "pending", "success")


def _app_only(actor: Actor) -> None:
    if actor.token is None:
        raise GitHubError(403, "You must authenticate via a GitHub App.")


def _check_fields(body: dict[str, Any]) -> dict[str, Any]:
    fields = dict(body)
    if fields.get("status") is not None and fields["status"] not in STATUSES:
        raise validation_failed("CheckRun", "status")
    if fields.get("conclusion") is not None and fields["conclusion"] not in CONCLUSIONS:
        raise validation_failed("CheckRun", "conclusion")
    if fields.get("output") is not None and not isinstance(fields["output"], dict):
        raise validation_failed("CheckRun", "output")
    if isinstance(fields.get("started_at"), str):
        fields["started_at_dt"] = datetime.fromisoformat(
            fields["started_at"].replace("Z", "+00:00")
        )
    return fields


def _branch_at(git: GitRepo, sha: str) -> str | None:
    heads = sorted(r for r, s in git.refs().items() if s == sha and r.startswith("refs/heads/"))
    return heads[0][len("refs/heads/") :] if heads else None


@router.post("/repos/{owner}/{repo}/check-runs", status_code=201)
def create_check_run(
    sim: SimDep, actor: ActorDep, owner: str, repo: str, body: BodyDep
) -> dict[str, Any]:
    _app_only(actor)
    found = repo_for(sim, actor, owner, repo, "write", "checks")
    req_str(body, "name", "CheckRun")
    head_sha = req_str(body, "head_sha", "CheckRun")
    fields = _check_fields(body)
    git = GitRepo(found.path)
    if git.resolve(head_sha) != head_sha:
        raise GitHubError(422, f"No commit found for SHA: {head_sha}")
    commit, branch = git.commit_info(head_sha), _branch_at(git, head_sha)
    with sim.state.lock:
        run = checks.create_run(
            sim.state,
            sim.events,
            found,
            sim.state.app,
            actor.require_user(),
            commit,
            branch,
            fields,
        )
        return sim.render.check_run(found, run)


def _run(sim: Simulator, repo: Repo, run_id: int) -> CheckRun:
    run = repo.check_runs.get(run_id)
    if run is None:
        raise not_found()
    return run


@router.patch("/repos/{owner}/{repo}/check-runs/{run_id:int}")
def update_check_run(
    sim: SimDep, actor: ActorDep, owner: str, repo: str, run_id: int, body: BodyDep
) -> dict[str, Any]:
    _app_only(actor)
    found = repo_for(sim, actor, owner, repo, "write", "checks")
    fields = _check_fields(body)
    with sim.state.lock:
        run = _run(sim, found, run_id)
        if run.app.id != sim.state.app.id:
            raise GitHubError(
                403,
                f"Invalid app_id `{sim.state.app.id}` - check run can only be modified by the "
                "GitHub App that created it.",
            )
        checks.update_run(sim.events, found, run, actor.require_user(), fields)
        return sim.render.check_run(found, run)


@router.post("/repos/{owner}/{repo}/check-runs/{run_id:int}/rerequest", status_code=201)
def rerequest_check_run(
    sim: SimDep, actor: ActorDep, owner: str, repo: str, run_id: int
) -> dict[str, Any]:
    """Run the check again on the same commit. For Actions' CI that is a new run of the same
    name in the same suite; for the App's own runs GitHub asks the App (`check_run.rerequested`)
    to make the new run itself."""
    found = repo_for(sim, actor, owner, repo, "write", "checks")
    with sim.state.lock:
        run = _run(sim, found, run_id)
        state = sim.state
        if run.app.id == state.app.id:
            suite = found.check_suites[run.suite_id]
            suite.status, suite.conclusion = "queued", None
            sim.events.check_run("rerequested", found, run, actor.require_user())
            return {}
        if run.app.id != state.actions_app.id:
            raise GitHubError(403, "Forbidden: the check run does not belong to this app")
        branch = found.check_suites[run.suite_id].head_branch
    if not sim.ci.trigger(found, run.head_sha, branch, rerun=True):
        raise GitHubError(422, "This check run is not rerequestable")
    return {}


@router.get("/repos/{owner}/{repo}/check-runs/{run_id:int}")
def get_check_run(
    sim: SimDep, actor: ActorDep, owner: str, repo: str, run_id: int
) -> dict[str, Any]:
    found = repo_for(sim, actor, owner, repo, "read", "checks")
    with sim.state.lock:
        return sim.render.check_run(found, _run(sim, found, run_id))


def _resolve(repo: Repo, ref: str) -> str:
    sha = GitRepo(repo.path).resolve(ref)
    if sha is None:
        raise GitHubError(422, f"No commit found for SHA: {ref}")
    return sha


@router.get("/repos/{owner}/{repo}/commits/{ref:path}/check-runs")
def list_check_runs(
    sim: SimDep,
    actor: ActorDep,
    owner: str,
    repo: str,
    ref: str,
    request: Request,
    response: Response,
) -> dict[str, Any]:
    found = repo_for(sim, actor, owner, repo, "read", "checks")
    sha = _resolve(found, ref)
    query = request.query_params
    with sim.state.lock:
        runs = sorted(
            (r for r in found.check_runs.values() if r.head_sha == sha),
            key=lambda r: r.id,
            reverse=True,
        )
        if query.get("check_name"):
            runs = [r for r in runs if r.name == query["check_name"]]
        if query.get("status"):
            runs = [r for r in runs if r.status == query["status"]]
        if query.get("app_id"):
            runs = [r for r in runs if str(r.app.id) == query["app_id"]]
        if query.get("filter", "latest") == "latest":
            seen: set[tuple[int, str]] = set()
            latest = []
            for run in runs:
                if (run.app.id, run.name) not in seen:
                    seen.add((run.app.id, run.name))
                    latest.append(run)
            runs = latest
        page = paginate(request, response, runs)
        return {
            "total_count": len(runs),
            "check_runs": [sim.render.check_run(found, r) for r in page],
        }


@router.get("/repos/{owner}/{repo}/commits/{ref:path}/check-suites")
def list_check_suites(
    sim: SimDep,
    actor: ActorDep,
    owner: str,
    repo: str,
    ref: str,
    request: Request,
    response: Response,
) -> dict[str, Any]:
    found = repo_for(sim, actor, owner, repo, "read", "checks")
    sha = _resolve(found, ref)
    app_id = request.query_params.get("app_id")
    with sim.state.lock:
        suites = [
            s
            for s in found.check_suites.values()
            if s.head_sha == sha and (not app_id or str(s.app.id) == app_id)
        ]
        page = paginate(request, response, suites)
        return {
            "total_count": len(suites),
            "check_suites": [sim.render.check_suite(found, s) for s in page],
        }


@router.get("/repos/{owner}/{repo}/check-suites/{suite_id:int}")
def get_check_suite(
    sim: SimDep, actor: ActorDep, owner: str, repo: str, suite_id: int
) -> dict[str, Any]:
    found = repo_for(sim, actor, owner, repo, "read", "checks")
    with sim.state.lock:
        suite = found.check_suites.get(suite_id)
        if suite is None:
            raise not_found()
        return sim.render.check_suite(found, suite)


# commit statuses -------------------------------------------------------------------------------
@router.post("/repos/{owner}/{repo}/statuses/{sha}", status_code=201)
def create_status(
    sim: SimDep, actor: ActorDep, owner: str, repo: str, sha: str, body: BodyDep
) -> dict[str, Any]:
    found = repo_for(sim, actor, owner, repo, "write", "statuses")
    state = req_str(body, "state", "Status")
    if state not in STATUS_STATES:
        raise validation_failed("Status", "state")
    git = GitRepo(found.path)
    if git.resolve(sha) != sha:
        raise GitHubError(422, f"No commit found for SHA: {sha}")
    commit = git.commit_info(sha)
    branches = sorted(
        r[len("refs/heads/") :]
        for r, s in git.refs().items()
        if s == sha and r.startswith("refs/heads/")
    )
    now = utcnow()
    with sim.state.lock:
        status = CommitStatus(
            id=sim.state.next_id(),
            sha=sha,
            state=state,
            context=str(body.get("context") or "default"),
            description=body.get("description"),
            target_url=body.get("target_url"),
            creator=actor.require_user(),
            created_at=now,
            updated_at=now,
        )
        found.statuses.append(status)
        sim.events.status(found, status, commit, branches)
        return sim.render.status(found, status)


def _latest_statuses(repo: Repo, sha: str) -> list[CommitStatus]:
    latest: dict[str, CommitStatus] = {}
    for status in repo.statuses:
        if status.sha == sha:
            latest[status.context] = status
    return sorted(latest.values(), key=lambda s: s.id, reverse=True)


def _combined_state(statuses: list[CommitStatus]) -> str:
    states = {s.state for s in statuses}
    if states & {"error", "failure"}:
        return "failure"
    if not statuses or "pending" in states:
        return "pending"
    return "success"


@router.get("/repos/{owner}/{repo}/commits/{ref:path}/status")
def combined_status(
    sim: SimDep,
    actor: ActorDep,
    owner: str,
    repo: str,
    ref: str,
    request: Request,
    response: Response,
) -> dict[str, Any]:
    found = repo_for(sim, actor, owner, repo, "read", "statuses")
    sha = _resolve(found, ref)
    with sim.state.lock:
        statuses = _latest_statuses(found, sha)
        repo_json = sim.render.repo(found)
        return {
            "state": _combined_state(statuses),
            "statuses": [
                _simple_status(sim, found, s) for s in paginate(request, response, statuses)
            ],
            "sha": sha,
            "total_count": len(statuses),
            "repository": repo_json,
            "commit_url": sim.render.repo_api(found, f"/commits/{sha}"),
            "url": sim.render.repo_api(found, f"/commits/{sha}/status"),
        }


def _simple_status(sim: Simulator, repo: Repo, status: CommitStatus) -> dict[str, Any]:
    body = sim.render.status(repo, status)
    body.pop("creator", None)
    return body


@router.get("/repos/{owner}/{repo}/commits/{ref:path}/statuses")
def list_statuses(
    sim: SimDep,
    actor: ActorDep,
    owner: str,
    repo: str,
    ref: str,
    request: Request,
    response: Response,
) -> list[dict[str, Any]]:
    found = repo_for(sim, actor, owner, repo, "read", "statuses")
    sha = _resolve(found, ref)
    with sim.state.lock:
        statuses = sorted(
            (s for s in found.statuses if s.sha == sha), key=lambda s: s.id, reverse=True
        )
        return [sim.render.status(found, s) for s in paginate(request, response, statuses)]
