"""Creating users, repositories and installations: what a person does on github.com by hand,
done here through the control API."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from app.simulator.github.errors import GitHubError
from app.simulator.github.gitops import GitRepo, Identity
from app.simulator.github.models import PERMISSION_ORDER, Installation, Label, Repo, User
from app.simulator.github.state import APP_EVENTS
from app.simulator.github.util import new_token, utcnow

if TYPE_CHECKING:
    from app.simulator.github.core import Simulator

# The labels every new GitHub repository starts with.
DEFAULT_LABELS = {
    "bug": ("d73a4a", "Something isn't working"),
    "documentation": ("0075ca", "Improvements or additions to documentation"),
    "duplicate": ("cfd3d7", "This issue or pull request already exists"),
    "enhancement": ("a2eeef", "New feature or request"),
    "good first issue": ("7057ff", "Good for newcomers"),
    "help wanted": ("008672", "Extra attention is needed"),
    "invalid": ("e4e669", "This doesn't seem right"),
    "question": ("d876e3", "Further information is requested"),
    "wontfix": ("ffffff", "This will not be worked on"),
}


def create_user(sim: Simulator, login: str, type_: str = "User") -> tuple[User, str]:
    """A new account and a personal access token that acts as it."""
    if not login or "/" in login:
        raise GitHubError(422, "Invalid login")
    with sim.state.lock:
        user = sim.state.add_user(login, type_)
        token = new_token("ghp")
        sim.state.user_tokens[token] = user
    return user, token


@dataclass(frozen=True)
class RepoSpec:
    owner: str
    name: str
    source_dir: Path | None = None
    default_branch: str = "main"
    ci_command: str | None = None
    ci_timeout: float | None = None
    ci_branches: list[str] | None = None
    private: bool = False
    install: bool = True
    description: str | None = None


def create_repo(sim: Simulator, spec: RepoSpec) -> Repo:
    state = sim.state
    with state.lock:
        if (spec.owner.lower(), spec.name.lower()) in state.repos:
            raise GitHubError(
                422,
                "Repository creation failed.",
                errors=[
                    {
                        "resource": "Repository",
                        "code": "custom",
                        "field": "name",
                        "message": "name already exists on this account",
                    }
                ],
            )
        owner = state.users.get(spec.owner.lower()) or state.add_user(spec.owner)
    path = sim.repos_root / owner.login / f"{spec.name}.git"
    if path.exists():
        raise GitHubError(422, f"{path} already exists on disk")
    git = GitRepo.init_bare(path, spec.default_branch)
    author = Identity(owner.login, f"{owner.id}+{owner.login}@users.noreply.github.com")
    if spec.source_dir is not None:
        git.import_directory(spec.source_dir, spec.default_branch, "Initial commit", author)
    else:
        tree = (
            git.run("hash-object", "-t", "tree", "--stdin", "-w", input=b"").stdout.decode().strip()
        )
        sha = git.commit_tree(tree, [], "Initial commit\n", author, author)
        git.update_ref(f"refs/heads/{spec.default_branch}", sha, "0" * 40)
    now = utcnow()
    with state.lock:
        repo = Repo(
            id=state.next_id(),
            owner=owner,
            name=spec.name,
            path=path,
            default_branch=spec.default_branch,
            created_at=now,
            updated_at=now,
            pushed_at=now,
            private=spec.private,
            description=spec.description,
            ci_command=spec.ci_command,
            ci_timeout=spec.ci_timeout,
            ci_branches=spec.ci_branches,
            known_refs=git.refs(),
        )
        for name, (color, description) in DEFAULT_LABELS.items():
            repo.labels[name] = Label(state.next_id(), name, color, description, default=True)
        state.repos[(owner.login.lower(), spec.name.lower())] = repo
        if spec.install:
            install_repo(sim, repo)
    return repo


def install_repo(sim: Simulator, repo: Repo) -> Installation:
    """Install the App on the repository's owner (once) and grant it this repository."""
    state = sim.state
    with state.lock:
        inst = state.installation_for(repo.owner)
        if inst is None:
            now = utcnow()
            inst = Installation(
                id=state.next_id(),
                account=repo.owner,
                permissions=dict(state.app.permissions),
                events=list(APP_EVENTS),
                created_at=now,
                updated_at=now,
                repo_ids={repo.id},
            )
            state.installations[inst.id] = inst
            sim.events.installation_created(inst, [repo], repo.owner)
        elif repo.id not in inst.repo_ids:
            inst.repo_ids.add(repo.id)
            inst.updated_at = utcnow()
            sim.events.installation_repositories_added(inst, [repo], repo.owner)
        return inst


def set_collaborator(sim: Simulator, repo: Repo, login: str, permission: str) -> None:
    if permission == "push":
        permission = "write"
    if permission == "pull":
        permission = "read"
    if permission not in PERMISSION_ORDER:
        raise GitHubError(422, f"Unknown permission {permission}")
    with sim.state.lock:
        user = sim.state.user(login)
        if permission == "none":
            repo.collaborators.pop(user.login.lower(), None)
        else:
            repo.collaborators[user.login.lower()] = permission
