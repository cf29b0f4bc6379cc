"""The simulator's parts wired together: state, renderer, webhooks, CI, logs and faults."""

from __future__ import annotations

import threading
from pathlib import Path

from app.simulator.github.ci import CIRunner
from app.simulator.github.config import SimulatorConfig
from app.simulator.github.events import Events
from app.simulator.github.faults import FaultInjector, RateCounter, RequestLog
from app.simulator.github.mergeability import MergeabilityWorker
from app.simulator.github.models import Repo
from app.simulator.github.pushguard import install_hooks
from app.simulator.github.render import Renderer
from app.simulator.github.state import SimState
from app.simulator.github.webhooks import WebhookDispatcher


class Simulator:
    def __init__(self, config: SimulatorConfig) -> None:
        self.config = config
        self.state = SimState(config.app_id, config.app_slug, config.id_base)
        self.repos_root: Path = config.data_dir / "repos"
        self.repos_root.mkdir(parents=True, exist_ok=True)
        self.hooks = install_hooks(config.data_dir / "hooks")
        self.render = Renderer(self.state, config.public_url or "http://127.0.0.1")
        # One condition for "something background changed": deliveries and CI jobs notify it,
        # `settle()` waits on it.
        self.activity = threading.Condition()
        self.webhooks = WebhookDispatcher(self.activity, config.app_id)
        self.webhooks.configure(config.webhook_url, config.webhook_secret)
        self.events = Events(self.state, self.render, self.webhooks)
        self.ci = CIRunner(self)
        self.mergeability = MergeabilityWorker(self)
        self.faults = FaultInjector()
        self.requests = RequestLog()
        self.rate = RateCounter()
        self._repo_locks: dict[int, threading.Lock] = {}
        self._base_url_known = config.public_url is not None
        self._stopping = False

    # lifecycle -----------------------------------------------------------------------------------
    def start(self) -> None:
        with self.activity:
            self._stopping = False
        self.webhooks.start()
        self.ci.start()
        self.mergeability.start()

    def stop(self) -> None:
        self.wake_waiters()
        self.mergeability.stop()
        self.ci.stop()
        self.webhooks.stop()

    def wake_waiters(self) -> None:
        """Release every `settle()` caller: the simulator is going away."""
        with self.activity:
            self._stopping = True
            self.activity.notify_all()

    def set_base_url(self, url: str, *, only_if_unknown: bool = False) -> None:
        """Where clients reach us; every `url`/`clone_url` handed out is built on it."""
        with self.state.lock:
            if only_if_unknown and self._base_url_known:
                return
            self.render.base = url.rstrip("/")
            self._base_url_known = True

    # coordination --------------------------------------------------------------------------------
    def repo_lock(self, repo: Repo) -> threading.Lock:
        """Serialises ref changes of one repository (pushes, merges, ref API), never the state."""
        with self.state.lock:
            return self._repo_locks.setdefault(repo.id, threading.Lock())

    def _quiet(self) -> bool:
        return (
            self.webhooks.pending() == 0
            and self.ci.running() == 0
            and self.mergeability.pending() == 0
        )

    def idle(self) -> dict[str, int | bool]:
        with self.activity:
            pending = self.webhooks.pending()
            running = self.ci.running()
            computing = self.mergeability.pending()
        return {
            "idle": pending == 0 and running == 0 and computing == 0,
            "pending_deliveries": pending,
            "ci_running": running,
            "mergeability_pending": computing,
        }

    def settle(self, timeout: float) -> bool:
        """Block until no delivery is pending, no CI job runs and every pull request's
        mergeability is known, or until `timeout` passes."""
        with self.activity:
            self.activity.wait_for(lambda: self._stopping or self._quiet(), timeout=timeout)
            return self._quiet()
