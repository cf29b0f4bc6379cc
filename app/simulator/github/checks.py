"""Check runs and suites as GitHub keeps them: one suite per app and head commit, completed
when its last run completes. Call with `state.lock` held."""

from __future__ import annotations

from typing import Any

from app.simulator.github.events import Events
from app.simulator.github.gitops import CommitInfo
from app.simulator.github.models import AppInfo, CheckRun, CheckSuite, Repo, User
from app.simulator.github.state import SimState
from app.simulator.github.util import iso, utcnow

# The worst conclusion wins when a suite sums up its runs.
CONCLUSION_RANK = (
    "action_required",
    "cancelled",
    "timed_out",
    "failure",
    "neutral",
    "skipped",
    "stale",
    "success",
)


def _rank(conclusion: str) -> int:
    return CONCLUSION_RANK.index(conclusion) if conclusion in CONCLUSION_RANK else 0


def suite_head_commit(commit: CommitInfo) -> dict[str, Any]:
    return {
        "id": commit.sha,
        "tree_id": commit.tree,
        "message": commit.message,
        "timestamp": iso(commit.committer_date),
        "author": {"name": commit.author.name, "email": commit.author.email},
        "committer": {"name": commit.committer.name, "email": commit.committer.email},
    }


def suite_for(
    state: SimState, repo: Repo, app: AppInfo, commit: CommitInfo, branch: str | None
) -> CheckSuite:
    for suite in repo.check_suites.values():
        if suite.app.id == app.id and suite.head_sha == commit.sha:
            return suite
    now = utcnow()
    suite = CheckSuite(
        id=state.next_id(),
        app=app,
        head_sha=commit.sha,
        head_branch=branch,
        created_at=now,
        updated_at=now,
        after=commit.sha,
        head_commit=suite_head_commit(commit),
    )
    repo.check_suites[suite.id] = suite
    return suite


def create_run(
    state: SimState,
    events: Events,
    repo: Repo,
    app: AppInfo,
    sender: User,
    commit: CommitInfo,
    branch: str | None,
    fields: dict[str, Any],
) -> CheckRun:
    suite = suite_for(state, repo, app, commit, branch)
    now = utcnow()
    conclusion = fields.get("conclusion")
    status = "completed" if conclusion else fields.get("status") or "queued"
    run = CheckRun(
        id=state.next_id(),
        suite_id=suite.id,
        app=app,
        name=str(fields["name"]),
        head_sha=commit.sha,
        status=status,
        conclusion=conclusion,
        started_at=fields.get("started_at_dt") or now,
        completed_at=now if status == "completed" else None,
        output=dict(fields.get("output") or {}),
        details_url=fields.get("details_url"),
        external_id=fields.get("external_id"),
    )
    repo.check_runs[run.id] = run
    suite.status = "in_progress" if status != "completed" else suite.status
    suite.conclusion = None
    suite.updated_at = now
    events.check_run("created", repo, run, sender)
    if status == "completed":
        _after_completion(events, repo, run, sender)
    return run


def update_run(
    events: Events, repo: Repo, run: CheckRun, sender: User, fields: dict[str, Any]
) -> None:
    was_completed = run.status == "completed"
    for key in ("name", "details_url", "external_id"):
        if key in fields:
            setattr(run, key, fields[key])
    if "output" in fields and fields["output"] is not None:
        run.output.update(fields["output"])
    if fields.get("status"):
        run.status = fields["status"]
    if fields.get("conclusion"):
        run.conclusion = fields["conclusion"]
        run.status = "completed"
    if run.status == "completed" and run.completed_at is None:
        run.completed_at = utcnow()
    # GitHub has no "updated" check_run event: only completion is announced.
    if run.status == "completed" and not was_completed:
        _after_completion(events, repo, run, sender)


def _after_completion(events: Events, repo: Repo, run: CheckRun, sender: User) -> None:
    events.check_run("completed", repo, run, sender)
    suite = repo.check_suites[run.suite_id]
    # A re-run replaces its predecessor: the suite sums up the latest run of each name.
    latest: dict[str, CheckRun] = {}
    for each in sorted(repo.check_runs.values(), key=lambda r: r.id):
        if each.suite_id == suite.id:
            latest[each.name] = each
    runs = list(latest.values())
    if any(r.status != "completed" for r in runs):
        return
    conclusions = [r.conclusion or "neutral" for r in runs]
    suite.status = "completed"
    suite.conclusion = min(conclusions, key=_rank)
    suite.updated_at = utcnow()
    events.check_suite("completed", repo, suite, sender)
