"""Stores on real databases: a SQLite file in tmp_path, and a fresh PostgreSQL database."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Coroutine, Iterator
from typing import Any, TypeVar

import pytest

from app.clock import ManualClock
from app.store import Store

R = TypeVar("R")


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def stores(database_url: str, clock: ManualClock) -> Iterator[Callable[[], Store]]:
    """Make Stores on the test's database, each with its own engine (own connections)."""
    made: list[Store] = []

    def make() -> Store:
        store = Store(database_url, clock=clock)
        made.append(store)
        return store

    yield make
    for store in made:
        store.engine.dispose()


@pytest.fixture
def store(stores: Callable[[], Store]) -> Store:
    """A Store on a freshly migrated database."""
    first = stores()
    assert first.migrate() == "0005"
    return first


def run_in_threads(
    calls: list[Callable[[], Coroutine[Any, Any, R]]],
) -> list[R | BaseException]:
    """Run each call on a thread of its own, all released at once; results or errors, in order."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(i: int) -> None:
        barrier.wait()
        try:
            results[i] = asyncio.run(calls[i]())
        except BaseException as exc:
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results
