from app.flows.budget import tokens_left
from app.repo_config import Budgets

BUDGETS = Budgets(goal_tokens=1000, goal_usd=1.0, repo_tokens=5000, repo_usd=10.0)


def test_the_tighter_budget_binds() -> None:
    assert tokens_left(BUDGETS, (200, 0.1), (4500, 1.0)) == (500, "")
    assert tokens_left(BUDGETS, (900, 0.1), (1000, 1.0)) == (100, "")


def test_spent_budgets_say_which() -> None:
    left, why = tokens_left(BUDGETS, (1000, 0.1), (1000, 1.0))
    assert left == 0 and "goal's budget of 1,000 tokens" in why
    left, why = tokens_left(BUDGETS, (10, 1.5), (10, 1.5))
    assert left == 0 and "goal's budget of $1.00" in why
    left, why = tokens_left(BUDGETS, (10, 0.0), (6000, 1.0))
    assert left == 0 and "repository's budget" in why
