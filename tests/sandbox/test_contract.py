"""The contract both runners keep: working directory, scrubbed environment, time and output limits,
and no process outliving its command."""

from __future__ import annotations

import asyncio
import os
import tracemalloc
from pathlib import Path

import pytest

from app.sandbox import UnsafeEnvironmentError
from tests.sandbox.helpers import (
    RUNNERS,
    make_runner,
    pids_with_argument,
    unique_sleep_arg,
    wait_until,
)

pytestmark = pytest.mark.parametrize("kind", RUNNERS)


@pytest.fixture
def worktree(tmp_path: Path) -> Path:
    path = tmp_path / "worktree"
    path.mkdir()
    (path / "hello.txt").write_text("hello from the worktree\n")
    return path


async def test_runs_in_the_worktree_and_reports_the_exit_code(kind: str, worktree: Path) -> None:
    sandbox = make_runner(kind, worktree)
    result = await sandbox.run("pwd; cat hello.txt; echo oops >&2; exit 3")
    assert sandbox.kind == kind
    assert result.exit_code == 3
    assert not result.timed_out and not result.truncated
    assert result.output.splitlines() == [str(worktree), "hello from the worktree", "oops"]


async def test_writes_in_the_worktree_reach_the_host(kind: str, worktree: Path) -> None:
    result = await make_runner(kind, worktree).run("mkdir -p out && echo built > out/file")
    assert result.exit_code == 0
    assert (worktree / "out" / "file").read_text() == "built\n"


async def test_a_token_in_the_parent_environment_is_not_visible(
    kind: str, worktree: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", "ghs_parentsecret0123456789")
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-parentsecret")
    if kind == "subprocess":  # unisolated, it could read them: it refuses to run at all
        with pytest.raises(UnsafeEnvironmentError, match="ANTHROPIC_API_KEY, GITHUB_TOKEN"):
            make_runner(kind, worktree)
        return
    result = await make_runner(kind, worktree).run("env", env={"BUILD_MODE": "ci"})
    assert result.exit_code == 0
    assert "parentsecret" not in result.output
    names = {line.split("=", 1)[0] for line in result.output.splitlines() if "=" in line}
    # Only the scrubbed set, the explicit variable, and what the shell itself sets.
    shell = {"PWD", "SHLVL", "_", "OLDPWD"}
    assert names <= {"PATH", "HOME", "LANG", "TERM", "USER", "BUILD_MODE", *shell}
    assert "BUILD_MODE=ci" in result.output
    assert "TERM=dumb" in result.output


async def test_home_is_a_writable_directory_that_is_not_the_real_home(
    kind: str, worktree: Path
) -> None:
    result = await make_runner(kind, worktree).run('echo x > "$HOME/.rc" && echo "$HOME"')
    assert result.exit_code == 0
    home = result.output.strip()
    assert home and Path(home) != Path.home()


async def test_a_command_that_never_ends_is_killed_with_its_disowned_child(
    kind: str, worktree: Path
) -> None:
    child, parent = unique_sleep_arg(), unique_sleep_arg()
    sandbox = make_runner(kind, worktree)
    running = asyncio.create_task(
        sandbox.run(f"sleep {child} & disown; sleep {parent}", timeout_s=3)
    )
    # The disowned child really started (so its absence afterwards means it was killed).
    assert await wait_until(lambda: bool(pids_with_argument(child)))
    result = await running
    assert result.timed_out
    assert result.exit_code is None
    assert await wait_until(
        lambda: not pids_with_argument(child) and not pids_with_argument(parent)
    )


async def test_a_background_child_does_not_outlive_a_command_that_exits(
    kind: str, worktree: Path
) -> None:
    child = unique_sleep_arg()
    result = await make_runner(kind, worktree).run(
        f"sleep {child} & disown; echo started", timeout_s=60
    )
    assert result.exit_code == 0 and not result.timed_out
    assert result.output == "started\n"
    assert await wait_until(lambda: not pids_with_argument(child))


async def test_cancelling_the_caller_kills_the_command(kind: str, worktree: Path) -> None:
    marker = unique_sleep_arg()
    running = asyncio.create_task(make_runner(kind, worktree).run(f"sleep {marker}"))
    assert await wait_until(lambda: bool(pids_with_argument(marker)))
    running.cancel()
    with pytest.raises(asyncio.CancelledError):
        await running
    assert await wait_until(lambda: not pids_with_argument(marker))


async def test_printing_100_mb_comes_back_capped_with_memory_bounded(
    kind: str, worktree: Path
) -> None:
    total = 100_000_000
    sandbox = make_runner(kind, worktree, output_cap=65536)
    tracemalloc.start()
    try:
        result = await sandbox.run(
            f"printf start; yes | head -c {total}; printf end", timeout_s=120
        )
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert result.exit_code == 0
    assert result.truncated
    dropped = total + len("start") + len("end") - 65536
    assert f"[... {dropped} bytes of output dropped" in result.output
    assert result.output.startswith("starty\n") and result.output.endswith("y\nend")
    assert len(result.output) < 65536 + 200
    assert peak < 8 * 1024 * 1024, f"peak Python memory {peak} bytes while reading 100 MB"


async def test_the_default_timeout_applies_when_none_is_given(kind: str, worktree: Path) -> None:
    sandbox = make_runner(kind, worktree, default_timeout_s=1)
    result = await sandbox.run(f"sleep {unique_sleep_arg()}")
    assert result.timed_out


async def test_the_worktree_must_exist(kind: str, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="not a directory"):
        make_runner(kind, tmp_path / "missing")


async def test_the_runner_does_not_change_the_callers_environment(
    kind: str, worktree: Path
) -> None:
    before = dict(os.environ)
    await make_runner(kind, worktree).run("true", env={"BUILD_MODE": "ci"})
    assert dict(os.environ) == before
