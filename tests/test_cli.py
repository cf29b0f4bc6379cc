"""The `swarm` command as a user meets it: clear one-line errors, the documented commands."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest


def swarm(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), **env}
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args],
        cwd=tmp_path,  # no .env here
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({}, "swarm: GITHUB_APP_ID is not set (see README: Settings)"),
        ({"GITHUB_APP_ID": "twelve"}, "swarm: GITHUB_APP_ID is invalid"),
        (
            {"GITHUB_APP_ID": "1", "GITHUB_WEBHOOK_SECRET": "s"},
            "swarm: GITHUB_APP_PRIVATE_KEY is not set",
        ),
        (
            {"GITHUB_APP_ID": "1", "GITHUB_WEBHOOK_SECRET": "s", "GITHUB_APP_PRIVATE_KEY": "/no"},
            "swarm: GITHUB_APP_PRIVATE_KEY: neither PEM text nor a readable file",
        ),
        (
            {
                "GITHUB_APP_ID": "1",
                "GITHUB_WEBHOOK_SECRET": "s",
                "GITHUB_APP_PRIVATE_KEY": "/no",
                "GITHUB_API_URL": "ftp://x",
            },
            "swarm: GITHUB_API_URL is invalid",
        ),
    ],
)
def test_a_bad_setting_stops_serve_with_one_line(
    tmp_path: Path, env: dict[str, str], message: str
) -> None:
    result = swarm(tmp_path, "serve", **env)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(message), result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_the_documented_commands_exist(tmp_path: Path) -> None:
    result = swarm(tmp_path, "--help")
    assert result.returncode == 0
    for command in ("serve", "worker", "demo", "doctor", "agent", "simulator", "model-server"):
        assert command in result.stdout


def test_doctor_checks_models_database_and_the_app_against_github(tmp_path: Path) -> None:
    from app.demo.script import demo_script
    from app.demo.stack import LocalStack

    with LocalStack(root=tmp_path / "stack", script=demo_script()).start(start_swarm=False) as st:
        # The judge's provider without its key.
        env = {k: v for k, v in st.env.items() if k != "ANTHROPIC_API_KEY"}
        env["SWARM_JUDGE_MODEL"] = "anthropic/claude-sonnet-4-5"
        result = swarm(tmp_path, "doctor", **env)
        # A worker of the judge's family: the judge that runs is the other family's, and its
        # key is the one checked.
        same = swarm(tmp_path, "doctor", **{**env, "SWARM_WORKER_MODEL": "anthropic/scripted"})
    assert "ok   judge model: openai/gpt-5" in same.stdout.splitlines()
    lines = result.stdout.splitlines()
    assert "ok   GitHub App: swarm[bot] at http://127.0.0.1:" in "\n".join(lines)
    assert any(line.startswith("ok   database: sqlite:///") for line in lines)
    assert any(line.startswith("ok   worker model: openai/scripted") for line in lines)
    assert any(
        line.startswith("FAIL judge model:") and "ANTHROPIC_API_KEY" in line for line in lines
    )
    assert any(line.startswith("ok   sandbox: bubblewrap isolates commands (at most 512")
               for line in lines)  # fmt: skip
    as_root = [line for line in lines if line.startswith("warn user: Swarm runs as root")]
    assert len(as_root) == (1 if os.geteuid() == 0 else 0)
    assert result.returncode == 1  # one check failed, and the exit code says so
