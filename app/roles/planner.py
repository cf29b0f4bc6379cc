"""The planner: reads the repository (read-only tools) and hands in a plan (`app.roles.plan`)
through its own tool, `submit_plan`. Its product is the plan, or None with the run's outcome."""

from __future__ import annotations

from dataclasses import dataclass, replace

from app.agent.session import Session, SessionResult, run_session
from app.agent.tools import WorkspaceTools
from app.roles.plan import Plan, PlanningTools, plan_from_text
from app.roles.prompts import role_prompt

PROMPT = role_prompt("planner")


@dataclass
class Planned:
    plan: Plan | None  # None: the planner did not hand in a valid plan
    session: SessionResult


async def plan(session: Session, goal_text: str) -> Planned:
    """Run the planner in `session` (its role, prompt and tools are set here)."""
    planning: list[PlanningTools] = []

    def with_submit_plan(workspace: WorkspaceTools) -> PlanningTools:
        planning.append(PlanningTools(workspace))
        return planning[0]

    planner = replace(session, role="planner", prompt=PROMPT, tools=with_submit_plan)
    result = await run_session(planner, goal_text)
    found = planning[0].plan if planning else None
    if found is None and result.outcome.status == "finished":
        found = plan_from_text(result.outcome.summary)
    return Planned(found, result)
