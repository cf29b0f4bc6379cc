"""The operator's say over the sandbox, from the environment (and `.env`): limits, extra `/etc`
entries, and the opt-in to run unsandboxed. `swarm agent run` reads these alone; `swarm serve`
and `swarm worker` read them as part of their settings."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from app.sandbox.base import Limits

_DEFAULT = Limits()


class SandboxSettings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", populate_by_name=True)

    sandbox_processes: int = Field(_DEFAULT.processes, ge=8, alias="SWARM_SANDBOX_PROCESSES")
    sandbox_memory_mb: int = Field(_DEFAULT.memory_mb, ge=32, alias="SWARM_SANDBOX_MEMORY_MB")
    sandbox_file_size_mb: int = Field(
        _DEFAULT.file_size_mb, ge=1, alias="SWARM_SANDBOX_FILE_SIZE_MB"
    )
    sandbox_tmp_mb: int = Field(_DEFAULT.tmp_mb, ge=1, alias="SWARM_SANDBOX_TMP_MB")
    sandbox_worktree_mb: int = Field(_DEFAULT.worktree_mb, ge=1, alias="SWARM_SANDBOX_WORKTREE_MB")
    # More of /etc for the sandbox, comma-separated names or globs (e.g. "npmrc,pip.conf").
    sandbox_etc: str = Field("", alias="SWARM_SANDBOX_ETC")
    # Where bubblewrap cannot run, run agents' commands as plain subprocesses anyway: for
    # trusted local use only, and refused while this process holds secret-looking variables.
    allow_unsandboxed: bool = Field(False, alias="SWARM_ALLOW_UNSANDBOXED")

    def sandbox_limits(self) -> Limits:
        return Limits(
            processes=self.sandbox_processes,
            memory_mb=self.sandbox_memory_mb,
            file_size_mb=self.sandbox_file_size_mb,
            tmp_mb=self.sandbox_tmp_mb,
            worktree_mb=self.sandbox_worktree_mb,
        )

    def etc_extra(self) -> list[str]:
        return [name.strip() for name in self.sandbox_etc.split(",") if name.strip()]
