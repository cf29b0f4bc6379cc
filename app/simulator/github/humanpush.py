"""A person pushing a commit, for the control API: files written and removed on a branch as a
given user, then the ref moved as a push moves it — the branch rules judge it, and the push
event, pull request updates and CI follow (refs.sync_refs), exactly as after `git push`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from app.simulator.github.auth import Actor, role_on
from app.simulator.github.errors import GitHubError
from app.simulator.github.gitops import GitRepo
from app.simulator.github.merging import identity_of
from app.simulator.github.models import Repo, User, permission_at_least
from app.simulator.github.policy import enforce_push, user_pusher
from app.simulator.github.pushrules import Change
from app.simulator.github.refs import sync_refs

if TYPE_CHECKING:
    from app.simulator.github.core import Simulator


def push_files(
    sim: Simulator,
    repo: Repo,
    user: User,
    branch: str,
    files: Mapping[str, str],
    deletions: list[str],
    message: str,
) -> tuple[str, str]:
    """Commit on top of `branch` and push it as `user`; (before, after) shas."""
    with sim.state.lock:
        if not permission_at_least(role_on(sim.state, Actor(user=user), repo), "write"):
            raise GitHubError(403, f"Permission to {repo.full_name}.git denied to {user.login}.")
        pusher = user_pusher(sim, user, repo)
    git = GitRepo(repo.path)
    with sim.repo_lock(repo):
        old = git.resolve(f"refs/heads/{branch}")
        if old is None:
            raise GitHubError(422, f"Branch {branch} does not exist")
        new = git.commit_files(old, files, deletions, message, identity_of(user))
        enforce_push(sim, repo, pusher, Change(branch, old, new))
        if not git.update_ref(f"refs/heads/{branch}", new, old):
            raise GitHubError(409, f"{branch} moved meanwhile; try again")
        sync_refs(sim, repo, user)
    return old, new
