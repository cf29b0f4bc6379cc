"""Branch protection and rulesets, read through GitHub's REST API. Setting them is the control
API's job (routes/control_gate.py), as a repository's admin does it in the settings page."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from app.simulator.github.auth import require_admin_read
from app.simulator.github.core import Simulator
from app.simulator.github.errors import GitHubError, not_found
from app.simulator.github.gitops import GitRepo
from app.simulator.github.models import Repo
from app.simulator.github.protection import BranchProtection
from app.simulator.github.render_rules import (
    active_rules,
    branch_protection,
    protection_for,
    ruleset_json,
    status_check_policy,
)
from app.simulator.github.routes.deps import ActorDep, SimDep, paginate, repo_for

router = APIRouter()
PROTECTION_DOCS = "https://docs.github.com/rest/branches/branch-protection"


def _protected(sim: Simulator, actor: ActorDep, owner: str, name: str, branch: str) -> tuple[
    Repo, BranchProtection
]:  # fmt: skip
    repo = repo_for(sim, actor, owner, name)
    with sim.state.lock:
        require_admin_read(sim.state, actor, repo)
    if GitRepo(repo.path).resolve(f"refs/heads/{branch}") is None:
        raise GitHubError(404, "Branch not found", documentation_url=PROTECTION_DOCS)
    with sim.state.lock:
        rule = protection_for(repo, branch)
    if rule is None:
        raise GitHubError(404, "Branch not protected", documentation_url=PROTECTION_DOCS)
    return repo, rule


@router.get("/repos/{owner}/{repo}/branches/{branch:path}/protection/required_status_checks")
def get_status_checks_protection(
    sim: SimDep, actor: ActorDep, owner: str, repo: str, branch: str
) -> dict[str, Any]:
    found, rule = _protected(sim, actor, owner, repo, branch)
    if rule.checks is None:
        raise GitHubError(
            404, "Required status checks not enabled", documentation_url=PROTECTION_DOCS
        )
    with sim.state.lock:
        return status_check_policy(sim.render, found, branch, rule)


@router.get("/repos/{owner}/{repo}/branches/{branch:path}/protection")
def get_branch_protection(
    sim: SimDep, actor: ActorDep, owner: str, repo: str, branch: str
) -> dict[str, Any]:
    found, rule = _protected(sim, actor, owner, repo, branch)
    with sim.state.lock:
        return branch_protection(sim.render, found, branch, rule)


@router.get("/repos/{owner}/{repo}/rules/branches/{branch:path}")
def get_branch_rules(
    sim: SimDep,
    actor: ActorDep,
    owner: str,
    repo: str,
    branch: str,
    request: Request,
    response: Response,
) -> list[dict[str, Any]]:
    """The active rules for a branch (the branch need not exist); metadata access suffices."""
    found = repo_for(sim, actor, owner, repo)
    with sim.state.lock:
        return paginate(request, response, active_rules(found, branch))


@router.get("/repos/{owner}/{repo}/rulesets")
def list_rulesets(
    sim: SimDep, actor: ActorDep, owner: str, repo: str, request: Request, response: Response
) -> list[dict[str, Any]]:
    found = repo_for(sim, actor, owner, repo)
    with sim.state.lock:
        items = sorted(found.rulesets.values(), key=lambda r: r.id)
        listed = []
        for ruleset in paginate(request, response, items):
            body = ruleset_json(sim.render, found, ruleset)
            for key in ("bypass_actors", "conditions", "rules", "current_user_can_bypass"):
                body.pop(key)  # the list shows summaries only
            listed.append(body)
        return listed


@router.get("/repos/{owner}/{repo}/rulesets/{ruleset_id:int}")
def get_ruleset(
    sim: SimDep, actor: ActorDep, owner: str, repo: str, ruleset_id: int
) -> dict[str, Any]:
    found = repo_for(sim, actor, owner, repo)
    with sim.state.lock:
        ruleset = found.rulesets.get(ruleset_id)
        if ruleset is None:
            raise not_found()
        return ruleset_json(sim.render, found, ruleset)
