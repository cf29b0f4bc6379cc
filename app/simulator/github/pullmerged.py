"""A pull request becoming merged — by the merge button, or by a push that brings its head into
its base — closes it, says so once (`pull_request.closed` with merged=true), and, for merges into
the default branch, closes the issues its body links with a closing keyword. Call with
`state.lock` held."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from app.simulator.github.models import Issue, Repo, User
from app.simulator.github.util import utcnow

if TYPE_CHECKING:
    from app.simulator.github.core import Simulator

CLOSING = re.compile(r"\b(?:close[sd]?|fix(?:e[sd])?|resolve[sd]?)\s*:?\s+#(\d+)\b", re.IGNORECASE)


def mark_merged(sim: Simulator, repo: Repo, issue: Issue, merger: User, sha: str) -> None:
    pull = issue.pull
    assert pull is not None
    if pull.merged:
        return  # once only, however many pushes follow
    now = utcnow()
    pull.merged, pull.merged_at, pull.merged_by, pull.merge_commit_sha = True, now, merger, sha
    pull.mergeable = None
    issue.state, issue.closed_at, issue.closed_by, issue.updated_at = "closed", now, merger, now
    sim.events.pull_request("closed", repo, issue, merger)
    if pull.base_ref != repo.default_branch:
        return  # GitHub closes linked issues only for merges into the default branch
    for match in CLOSING.finditer(issue.body or ""):
        target = repo.issues.get(int(match.group(1)))
        if target is None or target.pull is not None or target.state != "open":
            continue
        target.state, target.state_reason = "closed", "completed"
        target.closed_at, target.closed_by, target.updated_at = now, merger, now
        sim.events.issue("closed", repo, target, merger)
