"""The App's permissions: those its manifest (app.yml) declares, enforced on installation tokens,
and changeable through the control API as an owner would change them."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from githubkit.exception import RequestFailed

from app.simulator.github.state import APP_PERMISSIONS
from tests.simulator.conftest import World
from tests.simulator.support import app_client

MANIFEST = Path(__file__).resolve().parents[2] / "app.yml"


def test_the_simulated_app_asks_for_what_app_yml_declares(world: World) -> None:
    declared = yaml.safe_load(MANIFEST.read_text())["default_permissions"]
    assert declared == APP_PERMISSIONS
    app_gh = app_client(world.sim.url, world.private_key)
    assert world.repo.installation_id is not None
    installation = app_gh.rest.apps.get_installation(world.repo.installation_id)
    assert installation.json()["permissions"] == declared


def test_statuses_need_write_and_new_permissions_reach_new_tokens(world: World) -> None:
    sha = world.owner_gh.rest.repos.get_branch("octo", "demo", "main").parsed_data.commit.sha
    reader = world.bot_gh()
    with pytest.raises(RequestFailed) as refused:
        reader.rest.repos.create_commit_status("octo", "demo", sha, state="success", context="x")
    assert refused.value.response.status_code == 403
    assert refused.value.response.json()["message"] == "Resource not accessible by integration"
    combined = reader.rest.repos.get_combined_status_for_ref("octo", "demo", sha).parsed_data
    assert combined.total_count == 0  # reading is allowed

    granted = world.control.set_app_permissions(statuses="write", workflows="write")
    assert (granted["statuses"], granted["workflows"]) == ("write", "write")
    writer = world.bot_gh()
    made = writer.rest.repos.create_commit_status("octo", "demo", sha, state="success", context="x")
    assert made.status_code == 201
    with pytest.raises(RequestFailed):  # a token keeps what it was minted with
        reader.rest.repos.create_commit_status("octo", "demo", sha, state="success", context="y")

    app_gh = app_client(world.sim.url, world.private_key)
    assert world.repo.installation_id is not None
    token = app_gh.rest.apps.create_installation_access_token(
        world.repo.installation_id
    ).parsed_data.token
    work = world.clone("bot-workflows", token=token)
    work.branch("swarm/ci")
    work.commit({".github/workflows/ci.yml": "on: push\n"}, "CI")
    assert work.push("swarm/ci", check=False).returncode == 0  # `workflows: write` now held
