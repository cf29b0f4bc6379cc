"""Budgets per goal and per repository: tokens and dollars. Spent means stop, and say so."""

from __future__ import annotations

from dbos import DBOS

from app.repo_config import Budgets
from app.runtime import current


def tokens_left(
    budgets: Budgets, goal: tuple[int, float], repo: tuple[int, float]
) -> tuple[int, str]:
    """Tokens an agent may still spend, and which budget binds (a pure rule, tested alone)."""
    if goal[1] >= budgets.goal_usd:
        return 0, f"the goal's budget of ${budgets.goal_usd:,.2f} is spent"
    if repo[1] >= budgets.repo_usd:
        return 0, f"the repository's budget of ${budgets.repo_usd:,.2f} is spent"
    goal_left = budgets.goal_tokens - goal[0]
    repo_left = budgets.repo_tokens - repo[0]
    if goal_left <= 0:
        return 0, f"the goal's budget of {budgets.goal_tokens:,} tokens is spent"
    if repo_left <= 0:
        return 0, f"the repository's budget of {budgets.repo_tokens:,} tokens is spent"
    return min(goal_left, repo_left), ""


async def spent_on_goal(repo: str, goal_number: int) -> tuple[int, float]:
    store = current().store
    goal = await store.goal(repo, goal_number)
    tasks = await store.tasks_of(repo, goal_number)
    tokens = (goal.tokens if goal else 0) + sum(t.tokens for t in tasks)
    cost = (goal.cost_usd if goal else 0.0) + sum(t.cost_usd for t in tasks)
    return tokens, cost


@DBOS.step(name="budget.check")
async def budget_check(repo: str, goal_number: int, budgets: Budgets) -> tuple[int, str]:
    goal = await spent_on_goal(repo, goal_number)
    return tokens_left(budgets, goal, await current().store.repo_usage(repo))
