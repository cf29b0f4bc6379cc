"""The git references API: read, create, move (fast-forward unless forced) and delete refs.
Every change moves the ref by compare-and-swap and is announced like a push."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response

from app.simulator.github.auth import Actor
from app.simulator.github.core import Simulator
from app.simulator.github.errors import GitHubError, not_found
from app.simulator.github.gitops import ZERO_SHA, GitRepo
from app.simulator.github.models import Repo
from app.simulator.github.policy import enforce_push, pusher_for
from app.simulator.github.pushrules import Change
from app.simulator.github.refs import sync_refs
from app.simulator.github.routes.deps import ActorDep, BodyDep, SimDep, opt_bool, repo_for, req_str
from app.simulator.github.util import iso, node_id

router = APIRouter()


def ref_json(sim: Simulator, repo: Repo, ref: str, sha: str) -> dict[str, Any]:
    return {
        "ref": ref,
        "node_id": node_id("REF", abs(hash((repo.id, ref))) % 10**12),
        "url": sim.render.repo_api(repo, f"/git/{ref}"),
        "object": {
            "type": "commit",
            "sha": sha,
            "url": sim.render.repo_api(repo, f"/git/commits/{sha}"),
        },
    }


@router.get("/repos/{owner}/{repo}/git/ref/{ref:path}")
def get_ref(sim: SimDep, actor: ActorDep, owner: str, repo: str, ref: str) -> dict[str, Any]:
    found = repo_for(sim, actor, owner, repo, "read", "contents")
    full = f"refs/{ref}"
    sha = GitRepo(found.path).refs().get(full)
    if sha is None:
        raise not_found()
    return ref_json(sim, found, full, sha)


@router.get("/repos/{owner}/{repo}/git/matching-refs/{ref:path}")
def matching_refs(
    sim: SimDep, actor: ActorDep, owner: str, repo: str, ref: str
) -> list[dict[str, Any]]:
    found = repo_for(sim, actor, owner, repo, "read", "contents")
    prefix = f"refs/{ref}"
    refs = GitRepo(found.path).refs()
    return [ref_json(sim, found, r, s) for r, s in sorted(refs.items()) if r.startswith(prefix)]


def _enforce(
    sim: Simulator, actor: Actor, repo: Repo, ref: str, old: str, new: str, forced: bool
) -> None:
    """Branch protection and rulesets judge API ref changes as they judge pushes."""
    if not ref.startswith("refs/heads/"):
        return
    with sim.state.lock:
        pusher = pusher_for(sim, actor, repo)
    change = Change(ref[len("refs/heads/") :], old, new, forced=forced)
    enforce_push(sim, repo, pusher, change)


def _valid_ref(ref: str) -> bool:
    parts = ref.split("/")
    return ref.startswith("refs/") and len(parts) >= 3 and all(parts) and ".." not in ref


@router.post("/repos/{owner}/{repo}/git/refs", status_code=201)
def create_ref(
    sim: SimDep, actor: ActorDep, owner: str, repo: str, body: BodyDep
) -> dict[str, Any]:
    found = repo_for(sim, actor, owner, repo, "write", "contents")
    ref, sha = req_str(body, "ref", "Reference"), req_str(body, "sha", "Reference")
    if not _valid_ref(ref):
        raise GitHubError(422, "Reference name is invalid")
    git = GitRepo(found.path)
    with sim.repo_lock(found):
        if git.resolve(sha) != sha:
            raise GitHubError(422, "Object does not exist")
        if git.refs().get(ref) is not None:
            raise GitHubError(422, "Reference already exists")
        _enforce(sim, actor, found, ref, ZERO_SHA, sha, False)
        if not git.update_ref(ref, sha, ZERO_SHA):
            raise GitHubError(422, "Reference already exists")
        sync_refs(sim, found, actor.require_user())
    return ref_json(sim, found, ref, sha)


@router.patch("/repos/{owner}/{repo}/git/refs/{ref:path}")
def update_ref(
    sim: SimDep, actor: ActorDep, owner: str, repo: str, ref: str, body: BodyDep
) -> dict[str, Any]:
    found = repo_for(sim, actor, owner, repo, "write", "contents")
    sha = req_str(body, "sha", "Reference")
    force = bool(opt_bool(body, "force", "Reference"))
    full = f"refs/{ref}"
    git = GitRepo(found.path)
    with sim.repo_lock(found):
        current = git.refs().get(full)
        if current is None:
            raise GitHubError(422, "Reference does not exist")
        if git.resolve(sha) != sha:
            raise GitHubError(422, "Object does not exist")
        forced = not git.is_ancestor(current, sha)
        if forced and not force:
            raise GitHubError(422, "Update is not a fast forward")
        _enforce(sim, actor, found, full, current, sha, forced)
        if not git.update_ref(full, sha, current):
            raise GitHubError(422, "Reference cannot be updated")
        sync_refs(sim, found, actor.require_user())
    return ref_json(sim, found, full, sha)


@router.delete("/repos/{owner}/{repo}/git/refs/{ref:path}", status_code=204)
def delete_ref(sim: SimDep, actor: ActorDep, owner: str, repo: str, ref: str) -> Response:
    found = repo_for(sim, actor, owner, repo, "write", "contents")
    full = f"refs/{ref}"
    git = GitRepo(found.path)
    with sim.repo_lock(found):
        current = git.refs().get(full)
        if current is None:
            raise GitHubError(422, "Reference does not exist")
        _enforce(sim, actor, found, full, current, ZERO_SHA, False)
        if not git.delete_ref(full, current):
            raise GitHubError(422, "Reference does not exist")
        sync_refs(sim, found, actor.require_user())
    return Response(status_code=204)


@router.get("/repos/{owner}/{repo}/git/commits/{sha}")
def get_git_commit(sim: SimDep, actor: ActorDep, owner: str, repo: str, sha: str) -> dict[str, Any]:
    """A commit as git stores it (no diff, no GitHub users): GitHub's `Git Commit`."""
    found = repo_for(sim, actor, owner, repo, "read", "contents")
    git = GitRepo(found.path)
    if len(sha) != 40 or git.resolve(sha) != sha:
        raise not_found()
    info = git.commit_info(sha)
    with sim.state.lock:
        render = sim.render
        return {
            "sha": sha,
            "node_id": node_id("C", int(sha[:12], 16)),
            "url": render.repo_api(found, f"/git/commits/{sha}"),
            "html_url": render.html(f"/{found.full_name}/commit/{sha}"),
            "author": {
                "name": info.author.name,
                "email": info.author.email,
                "date": iso(info.author_date),
            },
            "committer": {
                "name": info.committer.name,
                "email": info.committer.email,
                "date": iso(info.committer_date),
            },
            "message": info.message,
            "tree": {"sha": info.tree, "url": render.repo_api(found, f"/git/trees/{info.tree}")},
            "parents": [
                {
                    "sha": p,
                    "url": render.repo_api(found, f"/git/commits/{p}"),
                    "html_url": render.html(f"/{found.full_name}/commit/{p}"),
                }
                for p in info.parents
            ],
            "verification": {
                "verified": False,
                "reason": "unsigned",
                "signature": None,
                "payload": None,
                "verified_at": None,
            },
        }
