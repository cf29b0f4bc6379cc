"""What only bubblewrap gives: nothing of the host but the allowed set, no network, no signal of
the sandbox's environment on the host's command lines, and a pid namespace nothing escapes."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from app.sandbox import BubblewrapSandbox
from tests.sandbox.helpers import (
    all_command_lines,
    pids_with_argument,
    skip_without_bubblewrap,
    unique_sleep_arg,
    wait_until,
)


@pytest.fixture
def host(tmp_path: Path) -> dict[str, Path]:
    """A worktree beside stand-ins for what must stay hidden: the swarm's data directory with its
    database, the git mirror, and another agent's worktree."""
    skip_without_bubblewrap()
    layout = {
        "worktree": tmp_path / "data" / "worktrees" / "mine",
        "database": tmp_path / "data" / "swarm.sqlite",
        "mirror": tmp_path / "data" / "mirrors" / "o" / "r.git" / "config",
        "other": tmp_path / "data" / "worktrees" / "other" / "secret.txt",
    }
    layout["worktree"].mkdir(parents=True)
    for name in ("database", "mirror", "other"):
        layout[name].parent.mkdir(parents=True, exist_ok=True)
        layout[name].write_text(f"host-only {name}\n")
    return layout


@pytest.fixture
async def listener() -> AsyncIterator[int]:
    """A real TCP server on the host's loopback; yields its port."""

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"HTTP/1.0 200 OK\r\nContent-Length: 7\r\n\r\nreached")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0)
    yield server.sockets[0].getsockname()[1]
    server.close()
    await server.wait_closed()


async def test_host_files_outside_the_allowed_set_are_invisible(host: dict[str, Path]) -> None:
    sandbox = BubblewrapSandbox(host["worktree"])
    for name in ("database", "mirror", "other"):
        result = await sandbox.run(f"cat {host[name]}")
        assert result.exit_code != 0, name
        assert "host-only" not in result.output
        assert "No such file or directory" in result.output


async def test_the_home_directory_is_not_visible(host: dict[str, Path]) -> None:
    home = Path.home()
    hidden = [p for p in home.iterdir() if p.name not in {".pyenv"}][:20]
    sandbox = BubblewrapSandbox(host["worktree"])
    for path in hidden:
        result = await sandbox.run(f"test -e {path}")
        assert result.exit_code == 1, f"{path} is visible in the sandbox"


async def test_the_system_is_read_only(host: dict[str, Path]) -> None:
    result = await BubblewrapSandbox(host["worktree"]).run("touch /usr/swarm-test")
    assert result.exit_code != 0
    assert "Read-only file system" in result.output
    assert not Path("/usr/swarm-test").exists()


async def test_the_running_interpreter_works_inside(host: dict[str, Path]) -> None:
    result = await BubblewrapSandbox(host["worktree"]).run("python -c 'import sys; print(2 + 2)'")
    assert result.output.strip() == "4"


async def test_loopback_and_outside_addresses_are_unreachable(
    host: dict[str, Path], listener: int
) -> None:
    sandbox = BubblewrapSandbox(host["worktree"])
    probe = (
        'python -c "import socket,sys; socket.create_connection((sys.argv[1], int(sys.argv[2])), '
        "timeout=5); print('connected')\""
    )
    local = await sandbox.run(f"{probe} 127.0.0.1 {listener}")
    assert local.exit_code != 0 and "connected" not in local.output
    assert "ConnectionRefusedError" in local.output  # a different loopback: nothing listens there
    outside = await sandbox.run(f"{probe} 203.0.113.1 80")  # TEST-NET-3
    assert outside.exit_code != 0 and "Network is unreachable" in outside.output
    curl = await sandbox.run(f"curl -sS --max-time 5 http://127.0.0.1:{listener}/")
    assert curl.exit_code != 0 and "reached" not in curl.output


async def test_network_true_shares_the_hosts_network(host: dict[str, Path], listener: int) -> None:
    # The counterpart of the test above: the same probe does reach the server when allowed.
    result = await BubblewrapSandbox(host["worktree"]).run(
        f"curl -sS --max-time 5 http://127.0.0.1:{listener}/", network=True
    )
    assert result.exit_code == 0 and result.output == "reached"


async def test_a_child_that_leaves_the_session_dies_with_the_sandbox(
    host: dict[str, Path],
) -> None:
    escaped = unique_sleep_arg()
    result = await BubblewrapSandbox(host["worktree"]).run(f"setsid sleep {escaped} & echo ok")
    assert result.output == "ok\n"
    assert await wait_until(lambda: not pids_with_argument(escaped))


async def test_host_processes_are_invisible(host: dict[str, Path]) -> None:
    result = await BubblewrapSandbox(host["worktree"]).run(
        f"test -e /proc/{os.getpid()} && echo visible || echo hidden"
    )
    assert result.output == "hidden\n"


async def test_explicit_variables_stay_off_the_hosts_command_lines(host: dict[str, Path]) -> None:
    marker = unique_sleep_arg()
    value = "agent-key-value-" + marker
    (host["worktree"] / "expected").write_text(value)  # so the command line does not hold it
    running = asyncio.create_task(
        BubblewrapSandbox(host["worktree"]).run(
            f'test "$AGENT_KEY" = "$(cat expected)" && sleep {marker}', env={"AGENT_KEY": value}
        )
    )
    # The sleep only starts if the variable reached the command; while it runs, no host process
    # (bwrap included) carries the value on its command line.
    assert await wait_until(lambda: bool(pids_with_argument(marker)))
    assert value.encode() not in all_command_lines()
    running.cancel()
    with pytest.raises(asyncio.CancelledError):
        await running


async def test_custom_read_only_paths_replace_the_default(host: dict[str, Path]) -> None:
    shared = host["database"].parent / "shared-ro"
    shared.mkdir()
    (shared / "tool.txt").write_text("shared tool\n")
    sandbox = BubblewrapSandbox(
        host["worktree"],
        readonly_paths=[Path("/usr"), Path("/bin"), Path("/lib"), Path("/lib64"), shared],
    )
    seen = await sandbox.run(f"cat {shared}/tool.txt; touch {shared}/x")
    assert "shared tool" in seen.output and "Read-only file system" in seen.output
    assert (await sandbox.run("test -e /sbin")).exit_code == 1


async def test_etc_holds_only_what_a_build_needs_read_only(host: dict[str, Path]) -> None:
    sandbox = BubblewrapSandbox(host["worktree"])
    seen = await sandbox.run(
        "ls -A /etc; ls /etc/ssl; test -e /etc/shadow || echo no-shadow; touch /etc/x; "
        "python -c 'import ssl, pwd, os; print(pwd.getpwuid(os.getuid()).pw_name)'"
    )
    names = set(seen.output.split())
    assert {"passwd", "group", "hosts", "ld.so.cache", "ssl", "certs", "no-shadow"} <= names
    assert not {"shadow", "gshadow", "sudoers", "ssh", "private", "subuid"} & names
    assert "Read-only file system" in seen.output
    assert seen.output.strip().endswith("swarm")  # the sandbox's own passwd names its user
    granted = BubblewrapSandbox(host["worktree"], etc_extra=["subuid"])
    assert (await granted.run("test -e /etc/subuid")).exit_code == 0
