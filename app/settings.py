"""Process settings, read once from the environment (and `.env`) when the app starts.

A missing or malformed setting becomes one `SettingsError` line that names the variable;
the CLI prints it and exits, so a user never meets a traceback for a typo in `.env`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import SettingsConfigDict

from app.sandbox.settings import SandboxSettings

DEFAULT_DATA_DIR = Path(".swarm")


class SettingsError(Exception):
    """A setting is missing or malformed; the message names the environment variable."""


class Settings(SandboxSettings):
    """Everything `swarm serve` and `swarm worker` read, the sandbox's settings included."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", populate_by_name=True)

    # The GitHub App's identity (from its settings page on GitHub).
    github_app_id: int = Field(alias="GITHUB_APP_ID")
    github_app_private_key: SecretStr = Field(alias="GITHUB_APP_PRIVATE_KEY")
    github_webhook_secret: SecretStr = Field(alias="GITHUB_WEBHOOK_SECRET")
    github_api_url: str = Field("https://api.github.com", alias="GITHUB_API_URL")

    # Durable state: a SQLite file by default, PostgreSQL to scale out.
    data_dir: Path = Field(DEFAULT_DATA_DIR, alias="SWARM_DATA_DIR")
    database_url: str = Field("", alias="DATABASE_URL")

    # Models per role, `provider/model`.
    planner_model: str = Field("openai/gpt-5", alias="SWARM_PLANNER_MODEL")
    worker_model: str = Field("openai/gpt-5", alias="SWARM_WORKER_MODEL")
    judge_model: str = Field("anthropic/claude-sonnet-4-5", alias="SWARM_JUDGE_MODEL")

    # Capacity and pacing.
    max_agents: int = Field(4, ge=1, alias="SWARM_MAX_AGENTS")  # per worker process
    max_agents_per_installation: int = Field(16, ge=1, alias="SWARM_MAX_AGENTS_PER_INSTALLATION")
    queue_poll_seconds: float = Field(1.0, gt=0, alias="SWARM_QUEUE_POLL_SECONDS")
    # Moves within this window rewrite a goal's status comment once.
    status_debounce_seconds: float = Field(2.0, ge=0, alias="SWARM_STATUS_DEBOUNCE_SECONDS")
    # The merge gate re-reads a candidate's checks this often even when no webhook came (a
    # lost delivery), and what people said on a held pull request less often.
    gate_poll_seconds: float = Field(60.0, gt=0, alias="SWARM_GATE_POLL_SECONDS")
    gate_people_poll_seconds: float = Field(600.0, gt=0, alias="SWARM_GATE_PEOPLE_POLL_SECONDS")
    # Merge gates running at once per repository (each keeps a candidate in CI); 1 lands one
    # pull request at a time, as a merge lock would.
    gate_concurrency: int = Field(16, ge=1, alias="SWARM_GATE_CONCURRENCY")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field("INFO", alias="SWARM_LOG_LEVEL")
    log_format: Literal["text", "json"] = Field("text", alias="SWARM_LOG_FORMAT")

    # How often a working agent's worktree is pushed as a checkpoint commit.
    checkpoint_seconds: float = Field(120.0, ge=0, alias="SWARM_CHECKPOINT_SECONDS")  # 0: each step
    # An external agent CLI (`worker_command` in .github/swarm.yml) gets no network and no
    # variables unless the operator grants them here (comma-separated variable names).
    external_agent_network: bool = Field(False, alias="SWARM_EXTERNAL_AGENT_NETWORK")
    external_agent_env: str = Field("", alias="SWARM_EXTERNAL_AGENT_ENV")

    # DBOS recovers a crashed process's workflows only for the same application version.
    # Pinning it keeps running goals recoverable across an upgrade of Swarm (see README).
    app_version: str = Field("4", alias="SWARM_APP_VERSION")

    @field_validator("github_api_url")
    @classmethod
    def _strip_slash(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must be an http(s) URL")
        return value.rstrip("/")

    @field_validator("data_dir")
    @classmethod
    def _absolute(cls, value: Path) -> Path:
        # git runs in worktrees with their own working directory: relative paths would break.
        return value.expanduser().resolve()

    @property
    def private_key_pem(self) -> str:
        """The App's private key: the variable holds the PEM text itself or a path to it."""
        value = self.github_app_private_key.get_secret_value().strip()
        if value.startswith("-----BEGIN"):
            return value.replace("\\n", "\n") + "\n"
        path = Path(value).expanduser()
        if not path.is_file():
            raise SettingsError(
                f"GITHUB_APP_PRIVATE_KEY: neither PEM text nor a readable file (looked for {path})"
            )
        return path.read_text()

    @property
    def webhook_secret(self) -> str:
        return self.github_webhook_secret.get_secret_value()

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'swarm.sqlite').resolve()}"


def load_settings(**overrides: object) -> Settings:
    """Read the settings, or raise SettingsError naming the first bad variable."""
    try:
        settings = Settings(**overrides)  # type: ignore[arg-type]
        settings.private_key_pem  # noqa: B018 - fail at start, not at the first API call
    except ValidationError as exc:
        first = exc.errors()[0]
        variable = str(first["loc"][0]) if first["loc"] else "settings"
        if first["type"] == "missing":
            raise SettingsError(f"{variable} is not set (see README: Settings)") from None
        raise SettingsError(f"{variable} is invalid: {first['msg']}") from None
    return settings
