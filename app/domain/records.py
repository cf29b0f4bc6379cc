"""What the swarm knows of a goal and of its tasks: the rows, as frozen records.

Each carries the version of its row: a change is written only if the row is still at that
version (compare-and-swap), so two writers never silently overwrite each other.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from app.domain.addresses import task_workflow_id
from app.domain.states import GoalState, TaskState


@dataclass(frozen=True)
class Goal:
    repo: str
    number: int
    installation_id: int
    title: str
    requested_by: str
    state: GoalState
    version: int
    tokens: int = 0  # the planner's own usage
    cost_usd: float = 0.0
    note: str = ""  # why it is where it is, for people
    workflow_id: str = ""  # its active run
    created_at: float = 0.0


@dataclass(frozen=True)
class Task:
    repo: str
    number: int  # its sub-issue
    goal_number: int
    key: str  # the plan's name for it
    title: str
    depends_on: list[int] = field(default_factory=list)  # issue numbers
    state: TaskState = TaskState.PLANNED
    branch: str = ""
    agent: str = ""
    pr_number: int | None = None
    head_sha: str = ""
    ci: str = ""  # the last check's verdict on its head
    tokens: int = 0
    cost_usd: float = 0.0
    note: str = ""
    run: str = ""  # its latest run's workflow id
    gate: str = ""  # its merge gate's workflow id
    candidate_sha: str = ""  # the commit the gate tests: the base with the pull request merged
    verdict: str = ""  # the judge's: "approved" or "changes", for `verdict_sha`
    verdict_sha: str = ""  # the head the verdict is bound to
    rounds: int = 0  # times the gate handed it back (red CI, the judge, a conflict)
    flakes: int = 0  # checks that failed, then passed their one re-run
    ci_runs: int = 0  # candidates and re-runs whose checks the gate waited for
    conflicts: int = 0  # conflicts with the base resolved by an agent
    tested_sha: str = ""  # the candidate that passed
    landed_sha: str = ""  # where the base branch went: must equal tested_sha
    files: list[str] = field(default_factory=list)  # what the plan expects it to touch
    train: str = ""  # in the merge train: "in" (its verdict to come) or "approved"
    version: int = 0

    @property
    def workflow_id(self) -> str:
        return task_workflow_id(self.repo, self.number)


@dataclass(frozen=True)
class Target:
    """What an issue or a pull request is to the swarm: a goal, a task, or nothing."""

    kind: Literal["goal", "task", "none"]
    number: int = 0  # the goal's or the task's issue
    goal_number: int = 0
    state: str = ""
