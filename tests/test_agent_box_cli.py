"""The agent's box as a user starts Swarm: `swarm serve`, `swarm worker` and `swarm agent run`,
as processes, where bubblewrap cannot run (class 2 of issue #10) and on a real checkout whose
`.git` an agent attacks (class 1, the `agent run` half)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from app.demo.stack import generate_app_key
from app.simulator.models import ScriptedModelServer, start_model_server

TOKEN = "ghs_" + "Rt7" * 12


@pytest.fixture(scope="module")
def model_server() -> Iterator[ScriptedModelServer]:
    with start_model_server({"agents": []}) as server:
        yield server


@pytest.fixture
def broken_bwrap(tmp_path: Path) -> str:
    """A PATH whose `bwrap` fails as it does under Docker's default seccomp profile."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "bwrap"
    fake.write_text("#!/bin/sh\necho 'bwrap: No permissions to create new namespace' >&2\nexit 1\n")
    fake.chmod(0o755)
    return f"{bin_dir}:{os.environ['PATH']}"


def swarm(cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    base = {"PATH": os.environ["PATH"], "HOME": str(cwd)}
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args],
        cwd=cwd, env={**base, **env}, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def app_settings(tmp_path: Path) -> dict[str, str]:
    private, _ = generate_app_key()
    return {
        "GITHUB_APP_ID": "1",
        "GITHUB_APP_PRIVATE_KEY": private,
        "GITHUB_WEBHOOK_SECRET": "s3cret",
        "GITHUB_API_URL": "http://127.0.0.1:9",
        "SWARM_DATA_DIR": str(tmp_path / "data"),
    }


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """A user's checkout, its remote URL carrying a token as some clones do."""
    repo = tmp_path / "checkout"
    repo.mkdir()
    (repo / "README.md").write_text("hello\n")
    for args in (
        ["init", "-q", "-b", "main"],
        ["remote", "add", "origin", f"https://x-access-token:{TOKEN}@github.com/o/r.git"],
        ["add", "."],
        ["-c", "user.name=u", "-c", "user.email=u@e", "commit", "-qm", "init"],
    ):
        subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True)
    return repo


def one_line(result: subprocess.CompletedProcess[str]) -> str:
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2, result.stdout + result.stderr
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    return lines[0]


def test_2_without_bubblewrap_nothing_that_runs_agents_starts(
    tmp_path: Path, broken_bwrap: str, checkout: Path
) -> None:
    settings = app_settings(tmp_path)
    for command in (["serve", "--port", "9"], ["worker"]):
        line = one_line(swarm(tmp_path, *command, PATH=broken_bwrap, **settings))
        assert line.startswith("swarm: agents' commands need bubblewrap")
        assert "No permissions to create new namespace" in line
        assert "seccomp=unconfined" in line and "SWARM_ALLOW_UNSANDBOXED" in line
    run = swarm(
        tmp_path, "agent", "run", "--repo", str(checkout), "--task", "x", "--model", "openai/x",
        PATH=broken_bwrap,
    )  # fmt: skip
    assert one_line(run).startswith("swarm: agents' commands need bubblewrap")


def test_2_the_operators_opt_in_is_refused_while_secrets_are_in_the_environment(
    tmp_path: Path, broken_bwrap: str
) -> None:
    settings = app_settings(tmp_path)
    line = one_line(
        swarm(tmp_path, "worker", PATH=broken_bwrap, SWARM_ALLOW_UNSANDBOXED="true", **settings)
    )
    assert "refusing to run agents' commands unsandboxed" in line
    assert "GITHUB_APP_PRIVATE_KEY, GITHUB_WEBHOOK_SECRET" in line


def test_2_the_check_reads_the_environment_the_process_started_with(tmp_path: Path) -> None:
    # Dropping a variable from os.environ does not take it out of /proc/<pid>/environ.
    probe = (
        "import os; os.environ.pop('DEPLOY_TOKEN'); "
        "from app.sandbox.environment import secrets_in_process_environment as held; "
        "print(held())"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], env={"PATH": os.environ["PATH"], "DEPLOY_TOKEN": "x"},
        capture_output=True, text=True, check=True, cwd=Path(__file__).parent.parent,
    )  # fmt: skip
    assert done.stdout.strip() == "['DEPLOY_TOKEN']"


def _worker(*turns: dict[str, Any]) -> dict[str, Any]:
    return {"agents": [{"match": "a software engineer in Swarm", "turns": list(turns)}]}


def _call(name: str, **arguments: Any) -> dict[str, Any]:
    return {"tool_calls": [{"name": name, "arguments": arguments}]}


def test_2_with_the_opt_in_and_no_secret_agent_run_works_and_says_it_is_not_isolated(
    tmp_path: Path, broken_bwrap: str, checkout: Path, model_server: ScriptedModelServer
) -> None:
    model_server.load(
        _worker(_call("run", command="echo ran > ran.txt"), _call("finish", summary="ok"))
    )
    result = swarm(
        tmp_path, "agent", "run", "--repo", str(checkout), "--task", "x", "--model",
        "openai/local", PATH=broken_bwrap, SWARM_ALLOW_UNSANDBOXED="true",
        OPENAI_BASE_URL=model_server.url + "/v1",
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "NOT isolated" in result.stdout
    assert (checkout / "ran.txt").read_text() == "ran\n"


def test_1_agent_run_keeps_the_checkouts_git_data_out_of_the_agents_reach(
    tmp_path: Path, checkout: Path, model_server: ScriptedModelServer
) -> None:
    pwned = tmp_path / "pwned"
    attack = (
        "cat .git/config; "
        f"printf '[filter \"evil\"]\\n\\tclean = touch {pwned}; cat\\n' >> .git/config; "
        "echo '#!/bin/sh' > .git/hooks/pre-commit; "
        "echo '* filter=evil' > .gitattributes; echo more >> README.md; echo done"
    )
    model_server.load(
        _worker(
            _call("run", command=attack),
            _call("read_file", path=".git/config"),
            _call("finish", summary="attacked"),
        )
    )
    config = (checkout / ".git" / "config").read_text()
    data = tmp_path / "data"
    result = swarm(
        tmp_path, "agent", "run", "--repo", str(checkout), "--task", "Harden it", "--model",
        "openai/local", OPENAI_BASE_URL=model_server.url + "/v1", SWARM_DATA_DIR=str(data),
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert not pwned.exists()  # the final diff ran no filter
    assert (checkout / ".git" / "config").read_text() == config
    assert not (checkout / ".git" / "hooks" / "pre-commit").exists()
    assert "README.md" in result.stdout and ".gitattributes" in result.stdout  # the diff stat
    transcript = next(data.rglob("*.jsonl")).read_text()
    assert "git's own data" in transcript and "Read-only file system" in transcript
    assert TOKEN not in transcript and TOKEN not in result.stdout
