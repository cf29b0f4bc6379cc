"""Branch rules applied inside the server: who is pushing, where each check stands on a commit,
and the refusals of the refs API, the merge button and the control API's pushes. (Pushes over
git are judged by the same rules in the push hook, from the document `hook_document` writes.)

Call with `state.lock` held unless a function says otherwise.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from app.simulator.github.auth import Actor, role_on
from app.simulator.github.errors import GitHubError
from app.simulator.github.models import Issue, Repo, User, permission_at_least
from app.simulator.github.pushrules import (
    PASSING,
    Change,
    Demand,
    Finding,
    Outcome,
    Pusher,
    demands_for,
    findings,
    policy_document,
    refused,
    rest_message,
    unmet_checks,
)
from app.simulator.github.state import SimState

if TYPE_CHECKING:
    from app.simulator.github.core import Simulator

REFS_DOCS = "https://docs.github.com/rest/git/refs#update-a-reference"
MERGE_DOCS = "https://docs.github.com/rest/pulls/pulls#merge-a-pull-request"
NOBODY = Pusher(login="", role="none")  # for what a rule demands of everyone


def pusher_for(sim: Simulator, actor: Actor, repo: Repo) -> Pusher:
    role = role_on(sim.state, actor, repo)
    if actor.token is not None:
        app = sim.state.app
        return Pusher(login=sim.state.bot.login, role=role, app_id=app.id, app_slug=app.slug)
    user = actor.require_user()
    return Pusher(login=user.login, role=role)


def user_pusher(sim: Simulator, user: User, repo: Repo) -> Pusher:
    return Pusher(login=user.login, role=role_on(sim.state, Actor(user=user), repo))


def outcomes_on(repo: Repo, sha: str) -> list[Outcome]:
    """The latest run of each check (per app and name) and the latest status of each context."""
    latest: dict[tuple[int, str], Outcome] = {}
    for run in sorted(repo.check_runs.values(), key=lambda r: r.id):
        if run.head_sha != sha:
            continue
        if run.status != "completed":
            state = "pending"
        else:
            state = "success" if run.conclusion in PASSING else "failure"
        latest[(run.app.id, run.name)] = Outcome(run.name, run.app.id, state)
    statuses: dict[str, Outcome] = {}
    for status in repo.statuses:
        if status.sha == sha:
            state = status.state if status.state in ("success", "pending") else "failure"
            statuses[status.context] = Outcome(status.context, None, state)
    return [*latest.values(), *statuses.values()]


def demands_on(repo: Repo, branch: str, pusher: Pusher, via_pr: bool = False) -> list[Demand]:
    return demands_for(
        repo.protections.values(),
        repo.rulesets.values(),
        repo.default_branch,
        branch,
        pusher,
        via_pr,
    )


def judge(sim: Simulator, repo: Repo, pusher: Pusher, change: Change) -> list[Finding]:
    """What the rules say of a change (takes `state.lock` itself)."""
    with sim.state.lock:
        demands = demands_on(repo, change.branch, pusher, change.via_pr)
        return findings(demands, change, outcomes_on(repo, change.new))


def enforce_push(sim: Simulator, repo: Repo, pusher: Pusher, change: Change) -> None:
    """Refuse a ref change through the API as GitHub does: 422 with the rules' words."""
    blocking = refused(judge(sim, repo, pusher, change))
    if blocking:
        raise GitHubError(422, rest_message(blocking), documentation_url=REFS_DOCS)


def hook_document(sim: Simulator, repo: Repo, pusher: Pusher) -> dict[str, Any]:
    """Everything the push hook needs to judge a git push by `pusher` (takes the lock)."""
    with sim.state.lock:
        shas = {r.head_sha for r in repo.check_runs.values()} | {s.sha for s in repo.statuses}
        return policy_document(
            repo.protections.values(),
            repo.rulesets.values(),
            repo.default_branch,
            pusher,
            {sha: outcomes_on(repo, sha) for sha in shas},
            sim.render.html(f"/{repo.full_name}/rules"),
        )


# pull requests -----------------------------------------------------------------------------------
def _review_findings(state: SimState, repo: Repo, issue: Issue, demands: list[Demand]) -> list[str]:
    """Reviews a protected base asks for: enough approvals, and no changes requested, counting
    the latest review of each person with write access."""
    wanted = [d for d in demands if d.kind == "pull_request" and not d.bypass]
    if not wanted or issue.pull is None:
        return []
    latest: dict[str, str] = {}
    for review in issue.pull.reviews:
        if review.state in ("APPROVED", "CHANGES_REQUESTED", "DISMISSED"):
            writer = permission_at_least(role_on(state, Actor(user=review.user), repo), "write")
            if writer:
                latest[review.user.login] = review.state
    messages: list[str] = []
    if "CHANGES_REQUESTED" in latest.values():
        messages.append("Changes requested by reviewers with write access.")
    needed = max(d.reviews for d in wanted)
    approvals = sum(1 for state in latest.values() if state == "APPROVED")
    if approvals < needed:
        plural = "review is" if needed == 1 else "reviews are"
        messages.append(
            f"At least {needed} approving {plural} required by reviewers with write access."
        )
    return messages


def merge_refusal(
    sim: Simulator, repo: Repo, issue: Issue, pusher: Pusher, base_tip: str, behind: bool
) -> str | None:
    """Why the rules of the base branch refuse to merge this pull request now, or None."""
    pull = issue.pull
    assert pull is not None
    change = Change(pull.base_ref, base_tip, pull.head_sha, via_pr=True, behind=behind)
    with sim.state.lock:
        demands = demands_on(repo, pull.base_ref, pusher, via_pr=True)
        found = refused(findings(demands, change, outcomes_on(repo, pull.head_sha)))
        reviews = _review_findings(sim.state, repo, issue, demands)
    if not found and not reviews:
        return None
    message = rest_message(found) if found else ""
    return "\n".join(m for m in (message, *reviews) if m)


def blocked(state: SimState, repo: Repo, issue: Issue) -> bool:
    """GitHub's `blocked`: required checks not passing on the head, or reviews wanted."""
    pull = issue.pull
    assert pull is not None
    demands = demands_on(repo, pull.base_ref, NOBODY, via_pr=True)
    outcomes = outcomes_on(repo, pull.head_sha)
    for demand in demands:
        if demand.kind == "required_status_checks" and unmet_checks(demand.checks, outcomes):
            return True
    return bool(_review_findings(state, repo, issue, demands))


def strict(repo: Repo, branch: str) -> bool:
    """Whether the branch requires pull requests to be up to date before merging."""
    return any(
        d.strict for d in demands_on(repo, branch, NOBODY) if d.kind == "required_status_checks"
    )
