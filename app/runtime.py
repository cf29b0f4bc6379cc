"""The process's wiring: settings, the GitHub App clients, the store, and DBOS.

DBOS workflows are module-level functions, so they reach these through `current()`; it is set
once by `start()` when a process starts (serve, worker, demo, a test) — never at import. The
process's entry imports its workflows (`app.events.dispatch`) before it starts the runtime.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from dbos import DBOS, DBOSConfig, Queue

from app.credentials import own_secrets, pem_lines, register_own_secrets
from app.github.client import GitHubApp
from app.sandbox.factory import require_sandbox
from app.settings import Settings
from app.store import Store

log = logging.getLogger(__name__)

EVENTS_QUEUE = "swarm-events"
AGENTS_QUEUE = "swarm-agents"
GATES_QUEUE = "swarm-gates"
LANDING_QUEUE = "swarm-landing"


@dataclass
class Runtime:
    settings: Settings
    github: GitHubApp
    store: Store
    events: Queue | None = None  # set once DBOS is launched
    agents: Queue | None = None
    gates: Queue | None = None
    landing: Queue | None = None

    @property
    def data_dir(self) -> Path:
        return self.settings.data_dir


_current: Runtime | None = None


def current() -> Runtime:
    if _current is None:
        raise RuntimeError("the swarm runtime is not started (app.runtime.start)")
    return _current


def dbos_config(settings: Settings) -> DBOSConfig:
    return {
        "name": "swarm",
        "system_database_url": settings.effective_database_url,
        "application_version": settings.app_version,
        "log_level": "WARNING",
        "notification_listener_polling_interval_sec": min(settings.queue_poll_seconds, 1.0),
    }


async def start(settings: Settings, *, handle_events: bool = True) -> Runtime:
    """Build the runtime and launch DBOS (recovering this executor's pending workflows).

    With `handle_events=False` the process only records deliveries (an ingress replica); some
    other process with events enabled handles them from the durable queue.
    """
    global _current
    if handle_events:
        # Before anything runs: a process that would run agents unsandboxed refuses to start.
        log.info("agents' commands run in %s", require_sandbox(settings))
    register_own_secrets(
        [*own_secrets(), *pem_lines(settings.private_key_pem), settings.webhook_secret]
    )
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    store = Store(settings.effective_database_url)
    store.migrate()
    runtime = Runtime(
        settings=settings,
        github=GitHubApp(settings.github_app_id, settings.private_key_pem, settings.github_api_url),
        store=store,
    )
    _current = runtime
    DBOS(config=dbos_config(settings))
    if not handle_events:
        DBOS.listen_queues([])
    DBOS.launch()
    poll = settings.queue_poll_seconds
    runtime.events = await DBOS.register_queue_async(
        EVENTS_QUEUE, worker_concurrency=8, polling_interval_sec=poll
    )
    # Agents: at most SWARM_MAX_AGENTS in this process, and at most
    # SWARM_MAX_AGENTS_PER_INSTALLATION across all processes for one installation (the
    # partition key); the goal flow keeps each repository within its own `max_agents`.
    runtime.agents = await DBOS.register_queue_async(
        AGENTS_QUEUE,
        worker_concurrency=settings.max_agents,
        partition_concurrency=settings.max_agents_per_installation,
        polling_interval_sec=poll,
    )
    # Merge gates at once per repository, across all processes (each keeps a candidate in CI):
    # the repository's CI budget. One makes landing serial, as a merge lock would.
    runtime.gates = await DBOS.register_queue_async(
        GATES_QUEUE, partition_concurrency=settings.gate_concurrency, polling_interval_sec=poll
    )
    # A gate whose landing lost the race (main moved) tries again in turn, one per repository:
    # only the pull request about to land is rebuilt on the new main, not all of them each time.
    runtime.landing = await DBOS.register_queue_async(
        LANDING_QUEUE, partition_concurrency=1, polling_interval_sec=poll
    )
    return runtime


def stop() -> None:
    global _current
    DBOS.destroy(destroy_registry=False)
    if _current is not None:
        _current.store.engine.dispose()
    _current = None
