"""A repository's limits for one agent (`agent:` in `.github/swarm.yml`) as the loop's config."""

from __future__ import annotations

from app.agent.loop import AgentConfig
from app.repo_config import AgentLimits


def agent_config(limits: AgentLimits, token_budget: int) -> AgentConfig:
    """The run's limits; `token_budget` is what the goal's and repository's budgets leave."""
    return AgentConfig(
        max_turns=limits.max_turns,
        max_seconds=limits.max_minutes * 60,
        max_tokens_total=max(1, token_budget),
    )
