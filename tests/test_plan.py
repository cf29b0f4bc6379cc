import pytest

from app.demo.script import PLAN
from app.roles.plan import PlanError, plan_from_text, validate_plan


def task(key: str, *deps: str, **extra: object) -> dict[str, object]:
    return {
        "key": key,
        "title": f"Task {key}",
        "spec": "do it",
        "acceptance": ["works"],
        "depends_on": list(deps),
        **extra,
    }


def test_a_valid_plan_is_ordered_by_dependencies() -> None:
    plan = validate_plan({"tasks": [task("c", "a", "b"), task("a"), task("b", "a")]})
    assert [t.key for t in plan.ordered()] == ["a", "b", "c"]
    assert [t.key for t in validate_plan(PLAN).ordered()] == ["words", "slug", "docs"]


@pytest.mark.parametrize(
    ("tasks", "problem"),
    [
        ([task("a", "zzz")], "unknown task"),
        ([task("a", "b"), task("b", "a")], "cycle"),
        ([task("a", "a")], "itself"),
        ([task("a"), task("a")], "unique"),
        ([], "at least 1"),
        ([{"key": "a", "title": "T a"}], "spec"),
        ([task("has space")], "key"),
    ],
)
def test_invalid_plans_say_what_to_fix(tasks: list[dict[str, object]], problem: str) -> None:
    with pytest.raises(PlanError, match=problem):
        validate_plan({"tasks": tasks})


def test_plan_from_a_finish_summary() -> None:
    text = (
        'Here is the plan: {"tasks": [{"key": "a", "title": "Add a", "spec": "x", '
        '"acceptance": ["y"]}]} -- done'
    )
    plan = plan_from_text(text)
    assert plan is not None and plan.tasks[0].title == "Add a"
    assert plan_from_text("no json here") is None
    assert plan_from_text('{"tasks": "nonsense"}') is None
