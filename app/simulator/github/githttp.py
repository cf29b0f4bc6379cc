"""Git's smart HTTP protocol, served by `git http-backend` (CGI) behind GitHub's rules:
fetch with a token or anonymously from a public repository, push only with write access.
A push is then announced as GitHub announces one (see refs.sync_refs)."""

from __future__ import annotations

import json
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import anyio
from fastapi import APIRouter, Request, Response

from app.simulator.github.auth import Actor, resolve_actor, role_on
from app.simulator.github.core import Simulator
from app.simulator.github.errors import GitHubError
from app.simulator.github.gitops import GIT_TIMEOUT, hermetic_env
from app.simulator.github.models import Repo, permission_at_least
from app.simulator.github.policy import hook_document, pusher_for
from app.simulator.github.pushguard import ALLOWED_ENV, POLICY_ENV
from app.simulator.github.refs import sync_refs
from app.simulator.github.routes.deps import REQUEST_CONTEXT

router = APIRouter()
HTTP_BACKEND = "/usr/lib/git-core/git-http-backend"
RECEIVE_PACK = "git-receive-pack"
CHALLENGE = {"WWW-Authenticate": 'Basic realm="GitHub"'}


@dataclass(frozen=True)
class CgiResult:
    status: int
    headers: dict[str, str]
    body: bytes


def _plain(status: int, text: str, headers: dict[str, str] | None = None) -> Response:
    return Response(text + "\n", status_code=status, media_type="text/plain", headers=headers)


def _authorise(sim: Simulator, request: Request, repo: Repo, push: bool) -> Actor | Response:
    """The caller, or the answer that makes git report an authentication failure."""
    try:
        actor = resolve_actor(
            sim.state, request.headers.get("authorization"), sim.config.app_public_key_pem
        )
    except GitHubError:
        return _plain(401, "Invalid username or token.", CHALLENGE)
    context = request.scope.get(REQUEST_CONTEXT)
    if isinstance(context, dict):
        context["actor"] = actor.login
    with sim.state.lock:
        role = role_on(sim.state, actor, repo)
    if actor.user is None and (push or not permission_at_least(role, "read")):
        return _plain(401, "Authentication required.", CHALLENGE)
    if not permission_at_least(role, "read"):
        return _plain(404, "Repository not found.")
    if push:
        allowed = permission_at_least(role, "write")
        if actor.token is not None:
            allowed = allowed and actor.token.permissions.get("contents") == "write"
        if not allowed:
            return _plain(403, f"Permission to {repo.full_name}.git denied to {actor.login}.")
    return actor


def _push_rules(sim: Simulator, repo: Repo, actor: Actor, policy_file: Path) -> dict[str, str]:
    """What receive-pack needs to apply GitHub's rules to a push by `actor`: the hooks, whether
    the actor may change workflows (an App only with the `workflows` permission; people may),
    and, where the repository has branch rules, the rules as they stand for this actor (written
    to `policy_file` for the update hook)."""
    allowed = actor.token is None or actor.token.permissions.get("workflows") == "write"
    env = {"GIT_CONFIG_COUNT": "1", "GIT_CONFIG_KEY_0": "core.hooksPath"}
    with sim.state.lock:
        ruled = bool(repo.protections or repo.rulesets)
        pusher = pusher_for(sim, actor, repo)
    if ruled:
        policy_file.write_text(json.dumps(hook_document(sim, repo, pusher)))
        env[POLICY_ENV] = str(policy_file)
    env["GIT_CONFIG_VALUE_0"] = str(sim.hooks.rules if ruled else sim.hooks.plain)
    env[ALLOWED_ENV] = "1" if allowed else "0"
    return env


def _run_backend(
    sim: Simulator, repo: Repo, request: Request, rest: str, body: bytes, user: str,
    rules: dict[str, str] | None = None,
) -> CgiResult:  # fmt: skip
    env = hermetic_env(
        {
            **(rules or {}),
            "GIT_PROJECT_ROOT": str(sim.repos_root),
            "GIT_HTTP_EXPORT_ALL": "1",
            "PATH_INFO": f"/{repo.owner.login}/{repo.name}.git/{rest}",
            "REQUEST_METHOD": request.method,
            "QUERY_STRING": request.url.query,
            "CONTENT_TYPE": request.headers.get("content-type", ""),
            "CONTENT_LENGTH": str(len(body)),
            "REMOTE_USER": user,
            "REMOTE_ADDR": request.client.host if request.client else "127.0.0.1",
            "GIT_PROTOCOL": request.headers.get("git-protocol", ""),
            "HTTP_CONTENT_ENCODING": request.headers.get("content-encoding", ""),
        }
    )
    proc = subprocess.run(
        [HTTP_BACKEND], input=body, capture_output=True, env=env, timeout=GIT_TIMEOUT, check=False
    )
    head, _, payload = proc.stdout.partition(b"\r\n\r\n")
    if not _:
        head, _, payload = proc.stdout.partition(b"\n\n")
    headers: dict[str, str] = {}
    status = 200
    for line in head.decode(errors="replace").splitlines():
        name, _, value = line.partition(":")
        if name.lower() == "status":
            status = int(value.strip().split()[0])
        elif name:
            headers[name.strip()] = value.strip()
    if proc.returncode != 0 and not proc.stdout:
        return CgiResult(500, {"Content-Type": "text/plain"}, proc.stderr)
    return CgiResult(status, headers, payload)


def _serve(
    sim: Simulator, repo: Repo, request: Request, rest: str, body: bytes, actor: Actor, push: bool
) -> CgiResult:
    user = actor.login or "anonymous"
    if not (push and request.method == "POST"):
        return _run_backend(sim, repo, request, rest, body, user)
    # The push and the look at what it changed happen under the repository's ref lock, so
    # that concurrent pushes and merges are each announced exactly once.
    with sim.repo_lock(repo), tempfile.TemporaryDirectory(prefix="sim-push-") as scratch:
        rules = _push_rules(sim, repo, actor, Path(scratch) / "policy.json")
        result = _run_backend(sim, repo, request, rest, body, user, rules)
        assert actor.user is not None
        sync_refs(sim, repo, actor.user)
    return result


@router.api_route("/{owner}/{name}.git/{rest:path}", methods=["GET", "POST"])
async def git_smart_http(request: Request, owner: str, name: str, rest: str) -> Response:
    sim: Simulator = request.app.state.sim
    with sim.state.lock:
        repo = sim.state.repos.get((owner.lower(), name.lower()))
    if repo is None:
        return _plain(404, "Repository not found.")
    push = rest == RECEIVE_PACK or request.query_params.get("service") == RECEIVE_PACK
    checked = _authorise(sim, request, repo, push)
    if isinstance(checked, Response):
        return checked
    body = await request.body()
    result = await anyio.to_thread.run_sync(_serve, sim, repo, request, rest, body, checked, push)
    return Response(result.body, status_code=result.status, headers=result.headers)
