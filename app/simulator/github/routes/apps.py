"""The App and its installations: `/app…` (App JWT), `/installation/repositories` (token),
and `/rate_limit`."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Request, Response

from app.simulator.github.auth import Actor, require_app
from app.simulator.github.errors import GitHubError, not_found, validation_failed
from app.simulator.github.models import Installation, InstallationToken
from app.simulator.github.routes.deps import ActorDep, BodyDep, SimDep, paginate
from app.simulator.github.util import new_token, utcnow

router = APIRouter()
TOKEN_LIFETIME = timedelta(hours=1)
LEVELS = ("read", "write", "admin")


@router.get("/app")
def get_app(sim: SimDep, actor: ActorDep) -> dict[str, Any]:
    require_app(actor)
    with sim.state.lock:
        return sim.render.app(sim.state.app)


@router.get("/app/installations")
def list_installations(
    sim: SimDep, actor: ActorDep, request: Request, response: Response
) -> list[dict[str, Any]]:
    require_app(actor)
    with sim.state.lock:
        items = sorted(sim.state.installations.values(), key=lambda i: i.id)
        return [sim.render.installation(i) for i in paginate(request, response, items)]


@router.get("/app/installations/{installation_id:int}")
def get_installation(sim: SimDep, actor: ActorDep, installation_id: int) -> dict[str, Any]:
    require_app(actor)
    with sim.state.lock:
        inst = sim.state.installations.get(installation_id)
        if inst is None:
            raise not_found()
        return sim.render.installation(inst)


@router.get("/repos/{owner}/{repo}/installation")
def get_repo_installation(sim: SimDep, actor: ActorDep, owner: str, repo: str) -> dict[str, Any]:
    require_app(actor)
    with sim.state.lock:
        inst = sim.state.installation_of_repo(sim.state.repo(owner, repo))
        if inst is None:
            raise not_found()
        return sim.render.installation(inst)


@router.get("/orgs/{login}/installation")
@router.get("/users/{login}/installation")
def get_account_installation(sim: SimDep, actor: ActorDep, login: str) -> dict[str, Any]:
    require_app(actor)
    with sim.state.lock:
        inst = sim.state.installation_for(sim.state.user(login))
        if inst is None:
            raise not_found()
        return sim.render.installation(inst)


def _narrow_repos(sim: SimDep, inst: Installation, body: dict[str, Any]) -> frozenset[int] | None:
    names, ids = body.get("repositories"), body.get("repository_ids")
    if names is None and ids is None:
        return None
    chosen: set[int] = set()
    for name in names or []:
        repo = sim.state.repos.get((inst.account.login.lower(), str(name).lower()))
        if repo is None or repo.id not in inst.repo_ids:
            raise GitHubError(
                422,
                "There is at least one repository that does not exist or is "
                "not accessible to the parent installation.",
            )
        chosen.add(repo.id)
    for repo_id in ids or []:
        if repo_id not in inst.repo_ids:
            raise GitHubError(
                422,
                "There is at least one repository that does not exist or is "
                "not accessible to the parent installation.",
            )
        chosen.add(int(repo_id))
    return frozenset(chosen)


def _narrow_permissions(inst: Installation, body: dict[str, Any]) -> dict[str, str]:
    asked = body.get("permissions")
    if not asked:
        return dict(inst.permissions)
    if not isinstance(asked, dict):
        raise validation_failed("InstallationToken", "permissions")
    for scope, level in asked.items():
        granted = inst.permissions.get(scope)
        if granted is None or level not in LEVELS or LEVELS.index(level) > LEVELS.index(granted):
            raise GitHubError(
                422, "The permissions requested are not granted to this installation."
            )
    return dict(asked)


@router.post("/app/installations/{installation_id:int}/access_tokens", status_code=201)
def create_access_token(
    sim: SimDep, actor: ActorDep, installation_id: int, body: BodyDep
) -> dict[str, Any]:
    require_app(actor)
    with sim.state.lock:
        inst = sim.state.installations.get(installation_id)
        if inst is None:
            raise not_found()
        repo_ids = _narrow_repos(sim, inst, body)
        issued = InstallationToken(
            token=new_token("ghs"),
            installation_id=inst.id,
            expires_at=utcnow() + TOKEN_LIFETIME,
            permissions=_narrow_permissions(inst, body),
            repo_ids=repo_ids,
        )
        sim.state.installation_tokens[issued.token] = issued
        answer: dict[str, Any] = {
            "token": issued.token,
            "expires_at": issued.expires_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "permissions": issued.permissions,
            "repository_selection": "selected"
            if repo_ids is not None
            else inst.repository_selection,
        }
        if repo_ids is not None:
            repos = [r for r in sim.state.repos.values() if r.id in repo_ids]
            answer["repositories"] = [sim.render.repo(r) for r in sorted(repos, key=lambda r: r.id)]
        return answer


def _token_repos(sim: SimDep, actor: Actor) -> list[Any]:
    if actor.installation is None or actor.token is None:
        raise GitHubError(403, "This endpoint requires you to be authenticated as an installation.")
    allowed = actor.token.repo_ids
    return sorted(
        (
            r
            for r in sim.state.repos.values()
            if r.id in actor.installation.repo_ids and (allowed is None or r.id in allowed)
        ),
        key=lambda r: r.id,
    )


@router.get("/installation/repositories")
def installation_repositories(
    sim: SimDep, actor: ActorDep, request: Request, response: Response
) -> dict[str, Any]:
    with sim.state.lock:
        repos = _token_repos(sim, actor)
        page = paginate(request, response, repos)
        return {
            "total_count": len(repos),
            "repository_selection": actor.installation.repository_selection,  # type: ignore[union-attr]
            "repositories": [sim.render.repo(r, "write") for r in page],
        }


@router.get("/rate_limit")
def rate_limit(sim: SimDep, actor: ActorDep) -> dict[str, Any]:
    core = sim.rate.peek(actor.login or "anonymous", int(utcnow().timestamp()))
    small = {"limit": 30, "used": 0, "remaining": 30, "reset": core["reset"]}
    return {
        "resources": {"core": core, "search": small, "graphql": core},
        "rate": core,
    }
