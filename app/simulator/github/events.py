"""Webhook payloads as GitHub builds them: `action`, the object, `repository`, `sender`,
`installation`. Call these with `state.lock` held, right after the change they describe, so
that payloads are snapshots taken in the order the changes happened.
"""

from __future__ import annotations

from typing import Any

from app.simulator.github.gitops import CommitInfo
from app.simulator.github.models import (
    CheckRun,
    CheckSuite,
    Comment,
    CommitStatus,
    Installation,
    Issue,
    Repo,
    Review,
    User,
)
from app.simulator.github.render import Renderer
from app.simulator.github.state import SimState
from app.simulator.github.util import iso, node_id
from app.simulator.github.webhooks import WebhookDispatcher


class Events:
    def __init__(self, state: SimState, render: Renderer, dispatcher: WebhookDispatcher) -> None:
        self.state = state
        self.render = render
        self.dispatcher = dispatcher

    def send(
        self,
        event: str,
        action: str | None,
        repo: Repo | None,
        sender: User,
        target: Installation | None = None,
        **objects: Any,
    ) -> None:
        if self.dispatcher.url is None:
            return  # GitHub sends nothing before the App has a webhook URL
        payload: dict[str, Any] = {} if action is None else {"action": action}
        payload.update(objects)
        if repo is not None:
            payload.setdefault("repository", self.render.repo(repo))
            target = target or self.state.installation_of_repo(repo)
        payload["sender"] = self.render.user(sender)
        ref = self.render.installation_ref(target)
        if ref is not None:
            payload.setdefault("installation", ref)
        self.dispatcher.enqueue(event, payload)

    # issues and pull requests ------------------------------------------------------------------
    def issue(self, action: str, repo: Repo, issue: Issue, sender: User, **extra: Any) -> None:
        """An `issues` event, or the `pull_request` event when the issue is a pull request."""
        if issue.pull is not None:
            self.pull_request(action, repo, issue, sender, **extra)
            return
        self.send("issues", action, repo, sender, issue=self.render.issue(repo, issue), **extra)

    def pull_request(
        self, action: str, repo: Repo, issue: Issue, sender: User, **extra: Any
    ) -> None:
        self.send(
            "pull_request",
            action,
            repo,
            sender,
            number=issue.number,
            pull_request=self.render.pull(repo, issue),
            **extra,
        )

    def issue_comment(
        self, action: str, repo: Repo, issue: Issue, comment: Comment, sender: User, **extra: Any
    ) -> None:
        self.send(
            "issue_comment",
            action,
            repo,
            sender,
            issue=self.render.issue(repo, issue),
            comment=self.render.comment(repo, issue, comment),
            **extra,
        )

    def review_submitted(self, repo: Repo, issue: Issue, review: Review, sender: User) -> None:
        body = self.render.review(repo, issue, review)
        body["state"] = review.state.lower()  # webhooks say "approved" where REST says "APPROVED"
        self.send(
            "pull_request_review",
            "submitted",
            repo,
            sender,
            review=body,
            pull_request=self.render.pull(repo, issue),
        )

    def sub_issue_added(self, repo: Repo, parent: Issue, child: Issue, sender: User) -> None:
        self.send(
            "sub_issues",
            "sub_issue_added",
            repo,
            sender,
            parent_issue_id=parent.id,
            parent_issue=self.render.issue(repo, parent),
            parent_issue_repo=self.render.repo(repo),
            sub_issue_id=child.id,
            sub_issue=self.render.issue(repo, child),
        )

    # checks and statuses -------------------------------------------------------------------------
    def check_run(self, action: str, repo: Repo, run: CheckRun, sender: User) -> None:
        self.send("check_run", action, repo, sender, check_run=self.render.check_run(repo, run))

    def check_suite(self, action: str, repo: Repo, suite: CheckSuite, sender: User) -> None:
        self.send(
            "check_suite", action, repo, sender, check_suite=self.render.check_suite(repo, suite)
        )

    def status(
        self, repo: Repo, status: CommitStatus, commit: CommitInfo, branches: list[str]
    ) -> None:
        api_commit = self.render.repo_api(repo, f"/commits/{commit.sha}")
        self.send(
            "status",
            None,
            repo,
            status.creator,
            id=status.id,
            sha=status.sha,
            name=repo.full_name,
            target_url=status.target_url,
            avatar_url=None,
            context=status.context,
            description=status.description,
            state=status.state,
            commit=commit_json(self.render, repo, commit),
            branches=[
                {
                    "name": name,
                    "commit": {"sha": commit.sha, "url": api_commit},
                    "protected": False,
                }
                for name in branches
            ],
            created_at=iso(status.created_at),
            updated_at=iso(status.updated_at),
        )

    # pushes and installations --------------------------------------------------------------------
    def push(
        self,
        repo: Repo,
        ref: str,
        before: str,
        after: str,
        commits: list[CommitInfo],
        head: CommitInfo | None,
        pusher: User,
        *,
        created: bool,
        deleted: bool,
        forced: bool,
    ) -> None:
        html = self.render.html(f"/{repo.full_name}")
        pushed = [push_commit(html, c) for c in commits]
        self.send(
            "push",
            None,
            repo,
            pusher,
            ref=ref,
            before=before,
            after=after,
            repository=self.render.repo_for_push(repo),
            pusher={
                "name": pusher.login,
                "email": f"{pusher.id}+{pusher.login}@users.noreply.github.com",
            },
            created=created,
            deleted=deleted,
            forced=forced,
            base_ref=None,
            compare=f"{html}/compare/{before[:12]}...{after[:12]}",
            commits=pushed,
            head_commit=push_commit(html, head) if head is not None else None,
        )

    def installation_created(self, inst: Installation, repos: list[Repo], sender: User) -> None:
        self.send(
            "installation",
            "created",
            None,
            sender,
            inst,
            installation=self.render.installation(inst),
            repositories=[repo_brief(r) for r in repos],
            requester=None,
        )

    def installation_repositories_added(
        self, inst: Installation, repos: list[Repo], sender: User
    ) -> None:
        self.send(
            "installation_repositories",
            "added",
            None,
            sender,
            inst,
            installation=self.render.installation(inst),
            repository_selection=inst.repository_selection,
            repositories_added=[repo_brief(r) for r in repos],
            repositories_removed=[],
            requester=None,
        )


def repo_brief(repo: Repo) -> dict[str, Any]:
    return {
        "id": repo.id,
        "node_id": node_id("R", repo.id),
        "name": repo.name,
        "full_name": repo.full_name,
        "private": repo.private,
    }


def push_commit(repo_html: str, commit: CommitInfo) -> dict[str, Any]:
    return {
        "id": commit.sha,
        "tree_id": commit.tree,
        "distinct": True,
        "message": commit.message,
        "timestamp": iso(commit.committer_date),
        "url": f"{repo_html}/commit/{commit.sha}",
        "author": {"name": commit.author.name, "email": commit.author.email},
        "committer": {"name": commit.committer.name, "email": commit.committer.email},
        "added": [],
        "removed": [],
        "modified": [],
    }


def commit_json(render: Renderer, repo: Repo, commit: CommitInfo) -> dict[str, Any]:
    """The `Commit` object of `GET /repos/{o}/{r}/commits/{ref}` (without `files`)."""
    api = render.repo_api(repo, f"/commits/{commit.sha}")
    return {
        "url": api,
        "sha": commit.sha,
        "node_id": node_id("C", int(commit.sha[:12], 16)),
        "html_url": render.html(f"/{repo.full_name}/commit/{commit.sha}"),
        "comments_url": f"{api}/comments",
        "commit": {
            "url": render.repo_api(repo, f"/git/commits/{commit.sha}"),
            "author": {
                "name": commit.author.name,
                "email": commit.author.email,
                "date": iso(commit.author_date),
            },
            "committer": {
                "name": commit.committer.name,
                "email": commit.committer.email,
                "date": iso(commit.committer_date),
            },
            "message": commit.message,
            "comment_count": 0,
            "tree": {
                "sha": commit.tree,
                "url": render.repo_api(repo, f"/git/trees/{commit.tree}"),
            },
            "verification": {
                "verified": False,
                "reason": "unsigned",
                "signature": None,
                "payload": None,
                "verified_at": None,
            },
        },
        "author": None,
        "committer": None,
        "parents": [
            {
                "sha": p,
                "url": render.repo_api(repo, f"/commits/{p}"),
                "html_url": render.html(f"/{repo.full_name}/commit/{p}"),
            }
            for p in commit.parents
        ],
    }
