"""GitHub App authentication against the simulator, through githubkit's own auth strategies."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from githubkit.exception import RequestFailed

from tests.simulator.conftest import World
from tests.simulator.support import app_client, user_client


def test_installation_token_flow_end_to_end(world: World) -> None:
    app_gh = app_client(world.sim.url, world.private_key)
    app = app_gh.rest.apps.get_authenticated().parsed_data
    assert app.slug == "swarm" and app.id == 1
    installation = app_gh.rest.apps.get_repo_installation("octo", "demo").parsed_data
    assert installation.id == world.repo.installation_id
    assert installation.account is not None and installation.account.login == "octo"
    listed = app_gh.rest.apps.list_installations().parsed_data
    assert [i.id for i in listed] == [installation.id]
    assert app_gh.rest.apps.get_user_installation("octo").parsed_data.id == installation.id
    assert app_gh.rest.apps.get_installation(installation.id).parsed_data.app_slug == "swarm"

    bot = world.bot_gh()
    repo = bot.rest.repos.get("octo", "demo").parsed_data
    assert repo.permissions is not None and repo.permissions.push
    comment = bot.rest.issues.create("octo", "demo", title="from the bot").parsed_data
    assert comment.user is not None and comment.user.login == "swarm[bot]"
    assert comment.user.type == "Bot"

    requests = world.control.requests()
    token_calls = [r for r in requests if r["path"].endswith("/access_tokens")]
    assert [(r["method"], r["status"], r["actor"]) for r in token_calls] == [("POST", 201, "app")]
    assert requests[-1]["actor"] == "swarm[bot]"


def test_token_narrowed_to_one_repository(world: World) -> None:
    world.control.create_repo("octo", "private-other", private=True)
    narrowed = world.bot_gh(repositories=["demo"])
    assert narrowed.rest.repos.get("octo", "demo").parsed_data.name == "demo"
    with pytest.raises(RequestFailed) as missing:
        narrowed.rest.repos.get("octo", "private-other")
    assert missing.value.response.status_code == 404
    listed = narrowed.rest.apps.list_repos_accessible_to_installation().parsed_data
    assert [r.full_name for r in listed.repositories] == ["octo/demo"]
    broad = world.bot_gh()
    assert broad.rest.repos.get("octo", "private-other").parsed_data.private is True


def _jwt(private_key: str, *, issued: datetime, lifetime: timedelta, iss: str = "1") -> str:
    return jwt.encode({"iss": iss, "iat": issued, "exp": issued + lifetime}, private_key, "RS256")


def test_bad_app_jwts_are_refused(world: World) -> None:
    now = datetime.now(UTC)
    other = (
        rsa.generate_private_key(public_exponent=65537, key_size=2048)
        .private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        .decode()
    )
    cases = {
        "expired": _jwt(
            world.private_key, issued=now - timedelta(minutes=30), lifetime=timedelta(minutes=10)
        ),
        "wrong key": _jwt(other, issued=now, lifetime=timedelta(minutes=5)),
        "wrong app": _jwt(world.private_key, issued=now, lifetime=timedelta(minutes=5), iss="2"),
    }
    for name, token in cases.items():
        answer = httpx.get(f"{world.sim.url}/app", headers={"Authorization": f"Bearer {token}"})
        assert answer.status_code == 401, name
        assert set(answer.json()) >= {"message", "documentation_url"}
    good = _jwt(world.private_key, issued=now, lifetime=timedelta(minutes=5))
    assert httpx.get(f"{world.sim.url}/app", headers={"Authorization": f"Bearer {good}"}).is_success


def test_credentials_schemes_and_bad_credentials(world: World) -> None:
    url = f"{world.sim.url}/repos/octo/demo/issues"
    body = {"title": "hello"}
    for scheme in ("token", "Bearer"):
        answer = httpx.post(
            url, json=body, headers={"Authorization": f"{scheme} {world.owner.token}"}
        )
        assert answer.status_code == 201
        assert answer.json()["user"]["login"] == "octo"
    bad = httpx.post(url, json=body, headers={"Authorization": "token ghp_not-a-real-token"})
    assert bad.status_code == 401
    assert bad.json()["message"] == "Bad credentials"
    anonymous = httpx.post(url, json=body)
    assert anonymous.status_code == 401


def test_permissions_of_users(world: World) -> None:
    reader = world.control.create_user("reader")
    writer = world.control.create_user("writer")
    world.control.set_permission("octo", "demo", "writer", "maintain")
    octo = world.owner_gh
    levels = {
        login: octo.rest.repos.get_collaborator_permission_level("octo", "demo", login).parsed_data
        for login in ("octo", "reader", "writer")
    }
    assert (levels["octo"].permission, levels["octo"].role_name) == ("admin", "admin")
    assert (levels["writer"].permission, levels["writer"].role_name) == ("write", "maintain")
    assert (levels["reader"].permission, levels["reader"].role_name) == ("read", "read")

    reader_gh = user_client(world.sim.url, reader.token)
    issue = reader_gh.rest.issues.create("octo", "demo", title="by a reader", labels=["bug"])
    assert issue.parsed_data.labels == []  # labels from someone who cannot triage are dropped
    with pytest.raises(RequestFailed) as refused:
        reader_gh.rest.issues.create_label("octo", "demo", name="nope", color="ffffff")
    assert refused.value.response.status_code == 403
    writer_gh = user_client(world.sim.url, writer.token)
    assert writer_gh.rest.issues.create_label("octo", "demo", name="ok", color="ffffff").parsed_data

    world.control.create_repo("octo", "secret", private=True)
    with pytest.raises(RequestFailed) as hidden:
        reader_gh.rest.repos.get("octo", "secret")
    assert hidden.value.response.status_code == 404
