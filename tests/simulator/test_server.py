"""The simulator's lifecycle: settle(), clean shutdown, and the standalone command."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
from pathlib import Path

import httpx

from app.simulator.github.control import SimulatorControl
from app.simulator.github.server import SimulatorConfig, start_simulator
from tests.simulator.conftest import World
from tests.simulator.support import Worktree, wait_until, with_token


def test_settle_waits_for_running_ci(world: World, tmp_path: Path) -> None:
    release = tmp_path / "release"
    started = tmp_path / "started"
    world.control.create_repo(
        "octo",
        "gated",
        ci_command=f"touch {started}; while [ ! -e {release} ]; do sleep 0.02; done",
    )
    url = with_token(f"{world.sim.url}/octo/gated.git", world.owner.token)
    work = Worktree.clone(url, tmp_path / "gated")
    work.commit({"a.txt": "a\n"}, "a")
    work.push("main")
    wait_until(started.exists)
    assert world.control.idle()["ci_running"] == 1
    assert world.control.settle(timeout=0.2) is False  # the job cannot end before the release
    release.touch()
    assert world.control.settle(timeout=30) is True
    assert world.control.idle() == {
        "idle": True,
        "pending_deliveries": 0,
        "ci_running": 0,
        "mergeability_pending": 0,
    }


def test_stopping_leaves_no_threads_or_port_behind(tmp_path: Path) -> None:
    before = {t.name for t in threading.enumerate()}
    running = start_simulator(SimulatorConfig(data_dir=tmp_path / "gh"))
    with SimulatorControl(running.url) as control:
        assert control.idle()["idle"] is True
    port = running.port
    running.stop()
    leftovers = {t.name for t in threading.enumerate()} - before
    assert not {n for n in leftovers if n.startswith("sim-")}
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", port))  # the port is free again


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_standalone_command_serves_the_simulator(tmp_path: Path) -> None:
    port = _free_port()
    code = "from app.simulator.github.cli import simulator_cli; simulator_cli()"
    proc = subprocess.Popen(
        [sys.executable, "-c", code, "--port", str(port), "--data-dir", str(tmp_path / "gh")],
        cwd=Path(__file__).resolve().parents[2],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"

    def up() -> bool:
        try:
            return httpx.get(f"{url}/_sim/idle", timeout=1).status_code == 200
        except httpx.TransportError:
            return False

    try:
        wait_until(lambda: up() or proc.poll() is not None, timeout=30)
        assert proc.poll() is None, proc.communicate()[0].decode()
        with SimulatorControl(url) as control:
            user = control.create_user("octo")
            repo = control.create_repo("octo", "demo")
        assert repo.clone_url == f"{url}/octo/demo.git"
        answer = httpx.get(
            f"{url}/repos/octo/demo", headers={"Authorization": f"token {user.token}"}
        )
        assert answer.json()["full_name"] == "octo/demo"
    finally:
        proc.terminate()
        proc.communicate(timeout=30)
