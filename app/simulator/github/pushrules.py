"""What branch protection and rulesets demand of one change to a branch, and GitHub's words when
they refuse it. Pure and standard-library only: the push hook runs it in its own process, the
refs API and the merge button run it in the server.

A change is a push (`old` → `new`) or a pull request's merge (`via_pr`). Each rule that covers
the branch becomes a `Demand` on the pusher; a demand the change does not meet is a `Finding`,
refused unless the pusher may bypass it (GitHub then says "Bypassed rule violations").
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any
from urllib.parse import quote

from app.simulator.github.models import permission_at_least
from app.simulator.github.protection import ROLE_IDS, BranchProtection, RequiredCheck, Ruleset

ZERO = "0" * 40
DOCS_PROTECTED = (
    "https://docs.github.com/repositories/configuring-branches-and-merges-in-your-repository/"
    "managing-protected-branches/about-protected-branches"
)
NOT_AUTHORIZED = (
    f"You're not authorized to push to this branch. Visit {DOCS_PROTECTED} for more information."
)
PASSING = ("success", "neutral", "skipped")


@dataclass(frozen=True)
class Pusher:
    """Who makes the change: a person, or an App through its installation token."""

    login: str
    role: str  # none, read, triage, write, maintain, admin
    app_id: int | None = None
    app_slug: str | None = None


@dataclass(frozen=True)
class Outcome:
    """Where one check (or commit status context) stands on a commit."""

    context: str
    app_id: int | None  # None for commit statuses
    state: str  # success, failure, pending


@dataclass(frozen=True)
class Change:
    branch: str
    old: str
    new: str
    forced: bool = False
    via_pr: bool = False  # a pull request's merge: the pull request rule is met
    behind: bool = False  # the pull request's head lacks commits of the base


@dataclass(frozen=True)
class Demand:
    source: str  # "protection" or "ruleset"
    kind: str  # restrict, update, creation, deletion, non_fast_forward, pull_request,
    #            required_status_checks
    bypass: bool
    checks: tuple[tuple[str, int | None], ...] = ()
    strict: bool = False
    on_create: bool = True
    reviews: int = 0  # approving reviews a pull request needs (pull_request demands)


@dataclass(frozen=True)
class Finding:
    source: str
    message: str
    bypassed: bool


def classic_for(protections: Iterable[BranchProtection], branch: str) -> BranchProtection | None:
    """GitHub applies one classic rule: the one naming the branch, else the first pattern."""
    matching = [p for p in protections if p.covers(branch)]
    exact = [p for p in matching if p.pattern == branch]
    chosen = exact or matching
    return chosen[0] if chosen else None


def _classic_demands(rule: BranchProtection, pusher: Pusher) -> list[Demand]:
    admin = pusher.role == "admin" and not rule.enforce_admins
    demands: list[Demand] = []
    if rule.push_users is not None:
        allowed = (
            pusher.login in rule.push_users
            if pusher.app_slug is None
            else pusher.app_slug in rule.push_apps
        )
        if not allowed:
            demands.append(Demand("protection", "restrict", admin))
    if rule.checks:
        checks = tuple((c.context, c.app_id) for c in rule.checks)
        demands.append(
            Demand("protection", "required_status_checks", admin, checks, rule.strict, False)
        )
    if rule.review_count is not None:
        exempt = (
            pusher.login in rule.bypass_pr_users
            if pusher.app_slug is None
            else pusher.app_slug in rule.bypass_pr_apps
        )
        demands.append(
            Demand("protection", "pull_request", admin or exempt, reviews=rule.review_count)
        )
    if not rule.allow_force_pushes:
        demands.append(Demand("protection", "non_fast_forward", False))
    if not rule.allow_deletions:
        demands.append(Demand("protection", "deletion", False))
    return demands


def bypass_mode(ruleset: Ruleset, pusher: Pusher) -> str | None:
    """ "always", "pull_request" (only when merging a pull request) or None."""
    modes: list[str] = []
    for actor in ruleset.bypass_actors:
        kind, ident = actor.get("actor_type"), actor.get("actor_id")
        if kind == "Integration":
            hit = pusher.app_id is not None and ident == pusher.app_id
        elif kind == "RepositoryRole":
            role = ROLE_IDS.get(ident if isinstance(ident, int) else -1)
            hit = (
                pusher.app_id is None
                and role is not None
                and permission_at_least(pusher.role, role)
            )
        elif kind == "OrganizationAdmin":
            hit = pusher.app_id is None and pusher.role == "admin"
        else:
            hit = False  # teams and deploy keys are not simulated
        if hit:
            modes.append(str(actor.get("bypass_mode") or "always"))
    if "always" in modes:
        return "always"
    return "pull_request" if modes else None


def _ruleset_demands(ruleset: Ruleset, pusher: Pusher, via_pr: bool) -> list[Demand]:
    mode = bypass_mode(ruleset, pusher)
    bypass = mode == "always" or (mode == "pull_request" and via_pr)
    demands: list[Demand] = []
    for rule in ruleset.rules:
        kind = str(rule.get("type"))
        params = rule.get("parameters") or {}
        if kind == "required_status_checks":
            checks = tuple(
                (str(c["context"]), c.get("integration_id"))
                for c in params.get("required_status_checks") or []
            )
            strict = bool(params.get("strict_required_status_checks_policy"))
            on_create = not params.get("do_not_enforce_on_create", False)
            demands.append(Demand("ruleset", kind, bypass, checks, strict, on_create))
        elif kind == "pull_request":
            count = int(params.get("required_approving_review_count") or 0)
            demands.append(Demand("ruleset", kind, bypass, reviews=count))
        elif kind in ("update", "creation", "deletion", "non_fast_forward"):
            demands.append(Demand("ruleset", kind, bypass))
    return demands


def demands_for(
    protections: Iterable[BranchProtection],
    rulesets: Iterable[Ruleset],
    default_branch: str,
    branch: str,
    pusher: Pusher,
    via_pr: bool = False,
) -> list[Demand]:
    """Everything the rules covering `branch` ask of `pusher`."""
    demands: list[Demand] = []
    classic = classic_for(protections, branch)
    if classic is not None:
        demands += _classic_demands(classic, pusher)
    for ruleset in rulesets:
        if ruleset.enforcement == "active" and ruleset.covers(branch, default_branch):
            demands += _ruleset_demands(ruleset, pusher, via_pr)
    return demands


def _check_state(outcomes: Sequence[Outcome], context: str, app_id: int | None) -> str:
    states = [
        o.state for o in outcomes if o.context == context and (app_id is None or o.app_id == app_id)
    ]
    if "success" in states:
        return "success"
    if "pending" in states:
        return "pending"
    return "failure" if states else "missing"


def unmet_checks(
    checks: Sequence[tuple[str, int | None]], outcomes: Sequence[Outcome], behind: bool = False
) -> list[tuple[str, str]]:
    """The required checks not passing, with their state (missing, pending, failure). A strict
    policy sees none as passing while the head is behind its base."""
    unmet = []
    for context, app_id in checks:
        state = "missing" if behind else _check_state(outcomes, context, app_id)
        if state != "success":
            unmet.append((context, state))
    return unmet


def checks_message(unmet: list[tuple[str, str]], total: int) -> str:
    if len(unmet) == 1:
        context, state = unmet[0]
        verb = "is failing" if state == "failure" else "is expected"
        return f'Required status check "{context}" {verb}.'
    if all(state != "failure" for _, state in unmet):
        return f"{len(unmet)} of {total} required status checks are expected."
    return f"{len(unmet)} of {total} required status checks have not succeeded."


def _message(demand: Demand, change: Change, outcomes: Sequence[Outcome]) -> str | None:
    creating, deleting = change.old == ZERO, change.new == ZERO
    kind, ruleset = demand.kind, demand.source == "ruleset"
    if kind == "restrict":
        return NOT_AUTHORIZED
    if kind == "update" and not creating and not deleting:
        return "Cannot update this protected ref."
    if kind == "creation" and creating:
        return "Cannot create ref due to creations being restricted."
    if kind == "deletion" and deleting:
        return (
            "Cannot delete this protected ref."
            if ruleset
            else "Cannot delete this protected branch."
        )
    if kind == "non_fast_forward" and change.forced:
        return "Cannot force-push to this branch."
    if kind == "pull_request" and not change.via_pr and not deleting:
        return "Changes must be made through a pull request."
    if kind == "required_status_checks" and not deleting and (demand.on_create or not creating):
        behind = change.behind and demand.strict
        unmet = unmet_checks(demand.checks, outcomes, behind)
        return checks_message(unmet, len(demand.checks)) if unmet else None
    return None


def findings(
    demands: Iterable[Demand], change: Change, outcomes: Sequence[Outcome]
) -> list[Finding]:
    found: list[Finding] = []
    for demand in demands:
        message = _message(demand, change, outcomes)
        if message is not None and not any(f.message == message for f in found):
            found.append(Finding(demand.source, message, demand.bypass))
    return found


def refused(found: Iterable[Finding]) -> list[Finding]:
    return [f for f in found if not f.bypassed]


def git_report(ref: str, found: list[Finding], rules_url: str) -> str:
    """The `remote:` lines of a push GitHub refuses (or lets an admin through), as it words them."""
    blocking = refused(found)
    lines: list[str] = []
    if blocking:
        if any(f.source == "ruleset" for f in blocking):
            lines += [
                f"error: GH013: Repository rule violations found for {ref}.",
                f"Review all repository rules at {rules_url}?ref={quote(ref, safe='')}",
            ]
        else:
            lines.append(f"error: GH006: Protected branch update failed for {ref}.")
        lines.append("")
        for finding in blocking:
            lines += [f"- {finding.message}", ""]
        return "\n".join(lines)
    lines += [f"Bypassed rule violations for {ref}:", ""]
    for finding in found:
        lines += [f"- {finding.message}", ""]
    return "\n".join(lines)


def rest_message(found: list[Finding]) -> str:
    """The `message` of the 422 (refs API) or 405 (merge) that refuses the change."""
    blocking = refused(found)
    if any(f.source == "ruleset" for f in blocking):
        body = "\n\n".join(f.message for f in blocking)
        return f"Repository rule violations found\n\n{body}\n\n"
    return "\n".join(f.message for f in blocking)


# The push hook's view of the world, written to a file by the server for each push -------------
def policy_document(
    protections: Iterable[BranchProtection],
    rulesets: Iterable[Ruleset],
    default_branch: str,
    pusher: Pusher,
    outcomes: dict[str, list[Outcome]],
    rules_url: str,
) -> dict[str, Any]:
    return {
        "protections": [asdict(p) for p in protections],
        "rulesets": [asdict(r) for r in rulesets],
        "default_branch": default_branch,
        "pusher": asdict(pusher),
        "outcomes": {sha: [asdict(o) for o in listed] for sha, listed in outcomes.items()},
        "rules_url": rules_url,
    }


def _protection(data: dict[str, Any]) -> BranchProtection:
    checks = data.pop("checks")
    return BranchProtection(
        checks=None if checks is None else [RequiredCheck(**c) for c in checks], **data
    )


def evaluate_document(document: dict[str, Any], change: Change) -> list[Finding]:
    """Findings for a change, from a document `policy_document` wrote."""
    protections = [_protection(dict(p)) for p in document["protections"]]
    rulesets = [Ruleset(**r) for r in document["rulesets"]]
    pusher = Pusher(**document["pusher"])
    outcomes = [Outcome(**o) for o in document["outcomes"].get(change.new, [])]
    demands = demands_for(
        protections, rulesets, document["default_branch"], change.branch, pusher, change.via_pr
    )
    return findings(demands, change, outcomes)
