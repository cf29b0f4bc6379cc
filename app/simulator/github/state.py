"""Everything the simulator knows, in memory, behind one lock.

Request handlers hold `state.lock` only while they read or change these records; git, CI and
webhook delivery always run with it released.
"""

from __future__ import annotations

import itertools
import secrets
import threading
from collections.abc import Iterator

from app.simulator.github.errors import GitHubError, not_found
from app.simulator.github.models import (
    AppInfo,
    Comment,
    Installation,
    InstallationToken,
    Issue,
    Repo,
    User,
)
from app.simulator.github.util import utcnow

# What our App asks for when installed: the `default_permissions` of the swarm's app.yml (a test
# keeps the two equal). The control API can change them (`PUT /_sim/app/permissions`).
APP_PERMISSIONS = {
    "checks": "write",
    "contents": "write",
    "issues": "write",
    "metadata": "read",
    "pull_requests": "write",
    "statuses": "read",
}
APP_EVENTS = [
    "check_run",
    "check_suite",
    "issue_comment",
    "issues",
    "pull_request",
    "pull_request_review",
    "push",
    "status",
    "sub_issues",
]
# GitHub Actions' real app id; CI check runs belong to it, not to the swarm's App.
ACTIONS_APP_ID = 15368


class SimState:
    def __init__(self, app_id: int, app_slug: str, id_base: int | None = None) -> None:
        self.lock = threading.RLock()
        base = id_base if id_base is not None else secrets.randbelow(9_000) * 100_000 + 100_000
        self._ids: Iterator[int] = itertools.count(base)
        self.users: dict[str, User] = {}
        self.user_tokens: dict[str, User] = {}
        self.installation_tokens: dict[str, InstallationToken] = {}
        self.installations: dict[int, Installation] = {}
        self.repos: dict[tuple[str, str], Repo] = {}
        self.issue_index: dict[int, tuple[Repo, Issue]] = {}
        self.comment_index: dict[int, tuple[Repo, Issue, Comment]] = {}
        now = utcnow()
        github = self.add_user("github", "Organization")
        self.app_owner = github
        self.app = AppInfo(
            id=app_id,
            slug=app_slug,
            name=app_slug.replace("-", " ").title(),
            owner=github,
            permissions=dict(APP_PERMISSIONS),
            events=list(APP_EVENTS),
            created_at=now,
        )
        self.actions_app = AppInfo(
            id=ACTIONS_APP_ID,
            slug="github-actions",
            name="GitHub Actions",
            owner=github,
            permissions={"checks": "write", "contents": "write", "statuses": "write"},
            events=["check_run", "check_suite", "push", "pull_request"],
            created_at=now,
        )
        # Installation tokens act as this user, as on github.com.
        self.bot = self.add_user(f"{app_slug}[bot]", "Bot")
        self.actions_bot = self.add_user("github-actions[bot]", "Bot")

    def next_id(self) -> int:
        with self.lock:
            return next(self._ids)

    # users ---------------------------------------------------------------------------------
    def add_user(self, login: str, type_: str = "User") -> User:
        with self.lock:
            if login.lower() in self.users:
                raise GitHubError(422, f"Login {login} is already taken")
            user = User(id=self.next_id(), login=login, type=type_)
            self.users[login.lower()] = user
            return user

    def user(self, login: str) -> User:
        found = self.users.get(login.lower())
        if found is None:
            raise not_found()
        return found

    # repositories and issues ---------------------------------------------------------------
    def repo(self, owner: str, name: str) -> Repo:
        found = self.repos.get((owner.lower(), name.lower()))
        if found is None:
            raise not_found()
        return found

    def issue(self, repo: Repo, number: int) -> Issue:
        found = repo.issues.get(number)
        if found is None:
            raise not_found()
        return found

    def pull(self, repo: Repo, number: int) -> Issue:
        found = repo.issues.get(number)
        if found is None or found.pull is None:
            raise not_found()
        return found

    def installation_for(self, owner: User) -> Installation | None:
        return next((i for i in self.installations.values() if i.account.id == owner.id), None)

    def installation_of_repo(self, repo: Repo) -> Installation | None:
        inst = self.installation_for(repo.owner)
        if inst is None or repo.id not in inst.repo_ids:
            return None
        return inst
