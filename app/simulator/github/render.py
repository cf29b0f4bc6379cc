"""Records to GitHub's JSON: full objects with every field githubkit's strict models require."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from app.simulator.github import policy
from app.simulator.github.models import (
    AppInfo,
    CheckRun,
    CheckSuite,
    Comment,
    CommitStatus,
    Installation,
    Issue,
    Label,
    Reaction,
    Repo,
    Review,
    ReviewComment,
    User,
    permission_at_least,
)
from app.simulator.github.state import SimState
from app.simulator.github.util import iso, node_id

REACTION_CONTENTS = ("+1", "-1", "laugh", "confused", "heart", "hooray", "eyes", "rocket")


class Renderer:
    """Turns records into JSON. Call with `state.lock` held so that objects are consistent."""

    def __init__(self, state: SimState, base_url: str) -> None:
        self.state = state
        self.base = base_url.rstrip("/")

    # urls ------------------------------------------------------------------------------------
    def api(self, path: str) -> str:
        return f"{self.base}{path}"

    def html(self, path: str) -> str:
        return f"{self.base}{path}"

    def repo_api(self, repo: Repo, path: str = "") -> str:
        return self.api(f"/repos/{repo.full_name}{path}")

    def clone_url(self, repo: Repo) -> str:
        return f"{self.base}/{repo.full_name}.git"

    # people and apps ---------------------------------------------------------------------------
    def user(self, user: User) -> dict[str, Any]:
        login = quote(user.login)
        api = self.api(f"/users/{login}")
        return {
            "login": user.login,
            "id": user.id,
            "node_id": node_id("U", user.id),
            "avatar_url": self.html(f"/avatars/{login}"),
            "gravatar_id": "",
            "url": api,
            "html_url": self.html(f"/{login}"),
            "followers_url": f"{api}/followers",
            "following_url": f"{api}/following{{/other_user}}",
            "gists_url": f"{api}/gists{{/gist_id}}",
            "starred_url": f"{api}/starred{{/owner}}{{/repo}}",
            "subscriptions_url": f"{api}/subscriptions",
            "organizations_url": f"{api}/orgs",
            "repos_url": f"{api}/repos",
            "events_url": f"{api}/events{{/privacy}}",
            "received_events_url": f"{api}/received_events",
            "type": user.type,
            "user_view_type": "public",
            "site_admin": user.site_admin,
        }

    def app(self, app: AppInfo) -> dict[str, Any]:
        return {
            "id": app.id,
            "slug": app.slug,
            "node_id": node_id("A", app.id),
            "client_id": f"Iv1.{app.id:016x}",
            "owner": self.user(app.owner),
            "name": app.name,
            "description": f"{app.name} (simulated)",
            "external_url": self.html(f"/apps/{app.slug}"),
            "html_url": self.html(f"/apps/{app.slug}"),
            "created_at": iso(app.created_at),
            "updated_at": iso(app.created_at),
            "permissions": dict(app.permissions),
            "events": list(app.events),
            "installations_count": len(self.state.installations),
        }

    def installation(self, inst: Installation) -> dict[str, Any]:
        app = self.state.app
        return {
            "id": inst.id,
            "account": self.user(inst.account),
            "repository_selection": inst.repository_selection,
            "access_tokens_url": self.api(f"/app/installations/{inst.id}/access_tokens"),
            "repositories_url": self.api("/installation/repositories"),
            "html_url": self.html(f"/settings/installations/{inst.id}"),
            "app_id": app.id,
            "app_slug": app.slug,
            "client_id": f"Iv1.{app.id:016x}",
            "target_id": inst.account.id,
            "target_type": inst.account.type,
            "permissions": dict(inst.permissions),
            "events": list(inst.events),
            "created_at": iso(inst.created_at),
            "updated_at": iso(inst.updated_at),
            "single_file_name": None,
            "has_multiple_single_files": False,
            "single_file_paths": [],
            "suspended_by": None,
            "suspended_at": None,
        }

    def installation_ref(self, inst: Installation | None) -> dict[str, Any] | None:
        if inst is None:
            return None
        return {"id": inst.id, "node_id": node_id("MDIzOkludGVncmF0aW9uSW5zdGFsbGF0aW9u", inst.id)}

    # repositories ------------------------------------------------------------------------------
    def repo(self, repo: Repo, permission: str | None = None) -> dict[str, Any]:
        """The full repository object (a superset of Repository and FullRepository)."""
        api = self.repo_api(repo)
        host = self.base.split("://", 1)[-1]
        open_count = sum(1 for i in repo.issues.values() if i.state == "open")
        body: dict[str, Any] = {
            "id": repo.id,
            "node_id": node_id("R", repo.id),
            "name": repo.name,
            "full_name": repo.full_name,
            "private": repo.private,
            "owner": self.user(repo.owner),
            "html_url": self.html(f"/{repo.full_name}"),
            "description": repo.description,
            "fork": False,
            "url": api,
            "archive_url": f"{api}/{{archive_format}}{{/ref}}",
            "assignees_url": f"{api}/assignees{{/user}}",
            "blobs_url": f"{api}/git/blobs{{/sha}}",
            "branches_url": f"{api}/branches{{/branch}}",
            "collaborators_url": f"{api}/collaborators{{/collaborator}}",
            "comments_url": f"{api}/comments{{/number}}",
            "commits_url": f"{api}/commits{{/sha}}",
            "compare_url": f"{api}/compare/{{base}}...{{head}}",
            "contents_url": f"{api}/contents/{{+path}}",
            "contributors_url": f"{api}/contributors",
            "deployments_url": f"{api}/deployments",
            "downloads_url": f"{api}/downloads",
            "events_url": f"{api}/events",
            "forks_url": f"{api}/forks",
            "git_commits_url": f"{api}/git/commits{{/sha}}",
            "git_refs_url": f"{api}/git/refs{{/sha}}",
            "git_tags_url": f"{api}/git/tags{{/sha}}",
            "git_url": f"git://{host}/{repo.full_name}.git",
            "issue_comment_url": f"{api}/issues/comments{{/number}}",
            "issue_events_url": f"{api}/issues/events{{/number}}",
            "issues_url": f"{api}/issues{{/number}}",
            "keys_url": f"{api}/keys{{/key_id}}",
            "labels_url": f"{api}/labels{{/name}}",
            "languages_url": f"{api}/languages",
            "merges_url": f"{api}/merges",
            "milestones_url": f"{api}/milestones{{/number}}",
            "notifications_url": f"{api}/notifications{{?since,all,participating}}",
            "pulls_url": f"{api}/pulls{{/number}}",
            "releases_url": f"{api}/releases{{/id}}",
            "ssh_url": f"git@{host}:{repo.full_name}.git",
            "stargazers_url": f"{api}/stargazers",
            "statuses_url": f"{api}/statuses/{{sha}}",
            "subscribers_url": f"{api}/subscribers",
            "subscription_url": f"{api}/subscription",
            "tags_url": f"{api}/tags",
            "teams_url": f"{api}/teams",
            "trees_url": f"{api}/git/trees{{/sha}}",
            "clone_url": self.clone_url(repo),
            "mirror_url": None,
            "hooks_url": f"{api}/hooks",
            "svn_url": self.html(f"/{repo.full_name}"),
            "homepage": None,
            "language": None,
            "forks_count": 0,
            "stargazers_count": 0,
            "watchers_count": 0,
            "size": 0,
            "default_branch": repo.default_branch,
            "open_issues_count": open_count,
            "is_template": False,
            "topics": [],
            "has_issues": True,
            "has_projects": True,
            "has_wiki": True,
            "has_pages": False,
            "has_downloads": True,
            "has_discussions": False,
            "archived": False,
            "disabled": False,
            "visibility": "private" if repo.private else "public",
            "pushed_at": iso(repo.pushed_at),
            "created_at": iso(repo.created_at),
            "updated_at": iso(repo.updated_at),
            "allow_forking": True,
            "web_commit_signoff_required": False,
            "subscribers_count": 0,
            "network_count": 0,
            "license": None,
            "forks": 0,
            "open_issues": open_count,
            "watchers": 0,
            "allow_merge_commit": True,
            "allow_squash_merge": True,
            "allow_rebase_merge": True,
            "allow_auto_merge": False,
            "delete_branch_on_merge": False,
            "allow_update_branch": True,
        }
        if permission is not None:
            body["permissions"] = self.permissions(permission)
        return body

    @staticmethod
    def permissions(role: str) -> dict[str, bool]:
        return {
            "admin": permission_at_least(role, "admin"),
            "maintain": permission_at_least(role, "maintain"),
            "push": permission_at_least(role, "write"),
            "triage": permission_at_least(role, "triage"),
            "pull": permission_at_least(role, "read"),
        }

    def repo_for_push(self, repo: Repo) -> dict[str, Any]:
        """The push event's repository: timestamps as epoch seconds, as GitHub sends them."""
        body = self.repo(repo)
        body["created_at"] = int(repo.created_at.timestamp())
        body["pushed_at"] = int(repo.pushed_at.timestamp())
        body["stargazers"] = 0
        body["master_branch"] = repo.default_branch
        return body

    def author_association(self, repo: Repo, user: User) -> str:
        if user.id == repo.owner.id:
            return "OWNER"
        if user.login.lower() in repo.collaborators:
            return "COLLABORATOR"
        return "NONE"

    # labels, reactions ---------------------------------------------------------------------------
    def label(self, repo: Repo, label: Label) -> dict[str, Any]:
        return {
            "id": label.id,
            "node_id": node_id("LA", label.id),
            "url": self.repo_api(repo, f"/labels/{quote(label.name)}"),
            "name": label.name,
            "description": label.description,
            "color": label.color,
            "default": label.default,
            "archived_at": None,
            "archived_by": None,
        }

    def reaction_rollup(self, url: str, reactions: list[Reaction]) -> dict[str, Any]:
        rollup: dict[str, Any] = {"url": url, "total_count": len(reactions)}
        for content in REACTION_CONTENTS:
            rollup[content] = sum(1 for r in reactions if r.content == content)
        return rollup

    def reaction(self, reaction: Reaction) -> dict[str, Any]:
        return {
            "id": reaction.id,
            "node_id": node_id("REA", reaction.id),
            "user": self.user(reaction.user),
            "content": reaction.content,
            "created_at": iso(reaction.created_at),
        }

    # issues and comments -------------------------------------------------------------------------
    def sub_issues_summary(self, issue: Issue) -> dict[str, int]:
        subs = [self.state.issue_index[i][1] for i in issue.sub_issue_ids]
        done = sum(1 for s in subs if s.state == "closed")
        percent = (done * 100 // len(subs)) if subs else 0
        return {"total": len(subs), "completed": done, "percent_completed": percent}

    def issue(self, repo: Repo, issue: Issue) -> dict[str, Any]:
        url = self.repo_api(repo, f"/issues/{issue.number}")
        kind = "pull" if issue.pull is not None else "issues"
        body: dict[str, Any] = {
            "id": issue.id,
            "node_id": node_id("I", issue.id),
            "url": url,
            "repository_url": self.repo_api(repo),
            "labels_url": f"{url}/labels{{/name}}",
            "comments_url": f"{url}/comments",
            "events_url": f"{url}/events",
            "html_url": self.html(f"/{repo.full_name}/{kind}/{issue.number}"),
            "number": issue.number,
            "state": issue.state,
            "state_reason": issue.state_reason,
            "title": issue.title,
            "body": issue.body,
            "user": self.user(issue.user),
            "labels": [self.label(repo, label) for label in issue.labels],
            "assignee": self.user(issue.assignees[0]) if issue.assignees else None,
            "assignees": [self.user(a) for a in issue.assignees],
            "milestone": None,
            "locked": issue.locked,
            "active_lock_reason": None,
            "comments": len(issue.comments),
            "closed_at": iso(issue.closed_at),
            "created_at": iso(issue.created_at),
            "updated_at": iso(issue.updated_at),
            "closed_by": self.user(issue.closed_by) if issue.closed_by else None,
            "author_association": self.author_association(repo, issue.user),
            "reactions": self.reaction_rollup(f"{url}/reactions", issue.reactions),
            "timeline_url": f"{url}/timeline",
            "performed_via_github_app": None,
            "sub_issues_summary": self.sub_issues_summary(issue),
            "type": None,
        }
        if issue.parent_id is not None:
            parent_repo, parent = self.state.issue_index[issue.parent_id]
            body["parent_issue_url"] = self.repo_api(parent_repo, f"/issues/{parent.number}")
        if issue.pull is not None:
            html = self.html(f"/{repo.full_name}/pull/{issue.number}")
            body["draft"] = issue.pull.draft
            body["pull_request"] = {
                "url": self.repo_api(repo, f"/pulls/{issue.number}"),
                "html_url": html,
                "diff_url": f"{html}.diff",
                "patch_url": f"{html}.patch",
                "merged_at": iso(issue.pull.merged_at),
            }
        return body

    def comment(self, repo: Repo, issue: Issue, comment: Comment) -> dict[str, Any]:
        url = self.repo_api(repo, f"/issues/comments/{comment.id}")
        kind = "pull" if issue.pull is not None else "issues"
        return {
            "id": comment.id,
            "node_id": node_id("IC", comment.id),
            "url": url,
            "html_url": self.html(
                f"/{repo.full_name}/{kind}/{issue.number}#issuecomment-{comment.id}"
            ),
            "body": comment.body,
            "user": self.user(comment.user),
            "created_at": iso(comment.created_at),
            "updated_at": iso(comment.updated_at),
            "issue_url": self.repo_api(repo, f"/issues/{issue.number}"),
            "author_association": self.author_association(repo, comment.user),
            "performed_via_github_app": self.app(self.state.app) if comment.via_app else None,
            "reactions": self.reaction_rollup(f"{url}/reactions", comment.reactions),
        }

    # pull requests -------------------------------------------------------------------------------
    def mergeable_state(self, repo: Repo, issue: Issue) -> str:
        """GitHub's words, most severe first: a conflict (dirty), the base's rules not met
        (blocked: required checks, reviews), not up to date where the base demands it (behind),
        other checks not passing (unstable), else clean; unknown until the job has run."""
        pull = issue.pull
        assert pull is not None
        if issue.state == "closed":
            return "unknown"
        if pull.draft:
            return "draft"
        if pull.mergeable is None:
            return "unknown"
        if not pull.mergeable:
            return "dirty"
        if policy.blocked(self.state, repo, issue):
            return "blocked"
        if pull.behind and policy.strict(repo, pull.base_ref):
            return "behind"
        if any(o.state != "success" for o in policy.outcomes_on(repo, pull.head_sha)):
            return "unstable"
        return "clean"

    def _branch(self, repo: Repo, ref: str, sha: str) -> dict[str, Any]:
        return {
            "label": f"{repo.owner.login}:{ref}",
            "ref": ref,
            "sha": sha,
            "user": self.user(repo.owner),
            "repo": self.repo(repo),
        }

    def pull(self, repo: Repo, issue: Issue) -> dict[str, Any]:
        pull = issue.pull
        assert pull is not None
        url = self.repo_api(repo, f"/pulls/{issue.number}")
        html = self.html(f"/{repo.full_name}/pull/{issue.number}")
        issue_url = self.repo_api(repo, f"/issues/{issue.number}")
        statuses = self.repo_api(repo, f"/statuses/{pull.head_sha}")
        links = {
            "self": url,
            "html": html,
            "issue": issue_url,
            "comments": f"{issue_url}/comments",
            "review_comments": f"{url}/comments",
            "review_comment": self.repo_api(repo, "/pulls/comments{/number}"),
            "commits": f"{url}/commits",
            "statuses": statuses,
        }
        return {
            "url": url,
            "id": pull.id,
            "node_id": node_id("PR", pull.id),
            "html_url": html,
            "diff_url": f"{html}.diff",
            "patch_url": f"{html}.patch",
            "issue_url": issue_url,
            "commits_url": links["commits"],
            "review_comments_url": links["review_comments"],
            "review_comment_url": links["review_comment"],
            "comments_url": links["comments"],
            "statuses_url": statuses,
            "number": issue.number,
            "state": issue.state,
            "locked": issue.locked,
            "title": issue.title,
            "user": self.user(issue.user),
            "body": issue.body,
            "labels": [self.label(repo, label) for label in issue.labels],
            "milestone": None,
            "active_lock_reason": None,
            "created_at": iso(issue.created_at),
            "updated_at": iso(issue.updated_at),
            "closed_at": iso(issue.closed_at),
            "merged_at": iso(pull.merged_at),
            "merge_commit_sha": pull.merge_commit_sha,
            "assignee": self.user(issue.assignees[0]) if issue.assignees else None,
            "assignees": [self.user(a) for a in issue.assignees],
            "requested_reviewers": [],
            "requested_teams": [],
            "head": self._branch(repo, pull.head_ref, pull.head_sha),
            "base": self._branch(repo, pull.base_ref, pull.base_sha),
            "_links": {name: {"href": href} for name, href in links.items()},
            "author_association": self.author_association(repo, issue.user),
            "auto_merge": None,
            "draft": pull.draft,
            "merged": pull.merged,
            "mergeable": pull.mergeable if issue.state == "open" else None,
            "rebaseable": pull.mergeable if issue.state == "open" else None,
            "mergeable_state": self.mergeable_state(repo, issue),
            "merged_by": self.user(pull.merged_by) if pull.merged_by else None,
            "comments": len(issue.comments),
            "review_comments": len(pull.review_comments),
            "maintainer_can_modify": False,
            "commits": pull.commits,
            "additions": pull.additions,
            "deletions": pull.deletions,
            "changed_files": pull.changed_files,
        }

    def pull_minimal(self, repo: Repo, issue: Issue) -> dict[str, Any]:
        pull = issue.pull
        assert pull is not None
        ref = {"id": repo.id, "url": self.repo_api(repo), "name": repo.name}
        return {
            "id": pull.id,
            "number": issue.number,
            "url": self.repo_api(repo, f"/pulls/{issue.number}"),
            "head": {"ref": pull.head_ref, "sha": pull.head_sha, "repo": ref},
            "base": {"ref": pull.base_ref, "sha": pull.base_sha, "repo": ref},
        }

    def review(self, repo: Repo, issue: Issue, review: Review) -> dict[str, Any]:
        html = self.html(f"/{repo.full_name}/pull/{issue.number}#pullrequestreview-{review.id}")
        pull_url = self.repo_api(repo, f"/pulls/{issue.number}")
        return {
            "id": review.id,
            "node_id": node_id("PRR", review.id),
            "user": self.user(review.user),
            "body": review.body,
            "state": review.state,
            "html_url": html,
            "pull_request_url": pull_url,
            "author_association": self.author_association(repo, review.user),
            "_links": {"html": {"href": html}, "pull_request": {"href": pull_url}},
            "submitted_at": iso(review.submitted_at),
            "commit_id": review.commit_id,
        }

    def review_comment(self, repo: Repo, issue: Issue, comment: ReviewComment) -> dict[str, Any]:
        url = self.repo_api(repo, f"/pulls/comments/{comment.id}")
        html = self.html(f"/{repo.full_name}/pull/{issue.number}#discussion_r{comment.id}")
        pull_url = self.repo_api(repo, f"/pulls/{issue.number}")
        return {
            "url": url,
            "pull_request_review_id": comment.review_id,
            "id": comment.id,
            "node_id": node_id("PRRC", comment.id),
            "diff_hunk": f"@@ -{comment.line or 1} +{comment.line or 1} @@",
            "path": comment.path,
            "position": comment.line,
            "original_position": comment.line,
            "commit_id": comment.commit_id,
            "original_commit_id": comment.commit_id,
            "user": self.user(comment.user),
            "body": comment.body,
            "created_at": iso(comment.created_at),
            "updated_at": iso(comment.updated_at),
            "html_url": html,
            "pull_request_url": pull_url,
            "author_association": self.author_association(repo, comment.user),
            "_links": {
                "self": {"href": url},
                "html": {"href": html},
                "pull_request": {"href": pull_url},
            },
            "line": comment.line,
            "original_line": comment.line,
            "side": comment.side,
            "start_line": None,
            "original_start_line": None,
            "start_side": None,
            "subject_type": "line",
            "reactions": self.reaction_rollup(f"{url}/reactions", []),
        }

    # checks and statuses -------------------------------------------------------------------------
    def pulls_at(self, repo: Repo, sha: str) -> list[dict[str, Any]]:
        return [self.pull_minimal(repo, i) for i in repo.open_pulls() if i.pull.head_sha == sha]  # type: ignore[union-attr]

    def check_run(self, repo: Repo, run: CheckRun) -> dict[str, Any]:
        url = self.repo_api(repo, f"/check-runs/{run.id}")
        suite = repo.check_suites[run.suite_id]
        return {
            "id": run.id,
            "head_sha": run.head_sha,
            "node_id": node_id("CR", run.id),
            "external_id": run.external_id or "",
            "url": url,
            "html_url": self.html(f"/{repo.full_name}/runs/{run.id}"),
            "details_url": run.details_url or self.html(f"/{repo.full_name}/runs/{run.id}"),
            "status": run.status,
            "conclusion": run.conclusion,
            "started_at": iso(run.started_at),
            "completed_at": iso(run.completed_at),
            "output": {
                "title": run.output.get("title"),
                "summary": run.output.get("summary"),
                "text": run.output.get("text"),
                "annotations_count": 0,
                "annotations_url": f"{url}/annotations",
            },
            "name": run.name,
            "check_suite": self.check_suite_brief(repo, suite),
            "app": self.app(run.app),
            "pull_requests": self.pulls_at(repo, run.head_sha),
        }

    def check_suite_brief(self, repo: Repo, suite: CheckSuite) -> dict[str, Any]:
        """The `check_suite` inside a check run (githubkit's SimpleCheckSuite)."""
        return {
            "id": suite.id,
            "node_id": node_id("CS", suite.id),
            "head_branch": suite.head_branch,
            "head_sha": suite.head_sha,
            "status": suite.status,
            "conclusion": suite.conclusion,
            "url": self.repo_api(repo, f"/check-suites/{suite.id}"),
            "before": suite.before,
            "after": suite.after,
            "pull_requests": self.pulls_at(repo, suite.head_sha),
            "app": self.app(suite.app),
            "repository": self.repo(repo),
            "created_at": iso(suite.created_at),
            "updated_at": iso(suite.updated_at),
        }

    def check_suite(self, repo: Repo, suite: CheckSuite) -> dict[str, Any]:
        runs = [r for r in repo.check_runs.values() if r.suite_id == suite.id]
        body = self.check_suite_brief(repo, suite)
        body.update(
            {
                "head_commit": suite.head_commit,
                "latest_check_runs_count": len(runs),
                "check_runs_url": self.repo_api(repo, f"/check-suites/{suite.id}/check-runs"),
                "rerequestable": True,
                "runs_rerequestable": True,
            }
        )
        return body

    def status(self, repo: Repo, status: CommitStatus) -> dict[str, Any]:
        return {
            "url": self.repo_api(repo, f"/statuses/{status.sha}"),
            "avatar_url": self.html(f"/avatars/{quote(status.creator.login)}"),
            "id": status.id,
            "node_id": node_id("SC", status.id),
            "state": status.state,
            "description": status.description,
            "target_url": status.target_url,
            "context": status.context,
            "created_at": iso(status.created_at),
            "updated_at": iso(status.updated_at),
            "creator": self.user(status.creator),
        }
