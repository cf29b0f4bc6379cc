"""Choosing a runner, the bubblewrap probe, and the plain runner's refusals and warning."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from app.sandbox import (
    BubblewrapSandbox,
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


def test_make_sandbox_prefers_bubblewrap_when_it_works(tmp_path: Path) -> None:
    sandbox = make_sandbox(tmp_path)
    expected = "bubblewrap" if bubblewrap_problem() is None else "subprocess"
    assert sandbox.kind == expected


def test_make_sandbox_honours_an_explicit_choice(tmp_path: Path) -> None:
    assert isinstance(make_sandbox(tmp_path, prefer="subprocess"), SubprocessSandbox)
    if bubblewrap_problem() is None:
        sandbox = make_sandbox(tmp_path, prefer="bubblewrap", readonly_paths=[Path("/usr")])
        assert isinstance(sandbox, BubblewrapSandbox)
        assert sandbox.readonly_paths == [Path("/usr")]
    with pytest.raises(ValueError, match="prefer must be one of"):
        make_sandbox(tmp_path, prefer="docker")


def test_default_read_only_paths_hold_the_interpreter_but_not_the_home() -> None:
    import sys

    paths = default_readonly_paths()
    assert Path("/usr") in paths and Path("/etc") in paths
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
