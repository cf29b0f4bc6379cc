"""Reading GitHub's request bodies into protection records: `PUT /repos/{o}/{r}/branches/{b}/
protection` and `POST /repos/{o}/{r}/rulesets`, with GitHub's 422 for what it would refuse."""

from __future__ import annotations

from typing import Any

from app.simulator.github.errors import GitHubError
from app.simulator.github.protection import (
    BYPASS_ACTOR_TYPES,
    ENFORCEMENTS,
    RULE_TYPES,
    BranchProtection,
    RequiredCheck,
    Ruleset,
)


def _invalid(message: str) -> GitHubError:
    return GitHubError(422, "Validation Failed", errors=[message])


def _names(value: Any, key: str) -> list[str]:
    """Logins or slugs from GitHub's `restrictions`-style lists (strings or objects)."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise _invalid(f"{key} is not an array")
    names = []
    for item in value:
        name = item.get("login") or item.get("slug") if isinstance(item, dict) else item
        if not isinstance(name, str):
            raise _invalid(f"{key} holds something that is not a name")
        names.append(name)
    return names


def _checks(body: dict[str, Any]) -> list[RequiredCheck]:
    """`contexts` (names) and `checks` ({context, app_id}) of a required-status-checks body."""
    found = [RequiredCheck(str(c)) for c in body.get("contexts") or []]
    for item in body.get("checks") or []:
        if not isinstance(item, dict) or not isinstance(item.get("context"), str):
            raise _invalid("checks need a context")
        app_id = item.get("app_id")
        # GitHub: app_id -1 (or absent) means any source.
        found.append(RequiredCheck(item["context"], app_id if app_id not in (None, -1) else None))
    unique: dict[str, RequiredCheck] = {}
    for check in found:
        unique.setdefault(check.context, check)
    return list(unique.values())


def protection_from_body(pattern: str, body: dict[str, Any]) -> BranchProtection:
    """A protection rule from GitHub's `PUT .../protection` body (its four required keys may
    be null; anything not given is off)."""
    status = body.get("required_status_checks")
    reviews = body.get("required_pull_request_reviews")
    restrictions = body.get("restrictions")
    if status is not None and not isinstance(status, dict):
        raise _invalid("required_status_checks is not an object")
    if reviews is not None and not isinstance(reviews, dict):
        raise _invalid("required_pull_request_reviews is not an object")
    if restrictions is not None and not isinstance(restrictions, dict):
        raise _invalid("restrictions is not an object")
    bypass = (reviews or {}).get("bypass_pull_request_allowances") or {}
    return BranchProtection(
        pattern=pattern,
        checks=_checks(status) if status is not None else None,
        strict=bool((status or {}).get("strict", False)),
        enforce_admins=bool(body.get("enforce_admins") or False),
        review_count=int(reviews.get("required_approving_review_count", 1))
        if reviews is not None
        else None,
        dismiss_stale_reviews=bool((reviews or {}).get("dismiss_stale_reviews", False)),
        bypass_pr_users=_names(bypass.get("users"), "users"),
        bypass_pr_apps=_names(bypass.get("apps"), "apps"),
        push_users=_names(restrictions.get("users"), "users") if restrictions is not None else None,
        push_apps=_names((restrictions or {}).get("apps"), "apps"),
        allow_force_pushes=bool(body.get("allow_force_pushes") or False),
        allow_deletions=bool(body.get("allow_deletions") or False),
    )


def _rules(value: Any) -> list[dict[str, Any]]:
    if not isinstance(value, list):
        raise _invalid("rules is not an array")
    rules: list[dict[str, Any]] = []
    for rule in value:
        if not isinstance(rule, dict) or rule.get("type") not in RULE_TYPES:
            raise _invalid(f"Invalid rule: {rule!r}")
        params = dict(rule.get("parameters") or {})
        if rule["type"] == "required_status_checks":
            listed = params.get("required_status_checks")
            if not isinstance(listed, list) or not all(
                isinstance(c, dict) and isinstance(c.get("context"), str) for c in listed
            ):
                raise _invalid("required_status_checks needs [{context}]")
            params.setdefault("strict_required_status_checks_policy", False)
        if rule["type"] == "pull_request":
            params.setdefault("dismiss_stale_reviews_on_push", False)
            params.setdefault("require_code_owner_review", False)
            params.setdefault("require_last_push_approval", False)
            params.setdefault("required_approving_review_count", 0)
            params.setdefault("required_review_thread_resolution", False)
        if rule["type"] == "update":
            params.setdefault("update_allows_fetch_and_merge", False)
        rules.append({"type": rule["type"], "parameters": params} if params else dict(rule))
    return rules


def _bypass_actors(value: Any) -> list[dict[str, Any]]:
    actors: list[dict[str, Any]] = []
    for actor in value or []:
        if not isinstance(actor, dict) or actor.get("actor_type") not in BYPASS_ACTOR_TYPES:
            raise _invalid(f"Invalid bypass actor: {actor!r}")
        mode = actor.get("bypass_mode", "always")
        if mode not in ("always", "pull_request"):
            raise _invalid(f"Invalid bypass_mode: {mode!r}")
        actors.append(
            {
                "actor_id": actor.get("actor_id"),
                "actor_type": actor["actor_type"],
                "bypass_mode": mode,
            }
        )
    return actors


def ruleset_from_body(ruleset_id: int, body: dict[str, Any], now: str) -> Ruleset:
    """A branch ruleset from GitHub's `POST /repos/{o}/{r}/rulesets` body."""
    name = body.get("name")
    if not isinstance(name, str) or not name:
        raise _invalid("name is required")
    if body.get("target", "branch") != "branch":
        raise _invalid("only branch rulesets are simulated")
    enforcement = body.get("enforcement", "active")
    if enforcement not in ENFORCEMENTS:
        raise _invalid(f"Invalid enforcement: {enforcement!r}")
    ref_name = ((body.get("conditions") or {}).get("ref_name")) or {}
    include = ref_name.get("include") or ["~DEFAULT_BRANCH"]
    return Ruleset(
        id=ruleset_id,
        name=name,
        enforcement=enforcement,
        include=[str(p) for p in include],
        exclude=[str(p) for p in ref_name.get("exclude") or []],
        rules=_rules(body.get("rules") or []),
        bypass_actors=_bypass_actors(body.get("bypass_actors")),
        created_at=now,
        updated_at=now,
    )
