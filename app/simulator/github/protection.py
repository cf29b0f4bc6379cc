"""Branch protection rules and repository rulesets, as records kept as their owner set them.

Only the standard library here: the push hook (pushguard.py, its own process) reads these records
from a file and applies them with pushrules.py. Reading GitHub's request bodies into them is
protection_parse.py's job.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from app.simulator.github.globs import fnmatch_branch

RULE_TYPES = (
    "creation",
    "update",
    "deletion",
    "required_linear_history",
    "required_signatures",
    "pull_request",
    "required_status_checks",
    "non_fast_forward",
)
ENFORCEMENTS = ("active", "evaluate", "disabled")
BYPASS_ACTOR_TYPES = ("Integration", "RepositoryRole", "OrganizationAdmin", "Team", "DeployKey")
# GitHub's ids of the built-in repository roles in a ruleset's bypass list.
ROLE_IDS = {1: "read", 2: "maintain", 3: "triage", 4: "write", 5: "admin"}


@dataclass(frozen=True)
class RequiredCheck:
    context: str
    app_id: int | None = None  # None: any app or commit status may satisfy it


@dataclass
class BranchProtection:
    """A classic branch protection rule; `pattern` is a branch name or an fnmatch pattern."""

    pattern: str
    checks: list[RequiredCheck] | None = None  # None: status checks not required
    strict: bool = False
    enforce_admins: bool = False
    review_count: int | None = None  # None: pull requests not required
    dismiss_stale_reviews: bool = False
    bypass_pr_users: list[str] = field(default_factory=list)
    bypass_pr_apps: list[str] = field(default_factory=list)
    push_users: list[str] | None = None  # None: no push restriction
    push_apps: list[str] = field(default_factory=list)  # app slugs
    allow_force_pushes: bool = False
    allow_deletions: bool = False

    def covers(self, branch: str) -> bool:
        return fnmatch_branch(self.pattern, branch)


@dataclass
class Ruleset:
    id: int
    name: str
    enforcement: str
    include: list[str]  # "~DEFAULT_BRANCH", "~ALL", "refs/heads/<pattern>"
    exclude: list[str]
    rules: list[dict[str, Any]]  # GitHub's shape: {"type": ..., "parameters": {...}}
    bypass_actors: list[dict[str, Any]]  # {"actor_id", "actor_type", "bypass_mode"}
    created_at: str  # ISO 8601, as GitHub renders it
    updated_at: str

    def covers(self, branch: str, default_branch: str) -> bool:
        ref = f"refs/heads/{branch}"

        def hit(pattern: str) -> bool:
            if pattern == "~ALL":
                return True
            if pattern == "~DEFAULT_BRANCH":
                return branch == default_branch
            return fnmatch_branch(pattern, ref)

        return any(hit(p) for p in self.include) and not any(hit(p) for p in self.exclude)

    def rule(self, type_: str) -> dict[str, Any] | None:
        return next((r for r in self.rules if r.get("type") == type_), None)
