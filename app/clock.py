"""The one clock the swarm's records read: the wall clock in a process, a hand-driven one in tests.

Durations inside a single call (a command's timeout, a benchmark) use `time.monotonic` where they
are measured; what is recorded (when a row changed, when a message arrived) comes from here.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Protocol


class Clock(Protocol):
    def now(self) -> float:
        """Seconds since the epoch."""
        ...


class SystemClock:
    def now(self) -> float:
        return time.time()


@dataclass
class ManualClock:
    """A clock that moves only when told to."""

    at: float = 1_700_000_000.0

    def now(self) -> float:
        return self.at

    def advance(self, seconds: float) -> None:
        self.at += seconds


SYSTEM_CLOCK = SystemClock()
