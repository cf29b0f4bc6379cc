"""The planner's product: tasks with a spec, acceptance criteria, likely files and dependencies.

The planner hands its plan in through the `submit_plan` tool, which validates it and answers the
model with what is wrong (an unknown dependency, a cycle, a missing field) so that it can fix the
plan itself — a model that answers nonsense gets a clear error, never a half-made goal.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from app.agent.toolbox import Toolbox, ToolResult
from app.llm.types import ToolSpec
from app.roles.handing_in import json_object_in

MAX_TASKS = 20
KEY_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$"


class PlanTask(BaseModel):
    model_config = ConfigDict(extra="ignore")

    key: str = Field(pattern=KEY_PATTERN)
    title: str = Field(min_length=3, max_length=120)
    spec: str = Field(min_length=1)
    acceptance: list[str] = Field(min_length=1)
    files: list[str] = []
    depends_on: list[str] = []
    size: Literal["S", "M", "L", "XL"] = "M"

    @field_validator("title")
    @classmethod
    def _one_line(cls, value: str) -> str:
        return " ".join(value.split())

    @property
    def too_big(self) -> bool:
        return self.size == "XL"


class Plan(BaseModel):
    model_config = ConfigDict(extra="ignore")

    summary: str = ""
    tasks: list[PlanTask] = Field(min_length=1, max_length=MAX_TASKS)

    def ordered(self) -> list[PlanTask]:
        """Tasks, each after everything it depends on (tasks in a cycle are left out)."""
        done: set[str] = set()
        order: list[PlanTask] = []
        pending = list(self.tasks)
        while pending:
            ready = [t for t in pending if set(t.depends_on) <= done]
            if not ready:  # a cycle: what is left can never start
                break
            order += ready
            done |= {t.key for t in ready}
            pending = [t for t in pending if t.key not in done]
        return order


class PlanError(ValueError):
    pass


def validate_plan(data: Any) -> Plan:
    """A checked plan, or PlanError saying what to fix."""
    try:
        plan = Plan.model_validate(data)
    except ValidationError as exc:
        problems = [
            f"{'.'.join(str(p) for p in e['loc']) or 'plan'}: {e['msg']}" for e in exc.errors()
        ]
        raise PlanError("; ".join(problems[:10])) from None
    keys = [t.key for t in plan.tasks]
    if len(set(keys)) != len(keys):
        raise PlanError("task keys must be unique")
    for task in plan.tasks:
        unknown = set(task.depends_on) - set(keys)
        if unknown:
            raise PlanError(f"task {task.key} depends on unknown task(s) {sorted(unknown)}")
        if task.key in task.depends_on:
            raise PlanError(f"task {task.key} depends on itself")
    if len(plan.ordered()) != len(plan.tasks):
        raise PlanError("the dependencies form a cycle")
    return plan


SUBMIT_PLAN = ToolSpec(
    name="submit_plan",
    description=(
        "Hand in the plan. Each task: key (short id such as t1), title (one line), spec (what "
        "to build and where), acceptance (criteria a test can check), files (likely touched), "
        "depends_on (keys of tasks that must land first), size (S, M, L, or XL when it is too "
        "big for one worker and needs its own plan). Answers with errors to fix, or 'plan "
        "recorded'; then call finish."
    ),
    parameters={
        "type": "object",
        "properties": {
            "summary": {"type": "string", "description": "The approach, in a few sentences."},
            "tasks": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "key": {"type": "string"},
                        "title": {"type": "string"},
                        "spec": {"type": "string"},
                        "acceptance": {"type": "array", "items": {"type": "string"}},
                        "files": {"type": "array", "items": {"type": "string"}},
                        "depends_on": {"type": "array", "items": {"type": "string"}},
                        "size": {"type": "string", "enum": ["S", "M", "L", "XL"]},
                    },
                    "required": ["key", "title", "spec", "acceptance"],
                },
            },
        },
        "required": ["tasks"],
    },
)


class PlanningTools:
    """The planner's read-only tools plus `submit_plan`."""

    def __init__(self, read_only_tools: Toolbox) -> None:
        self.inner = read_only_tools
        self.plan: Plan | None = None

    def specs(self) -> list[ToolSpec]:
        return [*self.inner.specs(), SUBMIT_PLAN]

    async def call(self, name: str, arguments: dict[str, Any]) -> ToolResult:
        if name != SUBMIT_PLAN.name:
            return await self.inner.call(name, arguments)
        try:
            self.plan = validate_plan(arguments)
        except PlanError as exc:
            return ToolResult(f"The plan was not recorded: {exc}. Fix it and submit again.", True)
        return ToolResult(f"plan recorded: {len(self.plan.tasks)} tasks. Now call finish.")


def plan_from_text(text: str) -> Plan | None:
    """A plan written as JSON in a finish summary (a fallback for models that skip the tool)."""
    data = json_object_in(text)
    if data is None:
        return None
    try:
        return validate_plan(data)
    except PlanError:
        return None
