"""The control API under `/_sim/`: what a test or the demo does to GitHub from the outside
(accounts, repositories, permissions, webhook target, faults) and what it may inspect
(deliveries, requests, idleness). Not part of GitHub's API; no authentication."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from app.simulator.github import provision
from app.simulator.github.errors import GitHubError, not_found
from app.simulator.github.routes.deps import BodyDep, SimDep, req_str

router = APIRouter(prefix="/_sim")
MAX_SETTLE = 600.0


@router.post("/users", status_code=201)
def create_user(sim: SimDep, body: BodyDep) -> dict[str, Any]:
    user, token = provision.create_user(
        sim, req_str(body, "login", "User"), str(body.get("type") or "User")
    )
    return {"login": user.login, "id": user.id, "type": user.type, "token": token}


@router.post("/repos", status_code=201)
def create_repo(sim: SimDep, body: BodyDep) -> dict[str, Any]:
    source = body.get("source_dir")
    if source is not None and not Path(source).is_dir():
        raise GitHubError(422, f"source_dir {source} is not a directory")
    spec = provision.RepoSpec(
        owner=req_str(body, "owner", "Repository"),
        name=req_str(body, "name", "Repository"),
        source_dir=Path(source) if source else None,
        default_branch=str(body.get("default_branch") or "main"),
        ci_command=body.get("ci_command"),
        ci_timeout=body.get("ci_timeout"),
        ci_branches=_ci_branches(body),
        private=bool(body.get("private", False)),
        install=bool(body.get("install", True)),
        description=body.get("description"),
    )
    repo = provision.create_repo(sim, spec)
    with sim.state.lock:
        inst = sim.state.installation_of_repo(repo)
        return {
            "id": repo.id,
            "full_name": repo.full_name,
            "default_branch": repo.default_branch,
            "clone_url": sim.render.clone_url(repo),
            "installation_id": inst.id if inst else None,
        }


def _ci_branches(body: dict[str, Any]) -> list[str] | None:
    """Actions' `on: push: branches:` patterns of the CI workflow (None: the default branch)."""
    value = body.get("ci_branches")
    if value is not None and (
        not isinstance(value, list) or not all(isinstance(v, str) for v in value)
    ):
        raise GitHubError(422, "ci_branches must be a list of branch patterns")
    return value


@router.patch("/repos/{owner}/{name}")
def update_repo(sim: SimDep, owner: str, name: str, body: BodyDep) -> dict[str, Any]:
    with sim.state.lock:
        repo = sim.state.repo(owner, name)
        if "ci_command" in body:
            repo.ci_command = body["ci_command"]
        if "ci_timeout" in body:
            repo.ci_timeout = body["ci_timeout"]
        if "ci_branches" in body:
            repo.ci_branches = _ci_branches(body)
        return {
            "full_name": repo.full_name,
            "ci_command": repo.ci_command,
            "ci_timeout": repo.ci_timeout,
            "ci_branches": repo.ci_branches,
        }


@router.put("/repos/{owner}/{name}/collaborators/{login}", status_code=204)
def set_collaborator(sim: SimDep, owner: str, name: str, login: str, body: BodyDep) -> Response:
    with sim.state.lock:
        repo = sim.state.repo(owner, name)
    provision.set_collaborator(sim, repo, login, req_str(body, "permission", "Collaborator"))
    return Response(status_code=204)


@router.get("/installations")
def installations(sim: SimDep) -> list[dict[str, Any]]:
    with sim.state.lock:
        return [
            {
                "id": inst.id,
                "account": inst.account.login,
                "repositories": sorted(
                    r.full_name for r in sim.state.repos.values() if r.id in inst.repo_ids
                ),
            }
            for inst in sim.state.installations.values()
        ]


@router.put("/webhook")
def set_webhook(sim: SimDep, body: BodyDep) -> dict[str, Any]:
    url = body.get("url")
    sim.webhooks.configure(url or None, str(body.get("secret") or ""))
    return {"url": sim.webhooks.url}


@router.put("/webhook/lost")
def lose_webhooks(sim: SimDep, body: BodyDep) -> dict[str, Any]:
    """Deliveries of `events` fail from now on (an empty list: none do)."""
    events = body.get("events") or []
    if not isinstance(events, list) or not all(isinstance(e, str) for e in events):
        raise GitHubError(422, "events must be a list of event names")
    sim.webhooks.lose(events)
    return {"lost": sorted(events)}


@router.post("/faults", status_code=201)
def add_fault(sim: SimDep, body: BodyDep) -> dict[str, Any]:
    try:
        fault = sim.faults.add(
            path_regex=req_str(body, "path_regex", "Fault"),
            status=int(body["status"]),
            count=int(body.get("count", 1)),
            method=body.get("method"),
            retry_after=body.get("retry_after"),
            message=body.get("message"),
        )
    except (KeyError, ValueError) as exc:
        raise GitHubError(422, f"Invalid fault: {exc}") from exc
    return fault.to_json()


@router.get("/faults")
def list_faults(sim: SimDep) -> list[dict[str, Any]]:
    return sim.faults.list()


@router.delete("/faults", status_code=204)
def clear_faults(sim: SimDep) -> Response:
    sim.faults.clear()
    return Response(status_code=204)


@router.get("/deliveries")
def deliveries(sim: SimDep, request: Request) -> list[dict[str, Any]]:
    event = request.query_params.get("event")
    since = int(request.query_params.get("since", 0))
    return [d for d in sim.webhooks.log() if d["id"] > since and (not event or d["event"] == event)]


@router.post("/deliveries/{delivery_id:int}/redeliver", status_code=202)
def redeliver(sim: SimDep, delivery_id: int) -> dict[str, Any]:
    delivery = sim.webhooks.redeliver(delivery_id)
    if delivery is None:
        raise not_found()
    return {"id": delivery.id, "guid": delivery.guid, "event": delivery.event}


@router.get("/requests")
def requests_log(sim: SimDep, request: Request) -> list[dict[str, Any]]:
    return sim.requests.list(int(request.query_params.get("since", 0)))


@router.get("/idle")
def idle(sim: SimDep) -> dict[str, Any]:
    return sim.idle()


@router.post("/settle")
def settle(sim: SimDep, request: Request) -> JSONResponse:
    timeout = min(MAX_SETTLE, float(request.query_params.get("timeout", 30)))
    settled = sim.settle(timeout)
    return JSONResponse({"settled": settled, **sim.idle()})
