"""GitHub's background mergeability job: after a pull request opens or its head or base moves,
`mergeable` reads null until a worker has tried the merge with git. Pushes never wait for it;
`settle()` does, so tests stay deterministic without sleeping.
"""

from __future__ import annotations

import threading
from collections import deque
from typing import TYPE_CHECKING

from app.simulator.github.gitops import GitRepo
from app.simulator.github.models import Repo
from app.simulator.github.pullfacts import compute_mergeability

if TYPE_CHECKING:
    from app.simulator.github.core import Simulator


class MergeabilityWorker:
    def __init__(self, sim: Simulator) -> None:
        self._sim = sim
        self._queue: deque[tuple[Repo, int]] = deque()  # guarded by sim.activity
        self._busy = 0
        self._stopping = False
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        with self._sim.activity:
            if self._thread is not None:
                return
            self._stopping = False
            self._thread = threading.Thread(target=self._run, name="sim-mergeable", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        with self._sim.activity:
            self._stopping = True
            self._queue.clear()
            thread, self._thread = self._thread, None
            self._sim.activity.notify_all()
        if thread is not None:
            thread.join(timeout=30)

    def pending(self) -> int:
        with self._sim.activity:
            return len(self._queue) + self._busy

    def request(self, repo: Repo, number: int) -> None:
        """Compute the pull request's mergeability soon (once, however often it is asked)."""
        with self._sim.activity:
            if not any(r is repo and n == number for r, n in self._queue):
                self._queue.append((repo, number))
                self._sim.activity.notify_all()

    def _run(self) -> None:
        activity = self._sim.activity
        while True:
            with activity:
                activity.wait_for(lambda: self._stopping or bool(self._queue))
                if self._stopping:
                    return
                repo, number = self._queue.popleft()
                self._busy += 1
            try:
                self._compute(repo, number)
            finally:
                with activity:
                    self._busy -= 1
                    activity.notify_all()

    def _compute(self, repo: Repo, number: int) -> None:
        state = self._sim.state
        with state.lock:
            issue = repo.issues.get(number)
            if issue is None or issue.pull is None or issue.state != "open":
                return
            pull = issue.pull
            base_ref, head_sha, generation = pull.base_ref, pull.head_sha, pull.generation
        result = compute_mergeability(GitRepo(repo.path), base_ref, head_sha)
        with state.lock:
            if pull.generation != generation or result is None:
                return  # moved meanwhile: a newer request is queued
            pull.mergeable, pull.behind, pull.base_sha = (
                result.mergeable,
                result.behind,
                result.base_sha,
            )
