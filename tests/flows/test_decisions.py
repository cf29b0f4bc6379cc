"""The goal's pure decisions: which tasks may start, and what a finished goal may claim."""

from __future__ import annotations

from app.domain.records import Task
from app.domain.states import GoalState, TaskState
from app.flows.goal import outcome, overlaps_heavily, pick_tasks, ready_tasks
from app.flows.work import with_test_command


def task(number: int, state: TaskState, depends_on: list[int] | None = None) -> Task:
    return Task("o/r", number, 1, f"t{number}", f"Task {number}", depends_on or [], state)


def test_a_task_is_ready_once_every_dependency_has_landed() -> None:
    tasks = [
        task(2, TaskState.DONE),
        task(3, TaskState.PR_OPEN),  # its pull request is open, not landed: its code is not on main
        task(4, TaskState.PLANNED, [2]),
        task(5, TaskState.PLANNED, [2, 3]),
        task(6, TaskState.PLANNED),
        task(7, TaskState.FAILED),
    ]
    assert [t.number for t in ready_tasks(tasks)] == [4, 6]


def planned(number: int, *files: str, state: TaskState = TaskState.PLANNED) -> Task:
    return Task("o/r", number, 1, f"t{number}", f"Task {number}", [], state, files=list(files))


def test_two_tasks_on_the_same_files_do_not_start_together_while_other_work_can() -> None:
    working = planned(2, "a.py", "test_a.py", state=TaskState.WORKING)
    in_gate = planned(3, "b.py", state=TaskState.PR_OPEN)  # not landed: still busy
    ready = [planned(4, "a.py"), planned(5, "c.py"), planned(6, "b.py", "d.py"),
             planned(7, "c.py", "e.py"), planned(8)]  # fmt: skip
    picked = pick_tasks(ready, [working, in_gate], slots=3)
    # 4 waits for 2, 6 for 3; 7 for 5, picked just before it; 8 names no file.
    assert [t.number for t in picked] == [5, 8]
    assert [t.number for t in pick_tasks(ready, [working, in_gate], slots=1)] == [5]
    # With nothing else to start, the overlapping ones go rather than leave agents idle.
    assert [t.number for t in pick_tasks([planned(4, "a.py")], [working], slots=2)] == [4]
    assert pick_tasks(ready, [], slots=0) == []


def test_heavy_overlap_is_half_the_smaller_footprint() -> None:
    assert overlaps_heavily(["a", "b"], ["a", "c", "d", "e"])
    assert not overlaps_heavily(["a", "b", "c"], ["a", "d", "e"])
    assert not overlaps_heavily([], ["a"])


def test_a_goal_without_tasks_never_claims_its_pull_requests_are_open() -> None:
    state, note = outcome([])
    assert state == GoalState.INCOMPLETE
    assert "No task" in note and "pull request" not in note


def test_a_goal_is_done_only_when_every_task_landed() -> None:
    assert outcome([task(2, TaskState.DONE), task(3, TaskState.DONE)])[0] == GoalState.DONE
    state, note = outcome([task(2, TaskState.DONE), task(3, TaskState.FAILED)])
    assert state == GoalState.INCOMPLETE and "#3 (failed)" in note
    blocked = Task("o/r", 4, 1, "t4", "T", [], TaskState.BLOCKED, note="red CI after 3 rounds")
    state, note = outcome([task(2, TaskState.DONE), blocked])
    assert state == GoalState.INCOMPLETE and "#4 (blocked: red CI after 3 rounds)" in note
    spent = [task(2, TaskState.DONE), task(3, TaskState.BUDGET_EXHAUSTED)]
    assert outcome(spent)[0] == GoalState.BUDGET_EXHAUSTED


def test_workers_are_told_the_repositorys_test_command() -> None:
    assert with_test_command("Fix it.", None) == "Fix it."
    told = with_test_command("Fix it.", "make test")
    assert told.startswith("Fix it.") and "`make test`" in told
