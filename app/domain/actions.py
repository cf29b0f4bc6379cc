"""What a maintainer's command asks the swarm to do, decided from the command and where its
goal or task stands (`app.events.decisions`), and done by `app.flows.actions`.

Deciding is pure — a command and a state in, an action out — so every rule can be read and
tested on its own; doing is where GitHub, the store and the workflows are.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Answer:
    """Nothing to do but say this."""

    text: str


@dataclass(frozen=True)
class ShowStatus:
    goal: int
    answer: str


@dataclass(frozen=True)
class SendGo:
    goal: int


@dataclass(frozen=True)
class StopGoal:
    goal: int


@dataclass(frozen=True)
class RestartGoal:
    """`/swarm retry` (go on with the tasks there are) or `/swarm replan <direction>`."""

    goal: int
    replan: bool
    direction: str = ""


@dataclass(frozen=True)
class TellPlanner:
    goal: int
    text: str


@dataclass(frozen=True)
class StopTask:
    task: int
    goal: int


@dataclass(frozen=True)
class TellWorker:
    """To the task's running agent; with none running, a follow-up run with the text."""

    task: int
    goal: int
    text: str


@dataclass(frozen=True)
class FollowUp:
    """A new run on the task's branch (a retry, a review's changes)."""

    task: int
    goal: int
    instructions: str


Action = (
    Answer | ShowStatus | SendGo | StopGoal | RestartGoal | TellPlanner | StopTask | TellWorker
    | FollowUp
)  # fmt: skip
