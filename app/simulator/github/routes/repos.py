"""Repositories: the repository, collaborator permissions, branches, commits and contents."""

from __future__ import annotations

import base64
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request, Response

from app.simulator.github.auth import Actor, role_on
from app.simulator.github.core import Simulator
from app.simulator.github.errors import GitHubError, not_found
from app.simulator.github.events import commit_json
from app.simulator.github.gitops import GitRepo, TreeEntry
from app.simulator.github.models import Repo
from app.simulator.github.render_rules import branch_summary, protection_for
from app.simulator.github.routes.deps import ActorDep, SimDep, paginate, repo_for

router = APIRouter()
EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"
# GitHub's old permission words: maintain reads as write, triage as read.
LEGACY_PERMISSION = {
    "admin": "admin",
    "maintain": "write",
    "write": "write",
    "triage": "read",
    "read": "read",
    "none": "none",
}


@router.get("/repos/{owner}/{repo}")
def get_repo(sim: SimDep, actor: ActorDep, owner: str, repo: str) -> dict[str, Any]:
    found = repo_for(sim, actor, owner, repo)
    with sim.state.lock:
        return sim.render.repo(found, role_on(sim.state, actor, found))


@router.get("/repos/{owner}/{repo}/collaborators/{username}/permission")
def collaborator_permission(
    sim: SimDep, actor: ActorDep, owner: str, repo: str, username: str
) -> dict[str, Any]:
    found = repo_for(sim, actor, owner, repo)
    with sim.state.lock:
        user = sim.state.user(username)
        role = role_on(sim.state, Actor(user=user), found)
        collaborator = sim.render.user(user)
        collaborator["permissions"] = sim.render.permissions(role)
        collaborator["role_name"] = role
        return {"permission": LEGACY_PERMISSION[role], "role_name": role, "user": collaborator}


@router.get("/repos/{owner}/{repo}/collaborators/{username}", status_code=204)
def check_collaborator(sim: SimDep, actor: ActorDep, owner: str, repo: str, username: str) -> None:
    found = repo_for(sim, actor, owner, repo)
    with sim.state.lock:
        user = sim.state.user(username)
        if user.id != found.owner.id and user.login.lower() not in found.collaborators:
            raise not_found()


def _commit_with_files(sim: Simulator, repo: Repo, git: GitRepo, sha: str) -> dict[str, Any]:
    info = git.commit_info(sha)
    files = git.changed_files(info.parents[0] if info.parents else EMPTY_TREE, sha)
    with sim.state.lock:
        body = commit_json(sim.render, repo, info)
        body["files"] = [diff_entry(sim, repo, sha, f) for f in files]
    body["stats"] = {
        "additions": sum(f.additions for f in files),
        "deletions": sum(f.deletions for f in files),
        "total": sum(f.additions + f.deletions for f in files),
    }
    return body


def diff_entry(sim: Simulator, repo: Repo, ref: str, change: Any) -> dict[str, Any]:
    path = quote(change.filename)
    return {
        "sha": change.blob_sha,
        "filename": change.filename,
        "status": change.status,
        "additions": change.additions,
        "deletions": change.deletions,
        "changes": change.additions + change.deletions,
        "blob_url": sim.render.html(f"/{repo.full_name}/blob/{ref}/{path}"),
        "raw_url": sim.render.html(f"/{repo.full_name}/raw/{ref}/{path}"),
        "contents_url": sim.render.repo_api(repo, f"/contents/{path}?ref={ref}"),
    }


@router.get("/repos/{owner}/{repo}/commits/{ref:path}")
def get_commit(sim: SimDep, actor: ActorDep, owner: str, repo: str, ref: str) -> dict[str, Any]:
    found = repo_for(sim, actor, owner, repo, "read", "contents")
    git = GitRepo(found.path)
    sha = git.resolve(ref)
    if sha is None:
        raise GitHubError(422, f"No commit found for SHA: {ref}")
    return _commit_with_files(sim, found, git, sha)


@router.get("/repos/{owner}/{repo}/commits")
def list_commits(
    sim: SimDep, actor: ActorDep, owner: str, repo: str, request: Request, response: Response
) -> list[dict[str, Any]]:
    found = repo_for(sim, actor, owner, repo, "read", "contents")
    git = GitRepo(found.path)
    start = git.resolve(request.query_params.get("sha") or found.default_branch)
    if start is None:
        raise not_found()
    shas = paginate(request, response, git.rev_list("--max-count=1000", start))
    infos = [git.commit_info(s) for s in shas]
    with sim.state.lock:
        return [commit_json(sim.render, found, info) for info in infos]


def _short_branch(sim: Simulator, repo: Repo, name: str, sha: str) -> dict[str, Any]:
    with sim.state.lock:
        protected = protection_for(repo, name) is not None
    return {
        "name": name,
        "commit": {"sha": sha, "url": sim.render.repo_api(repo, f"/commits/{sha}")},
        "protected": protected,
    }


@router.get("/repos/{owner}/{repo}/branches")
def list_branches(
    sim: SimDep, actor: ActorDep, owner: str, repo: str, request: Request, response: Response
) -> list[dict[str, Any]]:
    found = repo_for(sim, actor, owner, repo, "read", "contents")
    refs = GitRepo(found.path).refs()
    heads = sorted(
        (r[len("refs/heads/") :], s) for r, s in refs.items() if r.startswith("refs/heads/")
    )
    listed = [_short_branch(sim, found, n, s) for n, s in heads]
    wanted = request.query_params.get("protected")
    if wanted in ("true", "false"):
        listed = [b for b in listed if b["protected"] == (wanted == "true")]
    return paginate(request, response, listed)


@router.get("/repos/{owner}/{repo}/branches/{branch:path}")
def get_branch(sim: SimDep, actor: ActorDep, owner: str, repo: str, branch: str) -> dict[str, Any]:
    found = repo_for(sim, actor, owner, repo, "read", "contents")
    git = GitRepo(found.path)
    sha = git.resolve(f"refs/heads/{branch}")
    if sha is None:
        raise GitHubError(404, "Branch not found")
    info = git.commit_info(sha)
    api = sim.render.repo_api(found, f"/branches/{quote(branch)}")
    with sim.state.lock:
        commit = commit_json(sim.render, found, info)
        protection = branch_summary(found, branch)
    return {
        "name": branch,
        "commit": commit,
        "_links": {"self": api, "html": sim.render.html(f"/{found.full_name}/tree/{branch}")},
        "protected": protection["enabled"],
        "protection": protection,
        "protection_url": f"{api}/protection",
    }


def _content_entry(sim: Simulator, repo: Repo, ref: str, entry: TreeEntry) -> dict[str, Any]:
    kind = {"blob": "file", "tree": "dir", "commit": "submodule"}.get(entry.type, "file")
    if entry.type == "blob" and entry.mode == "120000":
        kind = "symlink"
    path = quote(entry.path)
    self_url = sim.render.repo_api(repo, f"/contents/{path}?ref={quote(ref)}")
    git_url = sim.render.repo_api(repo, f"/git/{'trees' if kind == 'dir' else 'blobs'}/{entry.sha}")
    html_url = sim.render.html(
        f"/{repo.full_name}/{'tree' if kind == 'dir' else 'blob'}/{ref}/{path}"
    )
    return {
        "type": kind,
        "size": entry.size,
        "name": entry.path.rsplit("/", 1)[-1],
        "path": entry.path,
        "sha": entry.sha,
        "url": self_url,
        "git_url": git_url,
        "html_url": html_url,
        "download_url": sim.render.html(f"/{repo.full_name}/raw/{ref}/{path}")
        if kind == "file"
        else None,
        "_links": {"self": self_url, "git": git_url, "html": html_url},
    }


@router.get("/repos/{owner}/{repo}/contents")
@router.get("/repos/{owner}/{repo}/contents/{path:path}")
def get_contents(
    sim: SimDep, actor: ActorDep, owner: str, repo: str, request: Request, path: str = ""
) -> Any:
    found = repo_for(sim, actor, owner, repo, "read", "contents")
    git = GitRepo(found.path)
    ref = request.query_params.get("ref") or found.default_branch
    sha = git.resolve(ref)
    if sha is None:
        raise GitHubError(404, f"No commit found for the ref {ref}")
    entry = git.tree_entry(sha, path)
    if entry is None:
        raise not_found()
    if entry.type == "tree":
        return [_content_entry(sim, found, ref, e) for e in git.list_tree(entry.sha, path)]
    body = _content_entry(sim, found, ref, entry)
    if entry.type == "blob":
        encoded = base64.b64encode(git.read_blob(entry.sha)).decode()
        # GitHub wraps the base64 text at 60 characters.
        body["content"] = "\n".join(encoded[i : i + 60] for i in range(0, len(encoded), 60)) + "\n"
        body["encoding"] = "base64"
    return body
