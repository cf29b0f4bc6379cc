"""Choosing a runner, the bubblewrap probe, and the plain runner's refusals and warning."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from app.sandbox import (
    BubblewrapSandbox,
    SandboxSettings,
    SandboxUnavailable,
    SubprocessSandbox,
    UnsafeEnvironmentError,
    check_bubblewrap,
    default_readonly_paths,
    make_sandbox,
    plain,
)
from tests.sandbox.helpers import bubblewrap_problem


def test_the_probe_explains_a_missing_bwrap(tmp_path: Path) -> None:
    problem = check_bubblewrap(str(tmp_path / "no-such-bwrap"))
    assert problem is not None and "could not be started" in problem


def test_the_probe_explains_a_bwrap_that_fails() -> None:
    problem = check_bubblewrap("/bin/false")
    assert problem is not None and "cannot create a sandbox" in problem


def test_make_sandbox_uses_bubblewrap_when_it_works(tmp_path: Path) -> None:
    if bubblewrap_problem() is not None:
        pytest.skip(f"bubblewrap cannot run here: {bubblewrap_problem()}")
    sandbox = make_sandbox(tmp_path, SandboxSettings(SWARM_SANDBOX_PROCESSES=64))
    assert isinstance(sandbox, BubblewrapSandbox)
    assert sandbox.limits.processes == 64


def broken_bwrap(directory: Path) -> None:
    """A `bwrap` that fails as Docker's default seccomp profile makes the real one fail."""
    directory.mkdir()
    fake = directory / "bwrap"
    fake.write_text("#!/bin/sh\necho 'bwrap: No permissions to create new namespace' >&2\nexit 1\n")
    fake.chmod(0o755)


def test_without_bubblewrap_the_fallback_is_refused_by_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    broken_bwrap(tmp_path / "bin")
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}:/usr/bin:/bin")
    with pytest.raises(SandboxUnavailable) as refused:
        make_sandbox(tmp_path, SandboxSettings())
    message = str(refused.value)
    assert "No permissions to create new namespace" in message
    assert "seccomp=unconfined" in message and "SWARM_ALLOW_UNSANDBOXED" in message
    assert "\n" not in message


def test_the_operators_opt_in_runs_plain_subprocesses_only_without_secrets(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    broken_bwrap(tmp_path / "bin")
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}:/usr/bin:/bin")
    allowed = SandboxSettings(SWARM_ALLOW_UNSANDBOXED=True)
    assert isinstance(make_sandbox(tmp_path, allowed), SubprocessSandbox)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-not-for-agents")
    with pytest.raises(UnsafeEnvironmentError, match="OPENAI_API_KEY"):
        make_sandbox(tmp_path, allowed)


def test_default_read_only_paths_hold_the_interpreter_but_not_the_home_nor_etc() -> None:
    import sys

    paths = default_readonly_paths()
    assert Path("/usr") in paths and Path("/etc") not in paths
    assert Path.home() not in paths and Path("/") not in paths
    base = Path(sys.base_prefix)
    assert any(p == base or p in base.parents for p in paths)


@pytest.mark.parametrize("name", ["GITHUB_TOKEN", "OPENAI_API_KEY", "client_secret", "DB_PASSWORD"])
async def test_the_plain_runner_refuses_secret_looking_variables(tmp_path: Path, name: str) -> None:
    sandbox = SubprocessSandbox(tmp_path)
    with pytest.raises(UnsafeEnvironmentError, match=name):
        await sandbox.run("touch ran", env={name: "value"})
    assert not (tmp_path / "ran").exists()


async def test_the_plain_runner_passes_ordinary_variables(tmp_path: Path) -> None:
    result = await SubprocessSandbox(tmp_path).run('echo "$MODE"', env={"MODE": "ci"})
    assert result.output == "ci\n"


def test_the_plain_runner_warns_once_per_process(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(plain, "_warned", False)  # as in a fresh process
    with caplog.at_level(logging.WARNING, logger="app.sandbox.plain"):
        SubprocessSandbox(tmp_path)
        SubprocessSandbox(tmp_path)
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "NOT isolated" in warnings[0].getMessage()
