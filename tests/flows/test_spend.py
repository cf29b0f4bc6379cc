"""A running worker's spend reaches its task's row as it is spent, and is counted once."""

from __future__ import annotations

from pathlib import Path

from app.domain.records import Task
from app.flows.work import Spend
from app.store import Store


async def test_spend_is_written_as_it_grows_and_never_twice(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'swarm.sqlite'}")
    store.migrate()
    await store.upsert_task(Task("o/r", 7, 1, "a", "A"))
    spend = Spend(store, "o/r", 7)

    await spend.up_to(1_000, 0.01)
    task = await store.task("o/r", 7)
    assert task is not None and task.tokens == 1_000  # live, before the run ends

    await spend.up_to(1_000, 0.01)  # no new spend: nothing written
    await spend.up_to(2_500, 0.03)  # the run's totals so far, not a delta
    task = await store.task("o/r", 7)
    assert task is not None and task.tokens == 2_500 and round(task.cost_usd, 6) == 0.03
    store.engine.dispose()
