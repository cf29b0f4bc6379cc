"""How workflows, inboxes and the bot's own text are addressed, and the messages between them.

Workflow ids are idempotency keys: a replay or a redelivery that starts the same id joins the
run that has it. Inbox addresses name where a running agent's messages wait.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

GOAL_TOPIC = "goal"  # the topic a goal's workflow receives its messages on


def goal_workflow_id(repo: str, number: int, tag: str = "") -> str:
    return f"goal:{repo}#{number}" + (f":{tag}" if tag else "")


def task_workflow_id(repo: str, number: int, tag: str = "") -> str:
    return f"task:{repo}#{number}" + (f":{tag}" if tag else "")


def gate_workflow_id(repo: str, pr_number: int, head_sha: str, tag: str = "") -> str:
    """One gate per pull request head: a new push is a new gate (a retry's carries a tag)."""
    return f"gate:{repo}#{pr_number}:{head_sha}" + (f":{tag}" if tag else "")


def planner_workflow_id(goal_workflow: str) -> str:
    return f"{goal_workflow}:planner"


def check_workflow_id(goal_workflow: str, round_: int) -> str:
    """The goal's `round_`-th check (each check that finds gaps plans the remainder)."""
    return f"{goal_workflow}:check{round_}"


def status_key(repo: str, goal_number: int) -> str:
    """One debounced status refresh per goal at a time."""
    return f"status:{repo}#{goal_number}"


def task_inbox(repo: str, number: int) -> str:
    return f"task:{repo}#{number}"


def goal_inbox(repo: str, number: int) -> str:
    return f"goal:{repo}#{number}"


def run_name(workflow_id: str) -> str:
    """A workflow id as a file name (transcripts)."""
    return workflow_id.replace("/", "_").replace(":", "_")


GoalMessageKind = Literal["task_ended", "stop", "go"]


@dataclass(frozen=True)
class GoalMessage:
    """What a goal's workflow is told: a task of it ended, stop, or go."""

    kind: GoalMessageKind
    number: int = 0  # the task, for task_ended

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "number": self.number}

    @classmethod
    def of(cls, data: Any) -> GoalMessage | None:
        """The message in what `recv` returned; None for nothing or a timeout."""
        if not isinstance(data, dict) or data.get("kind") not in ("task_ended", "stop", "go"):
            return None
        try:
            number = int(data.get("number") or 0)
        except (TypeError, ValueError):
            return None  # a number that is not one: junk, not a message
        return cls(data["kind"], number)
