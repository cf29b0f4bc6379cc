"""Shared fixtures: an App key pair, settings for a fresh database, the swarm on a real port."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.demo.stack import generate_app_key
from app.settings import Settings, load_settings

WEBHOOK_SECRET = "test-webhook-secret"
POSTGRES_ADMIN_URL = os.environ.get(
    "SWARM_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test"
)


WITHOUT_SANDBOX = "SWARM_TESTS_WITHOUT_SANDBOX"


def pytest_sessionstart(session: pytest.Session) -> None:
    """No silent skips of what matters most: where bubblewrap cannot run, the whole run stops
    and says so, unless told to go on without the sandbox (its tests are then skipped)."""
    from app.sandbox import check_bubblewrap
    from tests.socket_guard import install

    install()  # from here on, a socket connects to this machine or fails
    problem = check_bubblewrap()
    if problem is None:
        return
    if os.environ.get(WITHOUT_SANDBOX) != "1":
        pytest.exit(
            f"bubblewrap cannot run here, so the sandbox tests cannot either: {problem}. "
            f"Install bubblewrap (scripts/setup does), or set {WITHOUT_SANDBOX}=1 to run the "
            "rest with the sandbox tests skipped.",
            returncode=3,
        )
    os.environ["SWARM_ALLOW_UNSANDBOXED"] = "1"  # the other tests then use plain subprocesses


@pytest.fixture(scope="session")
def app_keys() -> tuple[str, str]:
    """(private PEM, public PEM) of a throwaway GitHub App key."""
    return generate_app_key()


def _postgres_database() -> Iterator[str]:
    psycopg = pytest.importorskip("psycopg")
    try:
        admin = psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        pytest.skip(f"PostgreSQL not reachable at {POSTGRES_ADMIN_URL}: {exc}")
    name = f"swarm_test_{uuid.uuid4().hex[:10]}"
    admin.execute(f'CREATE DATABASE "{name}"')
    base = POSTGRES_ADMIN_URL.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database: a SQLite file, and a new PostgreSQL database where reachable."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'swarm.sqlite'}"
    else:
        yield from _postgres_database()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'swarm.sqlite'}"


def make_settings(
    tmp_path: Path,
    private_key: str,
    database_url: str,
    api_url: str = "http://127.0.0.1:9",
    **extra: object,
) -> Settings:
    return load_settings(
        GITHUB_APP_ID=1,
        GITHUB_APP_PRIVATE_KEY=private_key,
        GITHUB_WEBHOOK_SECRET=WEBHOOK_SECRET,
        GITHUB_API_URL=api_url,
        DATABASE_URL=database_url,
        SWARM_DATA_DIR=tmp_path / "data",
        SWARM_QUEUE_POLL_SECONDS=0.05,
        **extra,
    )
