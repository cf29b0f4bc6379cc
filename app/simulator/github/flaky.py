"""Simulated intermittent CI failures (the control API's flake rule): which CI runs fail as
"flaky" without running the command, so that a gate's re-run logic can be tested."""

from __future__ import annotations

from app.simulator.github.globs import fnmatch_branch
from app.simulator.github.models import Repo

FLAKY_LINE = "FLAKY: simulated intermittent failure"


def flaky_now(repo: Repo, sha: str, branch: str | None, first_run: bool) -> bool:
    """Whether this CI run fails as flaky; consumes one of `fail_first_runs`. Call with
    `state.lock` held."""
    rule = repo.flake
    if rule is None:
        return False
    if rule.fail_first_runs > 0:
        rule.fail_first_runs -= 1
        return True
    if not first_run:
        return False  # a re-run of the same commit passes
    if branch is not None and any(fnmatch_branch(p, branch) for p in rule.branches):
        return True
    return any(sha.startswith(prefix) for prefix in rule.shas)
