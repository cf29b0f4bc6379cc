"""The goal checker: once every task of a goal has landed, the planner's model checks the goal as a
whole against the base branch — read-only file tools, the tests run in the sandbox — and hands in
a check (`submit_goal_check`): each of the goal's criteria met or not, with its evidence, and for
what is not met, the remaining tasks, planned as the planner plans them.

Its product is the check, or None with the run's outcome. Only a run that finished counts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from app.agent.session import Session, SessionResult, run_session
from app.agent.toolbox import Toolbox, ToolResult
from app.agent.tools import WorkspaceTools
from app.llm.types import ToolSpec
from app.roles.handing_in import HandInFirst, json_object_in
from app.roles.plan import SUBMIT_PLAN, Plan, PlanError, PlanTask, validate_plan
from app.roles.prompts import role_prompt
from app.roles.verdict import CriterionVerdict

PROMPT = role_prompt("checker")


class GoalCheck(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    criteria: list[CriterionVerdict] = Field(min_length=1)
    summary: str = Field(min_length=1)
    tasks: list[PlanTask] = []  # the remainder: what is still needed, when a criterion is not met

    @property
    def met(self) -> bool:
        return all(c.met for c in self.criteria)

    def unmet(self) -> list[str]:
        return [c.criterion for c in self.criteria if not c.met]

    def remainder(self) -> Plan:
        """The remaining tasks as a plan; dependencies on the goal's earlier tasks (landed)
        are dropped, as there is nothing to wait for."""
        keys = {t.key for t in self.tasks}
        tasks = [t.model_copy(update={"depends_on": [d for d in t.depends_on if d in keys]})
                 for t in self.tasks]  # fmt: skip
        return Plan(summary=self.summary, tasks=tasks)


class CheckError(ValueError):
    pass


def validate_check(data: Any, taken_keys: Sequence[str]) -> GoalCheck:
    """A checked goal check, or CheckError saying what to fix: tasks exactly when a criterion
    is unmet, each a valid plan task with a key the goal has not used."""
    try:
        check = GoalCheck.model_validate(data)
    except ValidationError as exc:
        problems = [
            f"{'.'.join(str(p) for p in e['loc']) or 'check'}: {e['msg']}" for e in exc.errors()
        ]
        raise CheckError("; ".join(problems[:10])) from None
    if check.met and check.tasks:
        raise CheckError("every criterion is met, so hand in no tasks (or mark what is unmet)")
    if not check.met and not check.tasks:
        raise CheckError(
            "a criterion is not met: plan the remaining tasks in `tasks` (as the planner does)"
        )
    taken = [t.key for t in check.tasks if t.key in taken_keys]
    if taken:
        raise CheckError(f"task key(s) {taken} are the goal's earlier tasks': choose new keys")
    known = {t.key for t in check.tasks} | set(taken_keys)
    for task in check.tasks:
        unknown = sorted(set(task.depends_on) - known)
        if unknown:
            raise CheckError(f"task {task.key} depends on unknown task(s) {unknown}")
    if check.tasks:
        try:
            validate_plan({"tasks": [t.model_dump() for t in check.remainder().tasks]})
        except PlanError as exc:
            raise CheckError(str(exc)) from None
    return check


def _tasks_schema() -> dict[str, Any]:
    return dict(SUBMIT_PLAN.parameters["properties"]["tasks"])


SUBMIT_GOAL_CHECK = ToolSpec(
    name="submit_goal_check",
    description=(
        "Hand in the goal's check: each criterion (criterion, met, evidence: a file:line read "
        "or a command run and what it printed) and a summary; when a criterion is not met, the "
        "remaining tasks in `tasks`, each as the planner writes one (key, title, spec, "
        "acceptance, files, depends_on, size). Answers with errors to fix, or 'check "
        "recorded'; then call finish."
    ),
    parameters={
        "type": "object",
        "properties": {
            "criteria": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "criterion": {"type": "string"},
                        "met": {"type": "boolean"},
                        "evidence": {"type": "string"},
                    },
                    "required": ["criterion", "met", "evidence"],
                },
            },
            "summary": {"type": "string"},
            "tasks": _tasks_schema(),
        },
        "required": ["criteria", "summary"],
    },
)


class CheckingTools:
    """The checker's workspace tools plus `submit_goal_check`."""

    def __init__(self, workspace: Toolbox, taken_keys: Sequence[str]) -> None:
        self.inner = workspace
        self.taken_keys = list(taken_keys)
        self.check: GoalCheck | None = None

    def specs(self) -> list[ToolSpec]:
        return [*self.inner.specs(), SUBMIT_GOAL_CHECK]

    async def call(self, name: str, arguments: dict[str, Any]) -> ToolResult:
        if name != SUBMIT_GOAL_CHECK.name:
            return await self.inner.call(name, arguments)
        try:
            self.check = validate_check(arguments, self.taken_keys)
        except CheckError as exc:
            return ToolResult(f"The check was not recorded: {exc}. Fix it and submit again.", True)
        what = "every criterion met" if self.check.met else f"{len(self.check.tasks)} task(s) left"
        return ToolResult(f"check recorded: {what}. Now call finish.")


def check_from_text(text: str, taken_keys: Sequence[str]) -> GoalCheck | None:
    """A check written as JSON in a finish summary (a fallback for models that skip the tool)."""
    data = json_object_in(text)
    if data is None:
        return None
    try:
        return validate_check(data, taken_keys)
    except CheckError:
        return None


@dataclass(frozen=True)
class LandedTask:
    key: str
    number: int
    title: str
    pr_number: int | None
    landed_sha: str


def brief_message(goal_text: str, base_ref: str, base_sha: str, tasks: list[LandedTask]) -> str:
    """The checker's first message: the goal, what landed for it, where to look."""
    lines = [
        f"- `{t.key}`: #{t.number} {' '.join(t.title.split())}"
        + (f", pull request #{t.pr_number}" if t.pr_number else "")
        + (f", landed as `{t.landed_sha[:12]}`" if t.landed_sha else "")
        for t in tasks
    ]
    return "\n".join([
        "Check this goal against the base branch, now that every task planned for it has landed.",
        "",
        goal_text,
        "",
        "## What landed for it",
        *lines,
        "",
        f"Your working tree is `{base_ref}` at `{base_sha}`. The keys above are taken: a task "
        "you plan needs a new one.",
        "",
        "Hand in the check with `submit_goal_check`, then call `finish`.",
    ])  # fmt: skip


@dataclass
class Checked:
    check: GoalCheck | None  # None: the checker did not hand in a valid check
    session: SessionResult


async def check(session: Session, brief: str, taken_keys: Sequence[str]) -> Checked:
    """Run the checker in `session` (its role, prompt, tools and finish check are set here)."""
    made: list[CheckingTools] = []

    def with_submit_check(workspace: WorkspaceTools) -> CheckingTools:
        made.append(CheckingTools(workspace, taken_keys))
        return made[0]

    checker = replace(
        session,
        role="checker",
        prompt=PROMPT,
        tools=with_submit_check,
        supervisor=HandInFirst(
            session.supervisor,
            lambda: bool(made) and made[0].check is not None,
            "no check is recorded. Hand it in with submit_goal_check, then call finish.",
        ),
    )
    result = await run_session(checker, brief)
    if result.outcome.status != "finished":
        return Checked(None, result)
    found = made[0].check if made else None
    if found is None:
        found = check_from_text(result.outcome.summary, taken_keys)
    return Checked(found, result)
