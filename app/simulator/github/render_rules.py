"""Branch protection and rulesets as GitHub's REST API shows them: `Branch Protection`,
`Status Check Policy`, the active rules of a branch and `Repository Ruleset`. Call with
`state.lock` held."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from app.simulator.github.models import Repo
from app.simulator.github.protection import BranchProtection, RequiredCheck, Ruleset
from app.simulator.github.pushrules import classic_for
from app.simulator.github.render import Renderer


def protection_for(repo: Repo, branch: str) -> BranchProtection | None:
    """The classic rule GitHub applies to `branch` (the one naming it, else the first pattern)."""
    return classic_for(repo.protections.values(), branch)


def _app_json(render: Renderer, slug: str) -> dict[str, Any] | None:
    state = render.state
    app = next((a for a in (state.app, state.actions_app) if a.slug == slug), None)
    return render.app(app) if app is not None else None


def status_check_policy(
    render: Renderer, repo: Repo, branch: str, rule: BranchProtection
) -> dict[str, Any]:
    url = render.repo_api(repo, f"/branches/{quote(branch)}/protection/required_status_checks")
    checks: list[RequiredCheck] = rule.checks or []
    return {
        "url": url,
        "strict": rule.strict,
        "contexts": [c.context for c in checks],
        "contexts_url": f"{url}/contexts",
        "checks": [{"context": c.context, "app_id": c.app_id} for c in checks],
    }


def branch_protection(
    render: Renderer, repo: Repo, branch: str, rule: BranchProtection
) -> dict[str, Any]:
    url = render.repo_api(repo, f"/branches/{quote(branch)}/protection")
    body: dict[str, Any] = {
        "url": url,
        "enabled": True,
        "name": branch,
        "protection_url": url,
        "enforce_admins": {"url": f"{url}/enforce_admins", "enabled": rule.enforce_admins},
        "required_signatures": {"url": f"{url}/required_signatures", "enabled": False},
        "required_linear_history": {"enabled": False},
        "allow_force_pushes": {"enabled": rule.allow_force_pushes},
        "allow_deletions": {"enabled": rule.allow_deletions},
        "block_creations": {"enabled": False},
        "required_conversation_resolution": {"enabled": False},
        "lock_branch": {"enabled": False},
        "allow_fork_syncing": {"enabled": False},
    }
    if rule.checks is not None:
        policy = status_check_policy(render, repo, branch, rule)
        policy["enforcement_level"] = "everyone" if rule.enforce_admins else "non_admins"
        body["required_status_checks"] = policy
    if rule.review_count is not None:
        body["required_pull_request_reviews"] = {
            "url": f"{url}/required_pull_request_reviews",
            "dismiss_stale_reviews": rule.dismiss_stale_reviews,
            "require_code_owner_reviews": False,
            "required_approving_review_count": rule.review_count,
            "require_last_push_approval": False,
        }
    if rule.push_users is not None:
        users = [render.state.users.get(login.lower()) for login in rule.push_users]
        apps = [_app_json(render, slug) for slug in rule.push_apps]
        body["restrictions"] = {
            "url": f"{url}/restrictions",
            "users_url": f"{url}/restrictions/users",
            "teams_url": f"{url}/restrictions/teams",
            "apps_url": f"{url}/restrictions/apps",
            "users": [render.user(u) for u in users if u is not None],
            "teams": [],
            "apps": [a for a in apps if a is not None],
        }
    return body


def branch_summary(repo: Repo, branch: str) -> dict[str, Any]:
    """The `protection` of `GET .../branches/{branch}`: what anyone who can read sees."""
    rule = protection_for(repo, branch)
    if rule is None:
        return {
            "enabled": False,
            "required_status_checks": {"enforcement_level": "off", "contexts": [], "checks": []},
        }
    checks = rule.checks or []
    level = "off" if rule.checks is None else "everyone" if rule.enforce_admins else "non_admins"
    return {
        "enabled": True,
        "required_status_checks": {
            "enforcement_level": level,
            "contexts": [c.context for c in checks],
            "checks": [{"context": c.context, "app_id": c.app_id} for c in checks],
        },
    }


def active_rules(repo: Repo, branch: str) -> list[dict[str, Any]]:
    """`GET /repos/{o}/{r}/rules/branches/{branch}`: each rule of each active ruleset covering
    the branch, with where it comes from."""
    rules: list[dict[str, Any]] = []
    for ruleset in sorted(repo.rulesets.values(), key=lambda r: r.id):
        if ruleset.enforcement != "active" or not ruleset.covers(branch, repo.default_branch):
            continue
        for rule in ruleset.rules:
            rules.append(
                {
                    **rule,
                    "ruleset_source_type": "Repository",
                    "ruleset_source": repo.full_name,
                    "ruleset_id": ruleset.id,
                }
            )
    return rules


def ruleset_json(render: Renderer, repo: Repo, ruleset: Ruleset) -> dict[str, Any]:
    """GitHub's `Repository ruleset`."""
    url = render.repo_api(repo, f"/rulesets/{ruleset.id}")
    return {
        "id": ruleset.id,
        "name": ruleset.name,
        "target": "branch",
        "source_type": "Repository",
        "source": repo.full_name,
        "enforcement": ruleset.enforcement,
        "bypass_actors": list(ruleset.bypass_actors),
        "current_user_can_bypass": "never",
        "node_id": f"RRS_{ruleset.id}",
        "_links": {
            "self": {"href": url},
            "html": {"href": render.html(f"/{repo.full_name}/rules/{ruleset.id}")},
        },
        "conditions": {"ref_name": {"include": ruleset.include, "exclude": ruleset.exclude}},
        "rules": list(ruleset.rules),
        "created_at": ruleset.created_at,
        "updated_at": ruleset.updated_at,
    }
