"""The CI runner: GitHub Actions' stand-in. It runs a repository's `ci_command` on a pushed head
in a scratch checkout and reports a check run named `ci` (once per commit, and again when the
run is re-requested). A flake rule (flaky.py) makes chosen runs fail without running."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

from app.simulator.github import checks
from app.simulator.github.flaky import FLAKY_LINE, flaky_now
from app.simulator.github.gitops import GitError, GitRepo
from app.simulator.github.models import Repo

if TYPE_CHECKING:
    from app.simulator.github.core import Simulator

CHECK_NAME = "ci"
OUTPUT_LIMIT = 60_000  # GitHub caps a check run's output.text at 65535 characters


class CIRunner:
    def __init__(self, sim: Simulator) -> None:
        self._sim = sim
        self._running = 0  # jobs queued or running; guarded by sim.activity
        self._executor: ThreadPoolExecutor | None = None
        self._procs: set[subprocess.Popen[bytes]] = set()
        self._procs_lock = threading.Lock()
        self._stopping = False

    def start(self) -> None:
        self._stopping = False
        self._executor = ThreadPoolExecutor(
            max_workers=max(1, self._sim.config.ci_concurrency), thread_name_prefix="sim-ci"
        )

    def stop(self) -> None:
        self._stopping = True
        with self._procs_lock:
            for proc in list(self._procs):
                _kill_group(proc)
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None
        with self._sim.activity:
            self._running = 0
            self._sim.activity.notify_all()

    def running(self) -> int:
        with self._sim.activity:
            return self._running

    def trigger(self, repo: Repo, sha: str, branch: str | None, *, rerun: bool = False) -> bool:
        """Start CI for `sha` unless the repository has none or this commit already ran (a
        re-run runs again). True when a run started."""
        sim = self._sim
        command = repo.ci_command
        if not command or self._executor is None or self._stopping:
            return False
        commit = GitRepo(repo.path).commit_info(sha)
        with sim.state.lock:
            already = any(
                r.head_sha == sha and r.name == CHECK_NAME and r.app.id == sim.state.actions_app.id
                for r in repo.check_runs.values()
            )
            if already and not rerun:
                return False
            flaky = flaky_now(repo, sha, branch, first_run=not already)
            run = checks.create_run(
                sim.state,
                sim.events,
                repo,
                sim.state.actions_app,
                sim.state.actions_bot,
                commit,
                branch,
                {
                    "name": CHECK_NAME,
                    "status": "in_progress",
                    "output": {"title": "CI", "summary": f"Running `{command}`"},
                },
            )
            timeout = repo.ci_timeout or sim.config.ci_timeout
        with sim.activity:
            self._running += 1
        self._executor.submit(self._job, repo, run.id, sha, command, timeout, flaky)
        return True

    def _job(
        self, repo: Repo, run_id: int, sha: str, command: str, timeout: float, flaky: bool
    ) -> None:
        try:
            if flaky:
                conclusion, log = "failure", f"{FLAKY_LINE}\n"
            else:
                conclusion, log = self._checkout_and_run(repo, sha, command, timeout)
            if not self._stopping:
                self._complete(repo, run_id, conclusion, log)
        finally:
            with self._sim.activity:
                self._running = max(0, self._running - 1)
                self._sim.activity.notify_all()

    def _checkout_and_run(
        self, repo: Repo, sha: str, command: str, timeout: float
    ) -> tuple[str, str]:
        scratch = Path(tempfile.mkdtemp(prefix="sim-ci-"))
        try:
            checkout = scratch / "src"
            GitRepo(repo.path).checkout_copy(sha, checkout)
            env = {
                "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
                "HOME": str(scratch),
                "LANG": "C.UTF-8",
                "CI": "true",
                "GITHUB_ACTIONS": "true",
                "GITHUB_SHA": sha,
                "GITHUB_REPOSITORY": repo.full_name,
            }
            return self._execute(command, checkout, env, timeout)
        except GitError as exc:
            return "failure", f"checkout failed: {exc}"
        finally:
            shutil.rmtree(scratch, ignore_errors=True)

    def _execute(
        self, command: str, cwd: Path, env: dict[str, str], timeout: float
    ) -> tuple[str, str]:
        proc = subprocess.Popen(
            ["/bin/sh", "-c", command],
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, so a timeout kills every child
        )
        with self._procs_lock:
            self._procs.add(proc)
        try:
            try:
                out, _ = proc.communicate(timeout=timeout)
                conclusion = "success" if proc.returncode == 0 else "failure"
                suffix = ""
            except subprocess.TimeoutExpired:
                _kill_group(proc)
                out, _ = proc.communicate()
                conclusion, suffix = "timed_out", f"\n[killed after {timeout:g} s]"
            _kill_group(proc)  # reap anything the command left running in the background
        finally:
            with self._procs_lock:
                self._procs.discard(proc)
        text = out.decode(errors="replace") + suffix
        return conclusion, text[-OUTPUT_LIMIT:]

    def _complete(self, repo: Repo, run_id: int, conclusion: str, log: str) -> None:
        sim = self._sim
        with sim.state.lock:
            run = repo.check_runs[run_id]
            checks.update_run(
                sim.events,
                repo,
                run,
                sim.state.actions_bot,
                {
                    "conclusion": conclusion,
                    "output": {
                        "title": f"CI {conclusion}",
                        "summary": f"`{repo.ci_command}` finished: {conclusion}",
                        "text": log,
                    },
                },
            )


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
