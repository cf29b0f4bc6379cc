"""`swarm doctor`: what this machine and these settings are missing, one line each."""

from __future__ import annotations

import asyncio
import os
import shutil
from dataclasses import dataclass

import sqlalchemy as sa

from app.github.client import GitHubApp
from app.llm.factory import make_model
from app.roles.judge import judge_model_for
from app.sandbox.bubblewrap import check_bubblewrap
from app.sandbox.settings import SandboxSettings
from app.sandbox.users import running_as_root
from app.settings import Settings, SettingsError, load_settings
from app.store import Store


@dataclass(frozen=True)
class Check:
    what: str
    ok: bool
    detail: str
    warning: bool = False  # ok, but the operator should know


def run_checks() -> list[Check]:
    checks = []
    try:
        settings: Settings | None = load_settings()
    except SettingsError as exc:
        settings = None
        checks.append(Check("settings", False, str(exc)))
    if settings is not None:
        checks.append(Check("settings", True, f"app {settings.github_app_id}"))
        checks += _model_checks(settings)
        checks.append(_database_check(settings))
        checks.append(_github_check(settings))
    checks += _sandbox_checks(settings or SandboxSettings())
    for tool in ("git", "rg"):
        path = shutil.which(tool)
        checks.append(Check(tool, path is not None, path or "not installed"))
    return checks


def _sandbox_checks(settings: SandboxSettings) -> list[Check]:
    problem = check_bubblewrap()
    limits = settings.sandbox_limits().describe()
    checks = [
        Check("sandbox", problem is None, problem or f"bubblewrap isolates commands ({limits})")
    ]
    if problem is not None and settings.allow_unsandboxed:
        checks.append(
            Check("sandbox opt-out", True, "SWARM_ALLOW_UNSANDBOXED: commands NOT isolated", True)
        )
    if running_as_root():
        checks.append(
            Check(
                "user",
                True,
                "Swarm runs as root: agents' commands drop to a uid of their own, but run Swarm "
                "as an unprivileged user (a mistake in the sandbox then costs far less)",
                warning=True,
            )
        )
    return checks


def _model_checks(settings: Settings) -> list[Check]:
    """Each role's model as it will run: the judge's is of another family than the worker's
    (`judge_model_for`), so that is the one whose key must be there."""
    checks = []
    judge = judge_model_for(settings.worker_model, None, settings.judge_model)
    specs = {"planner": settings.planner_model, "worker": settings.worker_model, "judge": judge}
    for role, spec in specs.items():
        try:
            make_model(spec)
        except ValueError as exc:
            checks.append(Check(f"{role} model", False, str(exc)))
            continue
        # The Anthropic SDK only finds out at the first call that it has no key.
        if spec.startswith("anthropic/") and not os.environ.get("ANTHROPIC_API_KEY"):
            checks.append(Check(f"{role} model", False, f"{spec}: ANTHROPIC_API_KEY is not set"))
        else:
            checks.append(Check(f"{role} model", True, spec))
    return checks


def _database_check(settings: Settings) -> Check:
    url = settings.effective_database_url
    store = Store(url)
    try:
        with store.engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except Exception as exc:
        return Check("database", False, f"{url.split('@')[-1]}: {exc}")
    finally:
        store.engine.dispose()
    return Check("database", True, url.split("@")[-1])


def _github_check(settings: Settings) -> Check:
    github = GitHubApp(settings.github_app_id, settings.private_key_pem, settings.github_api_url)
    try:
        identity = asyncio.run(github.identity())
    except Exception as exc:
        return Check("GitHub App", False, f"{settings.github_api_url}: {exc}")
    return Check("GitHub App", True, f"{identity.bot_login} at {settings.github_api_url}")
