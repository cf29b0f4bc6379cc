"""The end-to-end tests' common ground: a local stack seeded with the demo's sample project."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from githubkit import GitHub

from app.demo.run import OWNER, REPO, SAMPLE
from app.demo.script import GOAL_BODY, GOAL_TITLE
from app.demo.stack import LocalStack

FULL = f"{OWNER}/{REPO}"
# CI runs on pushes to main and to the merge gate's candidates, as the README tells users.
GATE_CI_BRANCHES = ["main", "swarm/gate/**"]


@contextmanager
def seeded_stack(
    tmp_path: Path,
    script: dict[str, Any],
    *,
    in_process: bool = True,
    overrides: dict[str, str] | None = None,
    ci_branches: list[str] | None = None,
) -> Iterator[tuple[LocalStack, GitHub]]:
    """The stack with octo/textkit created; yields it and the maintainer's client.

    With `in_process=False` no swarm runs yet: the test starts `swarm serve` processes itself.
    """
    stack = LocalStack(root=tmp_path, script=script, poll_seconds=0.05, overrides=overrides or {})
    with stack.start(start_swarm=in_process):
        maintainer = stack.control.create_user(OWNER)
        stack.control.create_repo(
            owner=OWNER, name=REPO, source_dir=SAMPLE, ci_command=f"{sys.executable} -m pytest -q",
            ci_branches=GATE_CI_BRANCHES if ci_branches is None else ci_branches,
        )  # fmt: skip
        stack.settle()
        assert stack.simulator is not None
        octo = GitHub(maintainer["token"], base_url=stack.simulator.url + "/")
        yield stack, octo


def open_goal(octo: GitHub, label: str = "swarm") -> int:
    issue = octo.rest.issues.create(OWNER, REPO, title=GOAL_TITLE, body=GOAL_BODY).parsed_data
    octo.rest.issues.add_labels(OWNER, REPO, issue.number, labels=[label])
    return issue.number


def user_client(stack: LocalStack, login: str, permission: str) -> GitHub:
    user = stack.control.create_user(login)
    stack.control.set_permission(OWNER, REPO, login, permission)
    assert stack.simulator is not None
    return GitHub(user["token"], base_url=stack.simulator.url + "/")


def wait_for(condition: Callable[[], Any], what: str, timeout: float = 120.0) -> Any:
    """Poll a real condition (a request recorded, a row written) until it holds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        threading.Event().wait(0.02)
    raise AssertionError(f"timed out waiting for {what}")


def requests_of(stack: LocalStack, agent: str) -> list[dict[str, Any]]:
    assert stack.models is not None
    return [r for r in stack.models.requests() if r.get("agent") == agent]


def pr_file(octo: GitHub, ref: str, path: str) -> str:
    """A file's text at `ref`, through the contents API."""
    import base64

    content = octo.rest.repos.get_content(OWNER, REPO, path, ref=ref).json()
    return base64.b64decode(content["content"]).decode()


def sub_issue_numbers(octo: GitHub, goal: int) -> list[int]:
    return sorted(i.number for i in octo.rest.issues.list_sub_issues(OWNER, REPO, goal).parsed_data)


def all_pulls(octo: GitHub) -> list[Any]:
    return list(octo.rest.pulls.list(OWNER, REPO, state="all", per_page=100).parsed_data)


def task_issues(octo: GitHub) -> list[Any]:
    return list(
        octo.rest.issues.list_for_repo(
            OWNER, REPO, labels="swarm:task", state="all", per_page=100
        ).parsed_data
    )


def branches(octo: GitHub) -> list[str]:
    refs = octo.rest.git.list_matching_refs(OWNER, REPO, "heads/swarm/").parsed_data
    return sorted(r.ref for r in refs)


class SwarmProcess:
    """`swarm serve` as its own process, so that a test can kill it with SIGKILL."""

    def __init__(self, stack: LocalStack) -> None:
        import os
        import socket

        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = stack.root / f"swarm-{self.port}.log"
        env = {**os.environ, **stack.env, "SWARM_LOG_LEVEL": "INFO"}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "app.cli", "serve", "--port", str(self.port)],
            env=env,
            stdout=self.log.open("w"),
            stderr=subprocess.STDOUT,
        )
        stack.control.set_webhook(
            f"{self.url}/api/github/webhooks", stack.env["GITHUB_WEBHOOK_SECRET"]
        )
        try:
            wait_for(self._healthy, "swarm serve to answer /healthz", timeout=60)
        except BaseException:
            self.stop()  # never leave a server behind
            raise

    def _healthy(self) -> bool:
        import httpx

        if self.proc.poll() is not None:
            raise AssertionError(f"swarm serve exited: {self.log.read_text()[-3000:]}")
        try:
            return httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200
        except httpx.TransportError:
            return False

    def kill(self) -> None:
        import signal

        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(30)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(30)


def settle_in_a_new_process(stack: LocalStack) -> None:
    """Start `swarm serve` afresh (as after a crash) and wait until everything has settled."""
    process = SwarmProcess(stack)
    try:
        stack.settle()
    finally:
        process.stop()


def push_file(stack: LocalStack, token: str, path: str, content: str, message: str) -> None:
    """Commit one file to main as a person would: clone over HTTP, commit, push."""
    import subprocess

    from app.workspace.git import auth_env

    assert stack.simulator is not None
    url = f"{stack.simulator.url}/{OWNER}/{REPO}.git"
    work = stack.root / f"clone-{len(list(stack.root.glob('clone-*')))}"
    env = {"PATH": "/usr/bin:/bin", "HOME": str(stack.root), **auth_env(token)}
    subprocess.run(["git", "clone", "-q", url, str(work)], env=env, check=True)
    (work / path).parent.mkdir(parents=True, exist_ok=True)
    (work / path).write_text(content)
    git = ["git", "-C", str(work), "-c", "user.name=octo", "-c", "user.email=octo@example.com"]
    subprocess.run([*git, "commit", "-qam", message], env=env, check=True)
    subprocess.run([*git, "push", "-q", "origin", "HEAD:main"], env=env, check=True)
