"""A tour of every REST operation the simulator serves, recording each answer, for
test_openapi.py to check against GitHub's description. Some steps are refusals on purpose (404,
409, 422, 405, 403): their bodies are described too."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import httpx
import jwt

from tests.simulator.conftest import World
from tests.simulator.support import Worktree, with_token


@dataclass(frozen=True)
class Exchange:
    method: str
    path: str
    status: int
    content_type: str
    body: bytes


class Recorder(httpx.BaseTransport):
    """An httpx transport that keeps every answer it carries."""

    def __init__(self) -> None:
        self._inner = httpx.HTTPTransport()
        self.exchanges: list[Exchange] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self._inner.handle_request(request)
        body = response.read()
        self.exchanges.append(
            Exchange(
                request.method,
                request.url.path,
                response.status_code,
                response.headers.get("content-type", ""),
                body,
            )
        )
        return response

    def close(self) -> None:
        self._inner.close()


class Caller:
    """Requests as one identity (a token or the App's JWT), through the recorder."""

    def __init__(self, base: str, recorder: Recorder, token: str) -> None:
        self._client = httpx.Client(
            base_url=base,
            transport=recorder,
            headers={"Authorization": f"Bearer {token}", "Accept": "application/vnd.github+json"},
            timeout=30,
            trust_env=False,
        )

    def __call__(
        self, method: str, path: str, json: Any = None, params: dict[str, Any] | None = None
    ) -> Any:
        response = self._client.request(method, path, json=json, params=params)
        return response.json() if response.content else None


def app_jwt(private_key: str, app_id: int = 1) -> str:
    now = int(time.time())
    return jwt.encode({"iat": now - 30, "exp": now + 300, "iss": str(app_id)}, private_key, "RS256")


def _push(world: World, name: str, branch: str, files: dict[str, str], start: str) -> str:
    url = with_token(f"{world.sim.url}/octo/{name}.git", world.owner.token)
    target = world.tmp / f"tour-{name}"
    work = Worktree(target) if target.exists() else Worktree.clone(url, target)
    work.git("fetch", "--quiet", "origin")
    work.branch(branch, start)
    sha = work.commit(files, f"tour: {branch}")
    work.push(branch)
    return sha


def tour(world: World, recorder: Recorder) -> None:
    """Call every operation at least once (and a few refusals)."""
    base = world.sim.url
    ctl = world.control
    ctl.create_repo("octo", "tour", source_dir=world.tmp / "source", ci_command="true")
    ctl.create_user("writer")
    ctl.set_permission("octo", "tour", "writer", "write")
    ctl.set_app_permissions(administration="read")
    owner = Caller(base, recorder, world.owner.token)
    app = Caller(base, recorder, app_jwt(world.private_key))
    repo = "/repos/octo/tour"

    # the App and its installations
    app("GET", "/app")
    app("GET", "/app/installations")
    installation = app("GET", f"{repo}/installation")
    app("GET", f"/app/installations/{installation['id']}")
    app("GET", "/users/octo/installation")
    app("GET", "/orgs/octo/installation")
    minted = app("POST", f"/app/installations/{installation['id']}/access_tokens", json={})
    bot = Caller(base, recorder, minted["token"])
    bot("GET", "/installation/repositories")
    bot("GET", "/rate_limit")
    owner("GET", "/app")  # 401: not a JWT

    # the repository, its commits and contents
    owner("GET", repo)
    owner("GET", "/repos/octo/nowhere")  # 404
    owner("GET", f"{repo}/collaborators/writer/permission")
    owner("GET", f"{repo}/collaborators/writer")
    owner("GET", f"{repo}/collaborators/github")  # 404
    main = owner("GET", f"{repo}/branches/main")["commit"]["sha"]
    owner("GET", f"{repo}/branches")
    owner("GET", f"{repo}/branches/nowhere")  # 404
    owner("GET", f"{repo}/commits", params={"per_page": 5})
    owner("GET", f"{repo}/commits/{main}")
    owner("GET", f"{repo}/commits/{'f' * 40}")  # 422
    owner("GET", f"{repo}/contents")
    owner("GET", f"{repo}/contents/src")
    owner("GET", f"{repo}/contents/README.md")
    owner("GET", f"{repo}/contents/missing.txt")  # 404
    owner("GET", f"{repo}/git/commits/{main}")

    # refs
    owner("GET", f"{repo}/git/ref/heads/main")
    owner("POST", f"{repo}/git/refs", json={"ref": "refs/heads/tour-ref", "sha": main})
    owner("POST", f"{repo}/git/refs", json={"ref": "refs/heads/tour-ref", "sha": main})  # 422
    owner("GET", f"{repo}/git/matching-refs/heads/tour")
    ahead = _push(world, "tour", "ahead", {"ahead.txt": "a\n"}, "origin/main")
    sideways = _push(world, "tour", "sideways", {"side.txt": "s\n"}, "origin/main")
    owner("PATCH", f"{repo}/git/refs/heads/tour-ref", json={"sha": ahead})
    owner("PATCH", f"{repo}/git/refs/heads/tour-ref", json={"sha": sideways})  # 422: not ff
    owner("DELETE", f"{repo}/git/refs/heads/tour-ref")
    owner("GET", f"{repo}/git/ref/heads/tour-ref")  # 404
    owner("GET", f"{repo}/compare/main...ahead")
    owner("GET", f"{repo}/compare/ahead...sideways", params={"per_page": 1})

    # issues, labels, comments, reactions, sub-issues
    goal = owner("POST", f"{repo}/issues", json={"title": "goal", "labels": ["swarm"]})
    task = owner("POST", f"{repo}/issues", json={"title": "task", "body": "do it"})
    number = goal["number"]
    owner("GET", f"{repo}/issues/{number}")
    owner("PATCH", f"{repo}/issues/{number}", json={"body": "edited"})
    owner("GET", f"{repo}/issues", params={"state": "all"})
    owner("POST", f"{repo}/issues/{number}/assignees", json={"assignees": ["octo"]})
    owner("DELETE", f"{repo}/issues/{number}/assignees", json={"assignees": ["octo"]})
    owner("GET", f"{repo}/labels")
    owner("POST", f"{repo}/labels", json={"name": "tour", "color": "ededed"})
    owner("POST", f"{repo}/labels", json={"name": "tour", "color": "ededed"})  # 422: exists
    owner("GET", f"{repo}/labels/tour")
    owner("PATCH", f"{repo}/labels/tour", json={"description": "touring"})
    owner("GET", f"{repo}/issues/{number}/labels")
    owner("POST", f"{repo}/issues/{number}/labels", json={"labels": ["tour"]})
    owner("PUT", f"{repo}/issues/{number}/labels", json={"labels": ["tour", "bug"]})
    owner("DELETE", f"{repo}/issues/{number}/labels/bug")
    owner("DELETE", f"{repo}/issues/{number}/labels")
    owner("DELETE", f"{repo}/labels/tour")
    comment = owner("POST", f"{repo}/issues/{number}/comments", json={"body": "hello"})
    owner("GET", f"{repo}/issues/{number}/comments")
    owner("GET", f"{repo}/issues/comments")
    owner("GET", f"{repo}/issues/comments/{comment['id']}")
    owner("PATCH", f"{repo}/issues/comments/{comment['id']}", json={"body": "hi"})
    owner("POST", f"{repo}/issues/{number}/reactions", json={"content": "eyes"})
    owner("GET", f"{repo}/issues/{number}/reactions")
    reaction = owner(
        "POST", f"{repo}/issues/comments/{comment['id']}/reactions", json={"content": "+1"}
    )
    owner("GET", f"{repo}/issues/comments/{comment['id']}/reactions")
    owner("DELETE", f"{repo}/issues/comments/{comment['id']}/reactions/{reaction['id']}")
    owner("DELETE", f"{repo}/issues/comments/{comment['id']}")
    owner("POST", f"{repo}/issues/{number}/sub_issues", json={"sub_issue_id": task["id"]})
    owner("GET", f"{repo}/issues/{number}/sub_issues")
    owner("GET", f"{repo}/issues/{task['number']}/parent")
    owner("DELETE", f"{repo}/issues/{number}/sub_issue", json={"sub_issue_id": task["id"]})

    # pull requests, reviews, merging
    head = _push(world, "tour", "feature", {"feature.txt": "f\n"}, "origin/main")
    pr = owner(
        "POST",
        f"{repo}/pulls",
        json={"title": "Feature", "head": "feature", "base": "main", "body": f"Closes #{number}"},
    )
    owner("POST", f"{repo}/pulls", json={"title": "again", "head": "feature", "base": "main"})
    assert ctl.settle(30)
    pull = f"{repo}/pulls/{pr['number']}"
    owner("GET", pull)
    owner("GET", f"{repo}/pulls", params={"state": "all"})
    owner("PATCH", pull, json={"title": "Feature!"})
    owner("GET", f"{pull}/files")
    owner("GET", f"{pull}/commits")
    review = bot(
        "POST",
        f"{pull}/reviews",
        json={
            "event": "COMMENT",
            "body": "looks fine",
            "comments": [{"path": "feature.txt", "line": 1, "body": "ok"}],
        },
    )
    owner("GET", f"{pull}/reviews")
    owner("GET", f"{pull}/reviews/{review['id']}")
    owner("GET", f"{pull}/comments")
    owner("GET", f"{pull}/reviews/{review['id']}/comments")
    owner("GET", f"{pull}/merge")  # 404: not merged yet
    owner("PUT", f"{pull}/merge", json={"sha": "0" * 40})  # 409
    _push(world, "tour", "main", {"main.txt": "m\n"}, "origin/main")
    owner("PUT", f"{pull}/update-branch", json={"expected_head_sha": head})
    owner("PUT", f"{pull}/update-branch", json={"expected_head_sha": head})  # 422: moved

    # checks and statuses
    assert ctl.settle(30)
    runs = bot("GET", f"{repo}/commits/{head}/check-runs", params={"filter": "all"})
    bot("POST", f"{repo}/check-runs/{runs['check_runs'][0]['id']}/rerequest")
    assert ctl.settle(30)
    run = bot("POST", f"{repo}/check-runs", json={"name": "judge", "head_sha": main})
    bot("PATCH", f"{repo}/check-runs/{run['id']}", json={"conclusion": "success"})
    bot("GET", f"{repo}/check-runs/{run['id']}")
    suites = bot("GET", f"{repo}/commits/{main}/check-suites")
    bot("GET", f"{repo}/check-suites/{suites['check_suites'][0]['id']}")
    owner("POST", f"{repo}/check-runs", json={"name": "x", "head_sha": main})  # 403: a person
    owner("POST", f"{repo}/statuses/{main}", json={"state": "success", "context": "lint"})
    bot("POST", f"{repo}/statuses/{main}", json={"state": "success", "context": "x"})  # 403
    bot("GET", f"{repo}/commits/{main}/status")
    bot("GET", f"{repo}/commits/{main}/statuses")

    # branch protection and rulesets
    owner("GET", f"{repo}/branches/main/protection")  # 404: not protected
    ctl.protect_branch("octo", "tour", "main", required_checks=["ci"], required_reviews=1)
    ruleset = ctl.create_ruleset(
        "octo", "tour", "gate", [{"type": "update"}, {"type": "non_fast_forward"}], bypass_app=True
    )
    owner("GET", f"{repo}/branches/main/protection")
    bot("GET", f"{repo}/branches/main/protection/required_status_checks")
    owner("GET", f"{repo}/branches/main")
    bot("GET", f"{repo}/rules/branches/main")
    bot("GET", f"{repo}/rulesets")
    bot("GET", f"{repo}/rulesets/{ruleset['id']}")
    owner("PATCH", f"{repo}/git/refs/heads/main", json={"sha": ahead, "force": True})  # 422
    writer = Caller(base, recorder, ctl.create_user("merger").token)
    ctl.set_permission("octo", "tour", "merger", "write")
    writer("PUT", f"{pull}/merge", json={})  # 405: the rules refuse
    ctl.delete_ruleset("octo", "tour", ruleset["id"])
    ctl.unprotect_branch("octo", "tour", "main")
    assert ctl.settle(30)
    owner("PUT", f"{pull}/merge", json={"merge_method": "squash"})
    owner("GET", f"{pull}/merge")  # 204
