"""The merge train's rows (on SQLite and PostgreSQL): one running train per repository, started
by compare-and-swap, ended only while no pull request waits in it; a task's place in the train
changes only while its head is the one the writer saw."""

from __future__ import annotations

from app.domain.records import Task
from app.domain.states import TaskState
from app.store import Store

REPO = "octo/app"


async def _task(store: Store, number: int, head: str) -> Task:
    await store.record_goal(REPO, 1, installation_id=9, title="ship it", requested_by="ann")
    await store.upsert_task(Task(repo=REPO, number=number, goal_number=1, key=f"k{number}",
                                 title="a part"))  # fmt: skip
    return await store.change_task(REPO, number, head_sha=head)


async def test_two_gates_starting_a_train_at_once_start_one(store: Store) -> None:
    assert await store.train(REPO) == ("", 0, {})
    assert await store.claim_train(REPO, 0, "train:a")
    assert not await store.claim_train(REPO, 0, "train:b")  # saw generation 0 too: lost
    assert (await store.train(REPO))[:2] == ("train:a", 1)
    assert await store.claim_train(REPO, 1, "train:c")  # the next generation
    assert (await store.train(REPO))[:2] == ("train:c", 2)


async def test_a_train_ends_only_while_no_pull_request_waits_in_it(store: Store) -> None:
    await _task(store, 2, "h1")
    assert await store.claim_train(REPO, 0, "train:1")
    await store.save_train(REPO, "train:1", {"window": 4})
    assert (await store.train(REPO))[2] == {"window": 4}
    assert await store.set_train(REPO, 2, "h1", "in", ("",))
    assert not await store.end_train(REPO, "train:1")  # a rider joined: it goes on
    assert [t.number for t in await store.tasks_in_train(REPO)] == [2]
    assert await store.set_train(REPO, 2, "h1", "", None)
    assert not await store.end_train(REPO, "train:other")  # not the running train
    assert await store.end_train(REPO, "train:1")
    assert await store.train(REPO) == ("", 1, {})


async def test_a_place_changes_only_for_the_head_and_from_the_place_the_writer_saw(
    store: Store,
) -> None:
    await _task(store, 3, "h1")
    assert not await store.set_train(REPO, 3, "old-head", "in", ("",))
    assert await store.set_train(REPO, 3, "h1", "in", ("",))
    # The train took it out meanwhile: a late approval does not put it back.
    assert await store.set_train(REPO, 3, "h1", "", ("in", "approved"))
    assert not await store.set_train(REPO, 3, "h1", "approved", ("in",))
    task = await store.task(REPO, 3)
    assert task is not None and task.train == "" and task.state == TaskState.PLANNED
