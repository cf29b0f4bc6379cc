"""The git references API: read, create, move (fast-forward unless forced) and delete refs.
Every change moves the ref by compare-and-swap and is announced like a push."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response

from app.simulator.github.core import Simulator
from app.simulator.github.errors import GitHubError, not_found
from app.simulator.github.gitops import ZERO_SHA, GitRepo
from app.simulator.github.models import Repo
from app.simulator.github.refs import sync_refs
from app.simulator.github.routes.deps import ActorDep, BodyDep, SimDep, opt_bool, repo_for, req_str
from app.simulator.github.util import node_id

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
        if not force and not git.is_ancestor(current, sha):
            raise GitHubError(422, "Update is not a fast forward")
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
        if current is None or not git.delete_ref(full, current):
            raise GitHubError(422, "Reference does not exist")
        sync_refs(sim, found, actor.require_user())
    return Response(status_code=204)
