"""`GET /repos/{o}/{r}/compare/{base}...{head}`: how two commits relate (ahead, behind,
identical, diverged), the commits `git log base..head` lists (oldest first) and the files
changed since their merge base."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from app.simulator.github.errors import not_found
from app.simulator.github.events import commit_json
from app.simulator.github.gitops import GitRepo
from app.simulator.github.models import Repo
from app.simulator.github.routes.deps import ActorDep, SimDep, paginate, repo_for
from app.simulator.github.routes.repos import diff_entry

router = APIRouter()
UNPAGED_COMMITS = 250  # without paging parameters GitHub lists the last 250 commits
FILES_LIMIT = 300


def _resolve(git: GitRepo, repo: Repo, rev: str) -> str:
    owner, sep, name = rev.partition(":")
    if sep:
        if owner.lower() != repo.owner.login.lower():
            raise not_found()  # forks are not simulated
        rev = name
    sha = git.resolve(rev)
    if sha is None:
        raise not_found()
    return sha


def _status(ahead: int, behind: int) -> str:
    if ahead and behind:
        return "diverged"
    if ahead:
        return "ahead"
    return "behind" if behind else "identical"


@router.get("/repos/{owner}/{repo}/compare/{basehead:path}")
def compare(
    sim: SimDep,
    actor: ActorDep,
    owner: str,
    repo: str,
    basehead: str,
    request: Request,
    response: Response,
) -> dict[str, Any]:
    found = repo_for(sim, actor, owner, repo, "read", "contents")
    base_rev, sep, head_rev = basehead.partition("...")
    if not sep or not base_rev or not head_rev:
        raise not_found()
    git = GitRepo(found.path)
    base, head = _resolve(git, found, base_rev), _resolve(git, found, head_rev)
    merge_base = git.merge_base(base, head)
    if merge_base is None:
        raise not_found()  # no common ancestor
    ahead = git.rev_list("--reverse", f"{base}..{head}")
    behind_by = len(git.rev_list(f"{head}..{base}"))
    paged = "page" in request.query_params or "per_page" in request.query_params
    listed = paginate(request, response, ahead) if paged else ahead[-UNPAGED_COMMITS:]
    first_page = int(request.query_params.get("page", "1") or 1) <= 1
    files = git.changed_files(merge_base, head)[:FILES_LIMIT] if first_page else []
    infos = {sha: git.commit_info(sha) for sha in {base, merge_base, *listed}}
    render = sim.render
    html = render.html(f"/{found.full_name}/compare/{basehead}")
    with sim.state.lock:
        return {
            "url": render.repo_api(found, f"/compare/{basehead}"),
            "html_url": html,
            "permalink_url": render.html(
                f"/{found.full_name}/compare/{found.owner.login}:{base}...{found.owner.login}:{head}"
            ),
            "diff_url": f"{html}.diff",
            "patch_url": f"{html}.patch",
            "base_commit": commit_json(render, found, infos[base]),
            "merge_base_commit": commit_json(render, found, infos[merge_base]),
            "status": _status(len(ahead), behind_by),
            "ahead_by": len(ahead),
            "behind_by": behind_by,
            "total_commits": len(ahead),
            "commits": [commit_json(render, found, infos[sha]) for sha in listed],
            "files": [diff_entry(sim, found, head, f) for f in files],
        }
