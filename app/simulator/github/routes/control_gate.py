"""The control API's part for merge gates (`/_sim/…`): what a repository's admin sets in its
settings (branch protection, rulesets, the App's permissions), what makes CI flaky, and a
person pushing to a branch while the swarm works. Not GitHub's API; no authentication."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response

from app.simulator.github import humanpush
from app.simulator.github.errors import GitHubError, not_found
from app.simulator.github.models import FlakeRule
from app.simulator.github.protection_parse import protection_from_body, ruleset_from_body
from app.simulator.github.render_rules import branch_protection, ruleset_json
from app.simulator.github.routes.deps import BodyDep, SimDep, req_str
from app.simulator.github.util import iso, utcnow

router = APIRouter(prefix="/_sim")
LEVELS = ("read", "write", "admin")


@router.put("/repos/{owner}/{name}/branches/{branch:path}/protection")
def protect_branch(
    sim: SimDep, owner: str, name: str, branch: str, body: BodyDep
) -> dict[str, Any]:
    """Protect a branch (or every branch an fnmatch pattern covers) with GitHub's
    `PUT .../protection` body; answers what `GET .../protection` shows."""
    rule = protection_from_body(branch, body)
    with sim.state.lock:
        repo = sim.state.repo(owner, name)
        repo.protections[branch] = rule
        return branch_protection(sim.render, repo, branch, rule)


@router.delete("/repos/{owner}/{name}/branches/{branch:path}/protection", status_code=204)
def unprotect_branch(sim: SimDep, owner: str, name: str, branch: str) -> Response:
    with sim.state.lock:
        repo = sim.state.repo(owner, name)
        if repo.protections.pop(branch, None) is None:
            raise GitHubError(404, "Branch not protected")
    return Response(status_code=204)


@router.post("/repos/{owner}/{name}/rulesets", status_code=201)
def create_ruleset(sim: SimDep, owner: str, name: str, body: BodyDep) -> dict[str, Any]:
    """A branch ruleset from GitHub's `POST .../rulesets` body. `"bypass_app": true` (not
    GitHub's) adds the App to `bypass_actors` as an `Integration`."""
    actors = list(body.get("bypass_actors") or [])
    if body.get("bypass_app"):
        actors.append(
            {"actor_id": sim.state.app.id, "actor_type": "Integration", "bypass_mode": "always"}
        )
    now = iso(utcnow()) or ""
    with sim.state.lock:
        repo = sim.state.repo(owner, name)
        ruleset = ruleset_from_body(sim.state.next_id(), {**body, "bypass_actors": actors}, now)
        repo.rulesets[ruleset.id] = ruleset
        return ruleset_json(sim.render, repo, ruleset)


@router.delete("/repos/{owner}/{name}/rulesets/{ruleset_id:int}", status_code=204)
def delete_ruleset(sim: SimDep, owner: str, name: str, ruleset_id: int) -> Response:
    with sim.state.lock:
        repo = sim.state.repo(owner, name)
        if repo.rulesets.pop(ruleset_id, None) is None:
            raise not_found()
    return Response(status_code=204)


def _strings(body: dict[str, Any], key: str) -> list[str]:
    value = body.get(key) or []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise GitHubError(422, f"{key} must be a list of strings")
    return list(value)


@router.put("/repos/{owner}/{name}/ci/flake")
def set_flake(sim: SimDep, owner: str, name: str, body: BodyDep) -> dict[str, Any]:
    """Make CI flaky: `{"fail_first_runs": N}` fails the next N runs; `{"branches": [...],
    "shas": [...]}` fails the first run of each commit pushed to a matching branch (fnmatch) or
    whose sha starts with a prefix. A failed run's log says `FLAKY: simulated intermittent
    failure`; its re-run passes."""
    runs = body.get("fail_first_runs", 0)
    if not isinstance(runs, int) or runs < 0:
        raise GitHubError(422, "fail_first_runs must be a non-negative integer")
    rule = FlakeRule(runs, _strings(body, "branches"), _strings(body, "shas"))
    with sim.state.lock:
        sim.state.repo(owner, name).flake = rule
    return {"fail_first_runs": rule.fail_first_runs, "branches": rule.branches, "shas": rule.shas}


@router.delete("/repos/{owner}/{name}/ci/flake", status_code=204)
def clear_flake(sim: SimDep, owner: str, name: str) -> Response:
    with sim.state.lock:
        sim.state.repo(owner, name).flake = None
    return Response(status_code=204)


@router.post("/repos/{owner}/{name}/push", status_code=201)
def push(sim: SimDep, owner: str, name: str, body: BodyDep) -> dict[str, Any]:
    """A person's push: `{"branch", "user", "files": {path: text}, "delete": [path],
    "message"}` commits on top of the branch as `user` and pushes it (rules, push event,
    pull request updates, CI). Answers `{"branch", "before", "sha"}`; 422 with GitHub's words
    when the branch rules refuse it."""
    branch, login = req_str(body, "branch", "Push"), req_str(body, "user", "Push")
    files = body.get("files") or {}
    if not isinstance(files, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in files.items()
    ):
        raise GitHubError(422, "files must map paths to text")
    deletions = _strings(body, "delete")
    if not files and not deletions:
        raise GitHubError(422, "nothing to commit: give files or delete")
    message = str(body.get("message") or f"Update {', '.join([*files, *deletions])}")
    with sim.state.lock:
        repo = sim.state.repo(owner, name)
        user = sim.state.user(login)
    before, sha = humanpush.push_files(sim, repo, user, branch, files, deletions, message)
    return {"branch": branch, "before": before, "sha": sha}


@router.put("/app/permissions")
def set_app_permissions(sim: SimDep, body: BodyDep) -> dict[str, str]:
    """Change the App's permissions (`{"statuses": "write", "administration": "read",
    "workflows": null}`) as if its owner edited them and every installation accepted. Tokens
    already issued keep the permissions they were minted with, as on GitHub."""
    for scope, level in body.items():
        if level is not None and level not in LEVELS:
            raise GitHubError(422, f"Invalid permission level for {scope}: {level!r}")
    with sim.state.lock:
        permissions = dict(sim.state.app.permissions)
        for scope, level in body.items():
            if level is None:
                permissions.pop(scope, None)
            else:
                permissions[scope] = level
        sim.state.app.permissions = permissions
        for inst in sim.state.installations.values():
            inst.permissions = dict(permissions)
            inst.updated_at = utcnow()
        return dict(permissions)
