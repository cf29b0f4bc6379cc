"""The simulator's in-memory records. Plain dataclasses; rendering to JSON lives in render.py."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from app.simulator.github.protection import BranchProtection, Ruleset

# Permission levels of a user on a repository, weakest first (GitHub's role names).
PERMISSION_ORDER = ("none", "read", "triage", "write", "maintain", "admin")


def permission_at_least(have: str, need: str) -> bool:
    return PERMISSION_ORDER.index(have) >= PERMISSION_ORDER.index(need)


@dataclass
class User:
    id: int
    login: str
    type: str = "User"  # "User", "Bot" or "Organization"
    site_admin: bool = False


@dataclass
class AppInfo:
    """A GitHub App as GitHub describes it (`GET /app`)."""

    id: int
    slug: str
    name: str
    owner: User
    permissions: dict[str, str]
    events: list[str]
    created_at: datetime


@dataclass
class Installation:
    id: int
    account: User
    permissions: dict[str, str]
    events: list[str]
    created_at: datetime
    updated_at: datetime
    repository_selection: str = "selected"  # the simulator installs repository by repository
    repo_ids: set[int] = field(default_factory=set)


@dataclass
class InstallationToken:
    token: str
    installation_id: int
    expires_at: datetime
    permissions: dict[str, str]
    repo_ids: frozenset[int] | None = None  # None: every repository of the installation


@dataclass
class Label:
    id: int
    name: str
    color: str = "ededed"
    description: str | None = None
    default: bool = False


@dataclass
class Reaction:
    id: int
    user: User
    content: str
    created_at: datetime


@dataclass
class Comment:
    id: int
    issue_number: int
    user: User
    body: str
    created_at: datetime
    updated_at: datetime
    reactions: list[Reaction] = field(default_factory=list)
    via_app: bool = False


@dataclass
class Review:
    id: int
    user: User
    body: str
    state: str  # APPROVED, CHANGES_REQUESTED, COMMENTED, PENDING, DISMISSED
    commit_id: str
    submitted_at: datetime | None


@dataclass
class ReviewComment:
    id: int
    review_id: int
    user: User
    body: str
    path: str
    line: int | None
    side: str
    commit_id: str
    created_at: datetime
    updated_at: datetime


@dataclass
class PullInfo:
    """What a pull request adds to its issue."""

    id: int
    head_ref: str
    head_sha: str
    base_ref: str
    base_sha: str
    draft: bool = False
    merged: bool = False
    merged_at: datetime | None = None
    merged_by: User | None = None
    merge_commit_sha: str | None = None
    # None until the background job (mergeability.py) computes them with git; reset to None
    # whenever the head or the base moves, as GitHub does.
    mergeable: bool | None = None
    behind: bool | None = None  # the base has commits the head lacks
    generation: int = 0  # bumped on every reset, so that a late job's answer is dropped
    # Diff figures against the base, refreshed with `mergeable` (rendering never runs git).
    commits: int = 0
    additions: int = 0
    deletions: int = 0
    changed_files: int = 0
    reviews: list[Review] = field(default_factory=list)
    review_comments: list[ReviewComment] = field(default_factory=list)


@dataclass
class Issue:
    id: int
    number: int
    title: str
    body: str | None
    user: User
    created_at: datetime
    updated_at: datetime
    state: str = "open"
    state_reason: str | None = None
    closed_at: datetime | None = None
    closed_by: User | None = None
    labels: list[Label] = field(default_factory=list)
    assignees: list[User] = field(default_factory=list)
    comments: list[Comment] = field(default_factory=list)
    reactions: list[Reaction] = field(default_factory=list)
    parent_id: int | None = None
    sub_issue_ids: list[int] = field(default_factory=list)
    pull: PullInfo | None = None
    locked: bool = False


@dataclass
class CheckSuite:
    id: int
    app: AppInfo
    head_sha: str
    head_branch: str | None
    created_at: datetime
    updated_at: datetime
    status: str = "queued"
    conclusion: str | None = None
    before: str | None = None
    after: str | None = None
    # GitHub's `head_commit` of a suite: {id, tree_id, message, timestamp, author, committer}.
    head_commit: dict[str, Any] = field(default_factory=dict)


@dataclass
class CheckRun:
    id: int
    suite_id: int
    app: AppInfo
    name: str
    head_sha: str
    status: str
    conclusion: str | None
    started_at: datetime | None
    completed_at: datetime | None
    output: dict[str, Any]
    details_url: str | None = None
    external_id: str | None = None


@dataclass
class CommitStatus:
    id: int
    sha: str
    state: str
    context: str
    description: str | None
    target_url: str | None
    creator: User
    created_at: datetime
    updated_at: datetime


@dataclass
class FlakeRule:
    """Simulated intermittent CI failures: the next `fail_first_runs` CI runs of the repository
    fail, and so does the first run of each commit whose branch matches `branches` (fnmatch) or
    whose sha starts with one of `shas`; a re-run passes (unless the command itself fails)."""

    fail_first_runs: int = 0
    branches: list[str] = field(default_factory=list)
    shas: list[str] = field(default_factory=list)


@dataclass
class Repo:
    id: int
    owner: User
    name: str
    path: Path  # the bare git repository
    default_branch: str
    created_at: datetime
    updated_at: datetime
    pushed_at: datetime
    private: bool = False
    description: str | None = None
    ci_command: str | None = None
    ci_timeout: float | None = None
    # Actions' `on: push: branches:` filter of the CI workflow; None: the default branch only.
    ci_branches: list[str] | None = None
    flake: FlakeRule | None = None
    collaborators: dict[str, str] = field(default_factory=dict)  # lower-case login -> role
    labels: dict[str, Label] = field(default_factory=dict)  # lower-case name -> label
    issues: dict[int, Issue] = field(default_factory=dict)  # number -> issue or pull request
    next_number: int = 1
    check_suites: dict[int, CheckSuite] = field(default_factory=dict)
    check_runs: dict[int, CheckRun] = field(default_factory=dict)
    statuses: list[CommitStatus] = field(default_factory=list)
    # The refs as the simulator last saw them; a change to them is a push.
    known_refs: dict[str, str] = field(default_factory=dict)
    protections: dict[str, BranchProtection] = field(default_factory=dict)  # pattern -> rule
    rulesets: dict[int, Ruleset] = field(default_factory=dict)

    @property
    def full_name(self) -> str:
        return f"{self.owner.login}/{self.name}"

    def open_pulls(self) -> list[Issue]:
        return [i for i in self.issues.values() if i.pull is not None and i.state == "open"]
