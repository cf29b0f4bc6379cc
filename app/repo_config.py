"""`.github/swarm.yml`: a repository's own settings for the swarm.

Read from the default branch only, never from a pull request's head (a contributor must not be
able to raise their own budget). A missing file means safe defaults; an invalid one raises a
`RepoConfigError` whose message names the key and what is wrong with it, for a comment on the goal.
"""

from __future__ import annotations

from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

CONFIG_PATH = ".github/swarm.yml"

# Paths no agent may write unless the repository says otherwise.
DEFAULT_PROTECTED = [".github/workflows/**", ".github/swarm.yml"]


class RepoConfigError(Exception):
    """The repository's config file is invalid; the message says which key and why."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Models(_Strict):
    planner: str | None = None
    worker: str | None = None
    judge: str | None = None
    reconciler: str | None = None


class Budgets(_Strict):
    goal_tokens: int = Field(2_000_000, ge=0)
    goal_usd: float = Field(20.0, ge=0)
    repo_tokens: int = Field(20_000_000, ge=0)
    repo_usd: float = Field(200.0, ge=0)


class AgentLimits(_Strict):
    max_turns: int = Field(60, ge=1, le=10_000)
    max_minutes: float = Field(60, gt=0)
    command_timeout_seconds: float = Field(600, gt=0)


class Train(_Strict):
    """The speculative merge train (README): many pull requests tested at once, each landing
    the commit that passed. Off: one candidate per pull request (the gate alone)."""

    enabled: bool = False
    window: int = Field(12, ge=1, le=64)  # candidates tested at once to begin with
    ci_budget: int = Field(16, ge=1, le=64)  # candidates under CI at once
    batch: int = Field(4, ge=1, le=16)  # CI on one candidate in `batch` while the train is long

    @model_validator(mode="after")
    def _window_within_budget(self) -> Train:
        if self.window > self.ci_budget:
            raise ValueError("`window` cannot be larger than `ci_budget`")
        return self


class Gate(_Strict):
    # The checks a landing needs when the branch's protection and rulesets name none; unset:
    # every check that ran on the candidate.
    required_checks: list[str] | None = None
    max_rounds: int = Field(3, ge=0, le=20)  # hand-backs per task (red CI, judge, conflict)
    max_rebuilds: int = Field(5, ge=1, le=50)  # candidates rebuilt because the base moved
    check_timeout_minutes: float = Field(30, gt=0)  # no check finished by then: blocked
    train: Train = Train()


class RepoConfig(_Strict):
    models: Models = Models()
    test_command: str | None = None  # told to every worker, to run before it finishes
    max_agents: int = Field(4, ge=1, le=64)
    merge_method: Literal["merge", "squash", "rebase"] = "merge"
    gate: Gate = Gate()
    require_human_approval: bool = False
    protected_paths: list[str] = Field(default_factory=lambda: list(DEFAULT_PROTECTED))
    budgets: Budgets = Budgets()
    plan_depth: int = Field(2, ge=1, le=5)
    # Checks of a goal whose tasks all landed; a check that finds criteria unmet plans the
    # remainder, and the last one allowed ends the goal incomplete instead. 0: no check.
    goal_checks: int = Field(2, ge=0, le=10)
    agent: AgentLimits = AgentLimits()
    worker_command: str | None = None  # an external agent CLI instead of the built-in loop

    @model_validator(mode="after")
    def _train_merges(self) -> RepoConfig:
        # A train lands many pull requests in one fast-forward: each must be reachable from
        # the base for GitHub to show it merged, which only merge commits give.
        if self.gate.train.enabled and self.merge_method != "merge":
            raise ValueError("`gate.train` lands merge commits: set `merge_method: merge`")
        return self


def parse_repo_config(text: str | None) -> RepoConfig:
    """The config for the file's text (None or empty: the defaults)."""
    if not text or not text.strip():
        return RepoConfig()
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        raise RepoConfigError(f"{CONFIG_PATH} is not valid YAML{where}") from None
    if data is None:
        return RepoConfig()
    if not isinstance(data, dict):
        raise RepoConfigError(f"{CONFIG_PATH} must be a mapping of keys to values")
    try:
        return RepoConfig.model_validate(data)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            key = ".".join(str(part) for part in error["loc"]) or "(top level)"
            if error["type"] == "extra_forbidden":
                problems.append(f"`{key}` is not a known key")
            else:
                problems.append(f"`{key}`: {error['msg'].removeprefix('Value error, ')}")
        raise RepoConfigError(f"{CONFIG_PATH}: " + "; ".join(problems)) from None
