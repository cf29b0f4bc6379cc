"""What every route needs: the simulator, the caller, the JSON body, pagination, field checks."""

from __future__ import annotations

import json
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request, Response

from app.simulator.github.auth import Actor, require, resolve_actor
from app.simulator.github.core import Simulator
from app.simulator.github.errors import GitHubError, validation_failed
from app.simulator.github.models import Repo

T = TypeVar("T")
REQUEST_CONTEXT = "sim.ctx"  # scope key the middleware reads the actor's login from


def get_sim(request: Request) -> Simulator:
    sim: Simulator = request.app.state.sim
    return sim


def get_actor(request: Request) -> Actor:
    sim = get_sim(request)
    header = request.headers.get("authorization")
    actor = resolve_actor(sim.state, header, sim.config.app_public_key_pem)
    context = request.scope.get(REQUEST_CONTEXT)
    if isinstance(context, dict):
        context["actor"] = actor.login
    return actor


async def json_body(request: Request) -> Any:
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise GitHubError(400, "Problems parsing JSON") from exc


async def json_object(request: Request) -> dict[str, Any]:
    body = await json_body(request)
    if not isinstance(body, dict):
        raise GitHubError(400, "Problems parsing JSON")
    return body


SimDep = Annotated[Simulator, Depends(get_sim)]
ActorDep = Annotated[Actor, Depends(get_actor)]
BodyDep = Annotated[dict[str, Any], Depends(json_object)]
AnyBodyDep = Annotated[Any, Depends(json_body)]


def paginate(request: Request, response: Response, items: list[T]) -> list[T]:
    """One page of `items` (`per_page` ≤ 100, `page` from 1) and GitHub's `Link` header."""
    try:
        per_page = min(100, max(1, int(request.query_params.get("per_page", 30))))
        page = max(1, int(request.query_params.get("page", 1)))
    except ValueError as exc:
        raise GitHubError(422, "Invalid pagination parameters") from exc
    last = max(1, -(-len(items) // per_page))
    rels: list[tuple[str, int]] = []
    if page < last:
        rels += [("next", page + 1), ("last", last)]
    if page > 1:
        rels += [("prev", page - 1), ("first", 1)]
    if rels:
        links = [
            f'<{request.url.include_query_params(page=p, per_page=per_page)}>; rel="{rel}"'
            for rel, p in rels
        ]
        response.headers["Link"] = ", ".join(links)
    return items[(page - 1) * per_page : page * per_page]


def opt_str(body: dict[str, Any], key: str, resource: str) -> str | None:
    value = body.get(key)
    if value is not None and not isinstance(value, str):
        raise validation_failed(resource, key, "invalid", f"{key} is not a string")
    return value


def req_str(body: dict[str, Any], key: str, resource: str) -> str:
    value = opt_str(body, key, resource)
    if not value:
        raise validation_failed(resource, key, "missing_field")
    return value


def opt_str_list(body: dict[str, Any], key: str, resource: str) -> list[str] | None:
    value = body.get(key)
    if value is None:
        return None
    if not isinstance(value, list):
        raise validation_failed(resource, key, "invalid", f"{key} is not an array")
    names: list[str] = []
    for item in value:
        name = item.get("name") if isinstance(item, dict) else item
        if not isinstance(name, str):
            raise validation_failed(resource, key, "invalid")
        names.append(name)
    return names


def opt_bool(body: dict[str, Any], key: str, resource: str) -> bool | None:
    value = body.get(key)
    if value is not None and not isinstance(value, bool):
        raise validation_failed(resource, key, "invalid", f"{key} is not a boolean")
    return value


def repo_for(
    sim: Simulator, actor: Actor, owner: str, name: str, need: str = "read", scope: str = "metadata"
) -> Repo:
    """The repository, after checking the caller may act on it (404/403/401 otherwise)."""
    with sim.state.lock:
        repo = sim.state.repo(owner, name)
        require(sim.state, actor, repo, need, scope)
        return repo
