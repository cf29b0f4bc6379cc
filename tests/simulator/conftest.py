"""Fixtures: a simulator on a real port delivering to a real receiver, and a seeded repository."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import pytest
from githubkit import GitHub

from app.simulator.github.control import SimRepo, SimulatorControl, SimUser
from app.simulator.github.server import RunningSimulator, SimulatorConfig, start_simulator
from tests.simulator.support import (
    WEBHOOK_SECRET,
    Receiver,
    Worktree,
    installation_client,
    user_client,
    with_token,
)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    running = Receiver().start()
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def sim(
    tmp_path: Path, app_keys: tuple[str, str], receiver: Receiver
) -> Iterator[RunningSimulator]:
    config = SimulatorConfig(
        data_dir=tmp_path / "github",
        app_public_key_pem=app_keys[1],
        webhook_url=receiver.url,
        webhook_secret=WEBHOOK_SECRET,
    )
    with start_simulator(config) as running:
        yield running


@pytest.fixture
def control(sim: RunningSimulator) -> Iterator[SimulatorControl]:
    with SimulatorControl(sim.url) as client:
        yield client


@pytest.fixture
def source_dir(tmp_path: Path) -> Path:
    root = tmp_path / "source"
    (root / "src").mkdir(parents=True)
    (root / "README.md").write_text("# demo\n")
    (root / "src" / "calc.py").write_text("def add(a, b):\n    return a + b\n")
    return root


@dataclass
class World:
    """A user `octo` owning `octo/demo` (public, App installed) and clients for both sides."""

    sim: RunningSimulator
    control: SimulatorControl
    owner: SimUser
    repo: SimRepo
    private_key: str
    tmp: Path

    @cached_property
    def owner_gh(self) -> GitHub[Any]:
        """A client acting as the owner (kept: githubkit's namespaces need a live client)."""
        return user_client(self.sim.url, self.owner.token)

    def bot_gh(self, **narrowing: Any) -> GitHub[Any]:
        """A new client acting as the App's installation; keep it in a variable while used."""
        assert self.repo.installation_id is not None
        return installation_client(
            self.sim.url, self.private_key, self.repo.installation_id, **narrowing
        )

    def clone(self, name: str = "work", token: str | None = None) -> Worktree:
        url = with_token(self.repo.clone_url, token or self.owner.token)
        return Worktree.clone(url, self.tmp / name)


@pytest.fixture
def world(
    sim: RunningSimulator,
    control: SimulatorControl,
    source_dir: Path,
    app_keys: tuple[str, str],
    tmp_path: Path,
) -> World:
    owner = control.create_user("octo")
    repo = control.create_repo("octo", "demo", source_dir=source_dir)
    return World(sim, control, owner, repo, app_keys[0], tmp_path)
