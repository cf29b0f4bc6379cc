"""Helpers for the simulator's tests: a real webhook receiver, real git work trees, clients."""

from __future__ import annotations

import json
import os
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from githubkit import AppAuthStrategy, GitHub
from githubkit.cache import MemCacheStrategy

WEBHOOK_SECRET = "simulator-test-secret"


@dataclass(frozen=True)
class Received:
    headers: dict[str, str]  # lower-case names
    body: bytes

    @property
    def event(self) -> str:
        return self.headers["x-github-event"]

    @property
    def payload(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.body)
        return data

    @property
    def action(self) -> str | None:
        return self.payload.get("action")


class Receiver:
    """A small real HTTP server standing in for the app's webhook route; it records deliveries."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self.answer_status = 200
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", "0"))
                body = self.rfile.read(length)
                headers = {k.lower(): v for k, v in self.headers.items()}
                with receiver._lock:
                    receiver.received.append(Received(headers, body))
                    status = receiver.answer_status
                self.send_response(status)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/api/github/webhooks"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    def start(self) -> Receiver:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)

    def events(self, event: str | None = None, action: str | None = None) -> list[Received]:
        with self._lock:
            items = list(self.received)
        return [
            r
            for r in items
            if (event is None or r.event == event) and (action is None or r.action == action)
        ]


def wait_until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    """Poll a real condition every 20 ms up to `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        threading.Event().wait(0.02)


def user_client(base_url: str, token: str) -> GitHub[Any]:
    # A private cache per client: githubkit caches tokens process-wide by default.
    return GitHub(token, base_url=base_url, auto_retry=False, cache_strategy=MemCacheStrategy())


def installation_client(
    base_url: str, private_key: str, installation_id: int, app_id: int = 1, **narrowing: Any
) -> GitHub[Any]:
    auth = AppAuthStrategy(app_id, private_key).as_installation(installation_id, **narrowing)
    return GitHub(auth, base_url=base_url, auto_retry=False, cache_strategy=MemCacheStrategy())


def app_client(base_url: str, private_key: str, app_id: int = 1) -> GitHub[Any]:
    return GitHub(
        AppAuthStrategy(app_id, private_key),
        base_url=base_url,
        auto_retry=False,
        cache_strategy=MemCacheStrategy(),
    )


def git_env(home: Path) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_TERMINAL_PROMPT": "0",
        "GIT_AUTHOR_NAME": "Test Author",
        "GIT_AUTHOR_EMAIL": "author@example.com",
        "GIT_COMMITTER_NAME": "Test Author",
        "GIT_COMMITTER_EMAIL": "author@example.com",
    }


def with_token(clone_url: str, token: str) -> str:
    scheme, rest = clone_url.split("://", 1)
    return f"{scheme}://x-access-token:{token}@{rest}"


class Worktree:
    """A real clone of a simulated repository."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @classmethod
    def clone(cls, url: str, dest: Path) -> Worktree:
        run_git(dest.parent, "clone", "--quiet", url, str(dest))
        return cls(dest)

    def git(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return run_git(self.path, *args, check=check)

    def commit(self, files: dict[str, str], message: str) -> str:
        for name, text in files.items():
            target = self.path / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text)
        self.git("add", "--all")
        self.git("commit", "--quiet", "-m", message)
        return self.git("rev-parse", "HEAD").stdout.strip()

    def branch(self, name: str, start: str = "HEAD") -> None:
        self.git("checkout", "--quiet", "-B", name, start)

    def push(
        self, branch: str, *extra: str, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        return self.git(
            "push", "--quiet", *extra, "origin", f"HEAD:refs/heads/{branch}", check=check
        )


def run_git(cwd: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        ["git", *args],
        cwd=cwd,
        env=git_env(cwd),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"git {' '.join(args)} failed: {proc.stderr}")
    return proc
