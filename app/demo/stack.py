"""The whole swarm on one machine: the GitHub simulator, the scripted model server and the swarm,
each on a free local port, wired as a real deployment is (signed webhooks, the App's JWT,
installation tokens, git over HTTP, the real model SDKs).

`swarm demo` and the end-to-end tests both stand on this; `settle()` waits until nothing is in
flight — every webhook delivered, every CI job done, every workflow finished or waiting for a
person — by polling those real conditions, never by sleeping a fixed time.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from dbos import DBOSClient

from app.settings import Settings, load_settings
from app.simulator.github.config import SimulatorConfig
from app.simulator.github.control import SimulatorControl
from app.simulator.github.server import RunningSimulator, start_simulator
from app.simulator.models import ScriptedModelServer, start_model_server
from app.web.app import create_app
from app.web.server import ThreadServer, serve_in_thread

WEBHOOK_SECRET = "swarm-local-stack"
SCRIPTED_MODEL = "openai/scripted"
SCRIPTED_JUDGE_MODEL = "anthropic/scripted"
UNFINISHED = ["PENDING", "ENQUEUED", "DELAYED"]  # DELAYED: a debounced status refresh


def generate_app_key() -> tuple[str, str]:
    """(private PEM, public PEM): the App's key, made fresh for a local stack."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private, public


@dataclass
class LocalStack:
    root: Path
    script: dict[str, Any]
    poll_seconds: float = 0.05
    overrides: dict[str, str] = field(default_factory=dict)  # settings to change, by variable
    env: dict[str, str] = field(default_factory=dict)
    simulator: RunningSimulator | None = None
    models: ScriptedModelServer | None = None
    swarm: ThreadServer | None = None
    settings: Settings | None = None
    _saved_env: dict[str, str | None] = field(default_factory=dict)
    _dbos: DBOSClient | None = None

    @property
    def control(self) -> SimulatorControl:
        assert self.simulator is not None
        return SimulatorControl(self.simulator.url)

    def start(self, *, start_swarm: bool = True) -> LocalStack:
        private, public = generate_app_key()
        self.simulator = start_simulator(
            SimulatorConfig(
                data_dir=self.root / "github",
                app_public_key_pem=public,
                webhook_secret=WEBHOOK_SECRET,
            )
        )
        self.models = start_model_server(self.script)
        self.env = {
            "GITHUB_APP_ID": "1",
            "GITHUB_APP_PRIVATE_KEY": private,
            "GITHUB_WEBHOOK_SECRET": WEBHOOK_SECRET,
            "GITHUB_API_URL": self.simulator.url,
            "DATABASE_URL": f"sqlite:///{self.root / 'swarm.sqlite'}",
            "SWARM_DATA_DIR": str(self.root / "swarm"),
            "SWARM_QUEUE_POLL_SECONDS": str(self.poll_seconds),
            "SWARM_PLANNER_MODEL": SCRIPTED_MODEL,
            "SWARM_WORKER_MODEL": SCRIPTED_MODEL,
            # The judge is of another family than the workers, as by default in production:
            # the same scripted server, through the Anthropic SDK and wire format.
            "SWARM_JUDGE_MODEL": SCRIPTED_JUDGE_MODEL,
            "OPENAI_BASE_URL": f"{self.models.url}/v1",
            "OPENAI_API_KEY": "scripted-model-needs-no-key",
            "ANTHROPIC_BASE_URL": self.models.url,
            "ANTHROPIC_API_KEY": "scripted-model-needs-no-key",
            **self.overrides,
        }
        # The model SDKs read their endpoint from the environment, as in production.
        for name in (
            "OPENAI_BASE_URL",
            "OPENAI_API_KEY",
            "ANTHROPIC_BASE_URL",
            "ANTHROPIC_API_KEY",
        ):
            self._saved_env[name] = os.environ.get(name)
            os.environ[name] = self.env[name]
        self.settings = load_settings(**self.env)
        if start_swarm:
            self.start_swarm()
        return self

    def start_swarm(self) -> None:
        assert self.settings is not None and self.simulator is not None
        self.swarm = serve_in_thread(create_app(self.settings))
        self.control.set_webhook(f"{self.swarm.url}/api/github/webhooks", WEBHOOK_SECRET)

    def stop_swarm(self) -> None:
        if self.swarm is not None:
            self.swarm.stop()
            self.swarm = None

    def stop(self) -> None:
        self.stop_swarm()
        if self._dbos is not None:
            self._dbos.destroy()
        if self.models is not None:
            self.models.stop()
        if self.simulator is not None:
            self.simulator.stop()
        for name, value in self._saved_env.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value

    def __enter__(self) -> LocalStack:
        # `with LocalStack(...).start(start_swarm=False) as stack:` is started already.
        return self if self.simulator is not None else self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def settle(self, timeout: float = 300.0) -> None:
        """Wait until no delivery, CI job or workflow is in flight (or raise TimeoutError)."""
        deadline = time.monotonic() + timeout
        quiet_rounds = 0
        while time.monotonic() < deadline:
            remaining = max(1.0, deadline - time.monotonic())
            settled = self.control.settle(timeout=min(remaining, 30.0))
            busy = settled and self._workflows_busy()
            # Two quiet looks in a row: a workflow that just ended may have sent one more event.
            quiet_rounds = quiet_rounds + 1 if settled and not busy else 0
            if quiet_rounds >= 2:
                return
            threading.Event().wait(self.poll_seconds)
        raise TimeoutError(f"the swarm did not settle in {timeout:.0f} s")

    def _workflows_busy(self) -> bool:
        """Any workflow still to run, wherever the swarm runs (this process or another)."""
        assert self.settings is not None
        if self._dbos is None:
            url = self.settings.effective_database_url
            if url.startswith("sqlite") and not (self.root / "swarm.sqlite").exists():
                return False  # no swarm has started yet
            self._dbos = DBOSClient(system_database_url=url)
        client = self._dbos
        for status in client.list_workflows(status=UNFINISHED, load_input=False, load_output=False):
            if client.get_event(status.workflow_id, "waiting", timeout_seconds=0) == "go":
                continue  # waiting for a person's `/swarm go`: settled
            return True
        return False


def temporary_stack(script: dict[str, Any], **kwargs: Any) -> LocalStack:
    root = Path(tempfile.mkdtemp(prefix="swarm-demo-"))
    return LocalStack(root=root, script=script, **kwargs)


def remove_stack_files(stack: LocalStack) -> None:
    shutil.rmtree(stack.root, ignore_errors=True)
