"""The states of a goal and of a task, and the moves between them, as data.

Every change of state is one move from the state a writer read to the state it wants; the store
applies it by compare-and-swap and refuses a move this table does not allow — so a stale writer
(a task stopped meanwhile, a goal someone retried) loses instead of overwriting. Staying in a
state is always allowed (it changes other fields).
"""

from __future__ import annotations

from enum import StrEnum


class TaskState(StrEnum):
    PLANNED = "planned"  # a sub-issue exists; waits for its dependencies and a slot
    QUEUED = "queued"  # a run is enqueued for an agent
    WORKING = "working"  # an agent is at work on it
    PR_OPEN = "pr_open"  # its pull request is open: the merge gate tests, judges and lands it
    SUBGOAL = "subgoal"  # too big for one agent: planned as a goal of its own
    DONE = "done"  # landed
    FAILED = "failed"
    STOPPED = "stopped"  # by a person
    BUDGET_EXHAUSTED = "budget_exhausted"
    BLOCKED = "blocked"  # cannot land without a person


class GoalState(StrEnum):
    REQUESTED = "requested"
    PLANNING = "planning"
    AWAITING_GO = "awaiting_go"  # the plan is posted; waits for `/swarm go`
    WORKING = "working"
    DONE = "done"  # every task landed, the goal is closed with a summary
    PAUSED = "paused"  # a landing did not land what was tested: a person must look
    INCOMPLETE = "incomplete"
    FAILED = "failed"
    STOPPED = "stopped"
    BUDGET_EXHAUSTED = "budget_exhausted"
    INVALID_CONFIG = "invalid_config"


T = TaskState
G = GoalState

# Task states in which an agent is (about to be) at work on the task.
ACTIVE_TASK_STATES = frozenset({T.QUEUED, T.WORKING})
# Task states a retry puts back in the queue.
RETRYABLE_TASK_STATES = frozenset({T.FAILED, T.STOPPED, T.BUDGET_EXHAUSTED})
# Task states that let a dependent task start: its work is on the base branch.
UNBLOCKING_TASK_STATES = frozenset({T.DONE})

TASK_MOVES: dict[TaskState, frozenset[TaskState]] = {
    T.PLANNED: frozenset({T.QUEUED, T.SUBGOAL, T.STOPPED}),
    T.QUEUED: frozenset({T.WORKING, T.STOPPED, T.BUDGET_EXHAUSTED, T.FAILED}),
    T.WORKING: frozenset({T.PR_OPEN, T.FAILED, T.STOPPED, T.BUDGET_EXHAUSTED}),
    T.PR_OPEN: frozenset({T.QUEUED, T.DONE, T.BLOCKED, T.BUDGET_EXHAUSTED}),
    T.SUBGOAL: frozenset({T.DONE, T.FAILED, T.STOPPED}),
    T.DONE: frozenset({T.QUEUED}),
    T.BLOCKED: frozenset({T.QUEUED, T.PR_OPEN, T.DONE}),
    T.FAILED: frozenset({T.QUEUED, T.PLANNED}),
    T.STOPPED: frozenset({T.QUEUED, T.PLANNED}),
    T.BUDGET_EXHAUSTED: frozenset({T.QUEUED, T.PLANNED, T.PR_OPEN}),
}

# Goal states in which no run of the goal is at work.
SETTLED_GOAL_STATES = frozenset(
    {G.DONE, G.PAUSED, G.INCOMPLETE, G.FAILED, G.STOPPED, G.BUDGET_EXHAUSTED, G.INVALID_CONFIG}
)
GOAL_MOVES: dict[GoalState, frozenset[GoalState]] = {
    G.REQUESTED: frozenset({G.PLANNING, G.WORKING, G.INVALID_CONFIG, G.FAILED, G.STOPPED}),
    G.PLANNING: frozenset({G.AWAITING_GO, G.WORKING, G.FAILED, G.BUDGET_EXHAUSTED, G.STOPPED}),
    G.AWAITING_GO: frozenset({G.WORKING, G.STOPPED}),
    G.WORKING: frozenset({G.DONE, G.PAUSED, G.INCOMPLETE, G.FAILED, G.BUDGET_EXHAUSTED, G.STOPPED}),
    # A settled goal starts again on `/swarm retry` or `replan`, and can be stopped.
    **{
        settled: frozenset({G.PLANNING, G.WORKING, G.INVALID_CONFIG, G.FAILED, G.STOPPED})
        - {settled}
        for settled in SETTLED_GOAL_STATES
    },
}


class IllegalMove(Exception):
    """A move the table does not allow from the state the row is in now."""

    def __init__(self, what: str, current: str, wanted: str) -> None:
        super().__init__(f"{what}: {current} -> {wanted} is not a legal move")
        self.current, self.wanted = current, wanted


def can_move_task(current: TaskState, wanted: TaskState) -> bool:
    return wanted == current or wanted in TASK_MOVES[current]


def can_move_goal(current: GoalState, wanted: GoalState) -> bool:
    return wanted == current or wanted in GOAL_MOVES[current]
