"""Fixtures: one simulator per module, a fresh repository per test, and the swarm's own client
(`GitHubApp`) pointed at the simulator over real HTTP.

The test modules run on one event loop per module (`pytestmark` in each), so that the App's
installation client and the owner's client each keep one connection for the whole module:
outside a client's context githubkit builds a new HTTP client, TLS context included, for every
request, which would be most of the run time. What is sent is the same; `test_client` also
drives fresh Apps without any context, exactly as the service does.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from githubkit import GitHub

from app.domain.refs import RepoRef
from app.github.client import GitHubApp
from app.simulator.github.control import SimRepo, SimulatorControl, SimUser
from app.simulator.github.server import RunningSimulator, SimulatorConfig, start_simulator
from tests.simulator.support import Worktree, user_client, with_token

APP_ID = 1
# Not the default "swarm": identity() must read the slug from GitHub, not fall back to it.
APP_SLUG = "ops-bot"
OWNER = "octo"


@dataclass
class Hub:
    """The simulator with its owner account `octo`, shared by every test of a module."""

    sim: RunningSimulator
    control: SimulatorControl
    owner: SimUser
    owner_gh: GitHub[Any]
    private_key: str
    installation_id: int
    app: GitHubApp  # the module's App, its installation client kept open

    @property
    def url(self) -> str:
        return self.sim.url

    def fresh_app(self) -> GitHubApp:
        """A new App client as the service builds it: no token yet, no open connection."""
        return GitHubApp(APP_ID, self.private_key, self.url)

    def last_seq(self) -> int:
        logged = self.control.requests()
        return logged[-1]["seq"] if logged else 0

    def requests(self, since: int, path: str | None = None) -> list[dict[str, Any]]:
        """Logged requests after `since`, optionally only those whose path matches `path`."""
        logged = self.control.requests(since=since)
        return [r for r in logged if path is None or re.search(path, r["path"])]


@pytest.fixture(scope="module")
def _simulator(
    tmp_path_factory: pytest.TempPathFactory, app_keys: tuple[str, str]
) -> Iterator[tuple[RunningSimulator, SimulatorControl]]:
    root = tmp_path_factory.mktemp("github-ops")
    config = SimulatorConfig(
        data_dir=root / "github", app_id=APP_ID, app_slug=APP_SLUG, app_public_key_pem=app_keys[1]
    )
    with start_simulator(config) as sim, SimulatorControl(sim.url) as control:
        yield sim, control


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def hub(
    _simulator: tuple[RunningSimulator, SimulatorControl], app_keys: tuple[str, str]
) -> AsyncIterator[Hub]:
    sim, control = _simulator
    owner = control.create_user(OWNER)
    # The App is installed on `octo` with its first repository; later ones join the same
    # installation.
    first = control.create_repo(OWNER, "first", install=True)
    assert first.installation_id is not None
    app = GitHubApp(APP_ID, app_keys[0], sim.url)
    owner_gh = user_client(sim.url, owner.token)
    with owner_gh:
        async with app.installation(first.installation_id):
            yield Hub(sim, control, owner, owner_gh, app_keys[0], first.installation_id, app)


@dataclass
class Repo:
    """One repository of `octo` with the App installed, and the clients that act on it."""

    hub: Hub
    sim_repo: SimRepo
    tmp: Path
    _work: Worktree | None = None

    @property
    def ref(self) -> RepoRef:
        return RepoRef.parse(self.sim_repo.full_name)

    @property
    def app(self) -> GitHubApp:
        return self.hub.app

    @property
    def installation_id(self) -> int:
        assert self.sim_repo.installation_id == self.hub.installation_id
        return self.hub.installation_id

    @property
    def gh(self) -> GitHub[Any]:
        """The App's installation client, exactly as the flows get it."""
        return self.app.installation(self.installation_id)

    @property
    def owner_gh(self) -> GitHub[Any]:
        """A client acting as the repository's owner, `octo`."""
        return self.hub.owner_gh

    def clone(self, name: str = "work") -> Worktree:
        url = with_token(self.sim_repo.clone_url, self.hub.owner.token)
        return Worktree.clone(url, self.tmp / name)

    def push_branch(self, branch: str, files: dict[str, str], message: str) -> str:
        """Commit `files` on `branch` (created off the default branch unless it exists
        remotely) in the owner's one clone, push it; return the new head's sha."""
        if self._work is None:
            self._work = self.clone()
        work = self._work
        work.git("fetch", "--quiet", "origin")
        remote = work.git("rev-parse", "--verify", "--quiet", f"origin/{branch}", check=False)
        start = (
            f"origin/{branch}"
            if remote.returncode == 0
            else f"origin/{self.sim_repo.default_branch}"
        )
        work.branch(branch, start)
        sha = work.commit(files, message)
        work.push(branch)
        return sha


@pytest.fixture
def repo(hub: Hub, request: pytest.FixtureRequest, tmp_path: Path) -> Repo:
    source = tmp_path / "source"
    (source / "src").mkdir(parents=True)
    (source / "README.md").write_text("# demo\n")
    (source / "src" / "calc.py").write_text("def add(a, b):\n    return a + b\n")
    name = re.sub(r"[^A-Za-z0-9_.-]+", "-", request.node.name)[:80]
    return Repo(hub, hub.control.create_repo(OWNER, name, source_dir=source), tmp_path)
