"""The whole worker: real SDKs against the scripted model server, real tools, sandbox and git."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from app.agent.inbox import MemoryInbox
from app.agent.loop import AgentConfig
from app.agent.transcript import load_transcript
from app.roles.local import (
    ModelNotConfigured,
    agent_cli,
    resolve_model_spec,
    run_local_worker,
)
from app.simulator.models import ScriptedModelServer, start_model_server

MATCH = r"-worker, a software engineer in Swarm"
TASK = "Fix add() in calc.py: it subtracts."


def call(name: str, **arguments: Any) -> dict[str, Any]:
    return {"name": name, "arguments": arguments}


WORKER_TURNS: list[dict[str, Any]] = [
    {"expect": "keep the signature of add()", "text": "Looking around.",
     "tool_calls": [call("list_files")]},
    {"expect": "calc.py", "tool_calls": [call("read_file", path="calc.py")]},
    {"stop": "max_tokens", "tool_calls": [call("write_file", path="calc.py", content="BROKEN")]},
    {"expect": "cut off", "tool_calls": [{"name": "replace", "raw_arguments": '{"path": "calc'}]},
    {"expect": "malformed", "tool_calls": [
        call("replace", path="calc.py", old="return a - b", new="return a + b"),
        call("write_file", path="NOTES.md", content="add() fixed\n"),
    ]},
    {"tool_calls": [call("run", command="python3 -m unittest -q 2>&1")]},
    {"expect": "Ran 1 test", "tool_calls": [call("finish", summary="Fixed add(); tests pass.")]},
]  # fmt: skip


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), *args], check=True, capture_output=True, text=True
    ).stdout


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    (root / "calc.py").write_text("def add(a, b):\n    return a - b\n")
    (root / "test_calc.py").write_text(
        "import unittest\n\nfrom calc import add\n\n\n"
        "class T(unittest.TestCase):\n"
        "    def test_add(self):\n        self.assertEqual(add(2, 3), 5)\n"
    )
    (root / "AGENTS.md").write_text("Run the tests with python3 -m unittest.\n")
    git(root, "init", "-q", "-b", "main")
    git(root, "add", ".")
    git(root, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "init")
    return root


@pytest.fixture(scope="module")
def server() -> Iterator[ScriptedModelServer]:
    with start_model_server({"agents": []}) as running:
        yield running


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
async def test_a_worker_edits_a_real_repository_through_each_sdk(
    repo: Path, tmp_path: Path, server: ScriptedModelServer, provider: str
) -> None:
    server.load({"agents": [{"name": "worker", "match": MATCH, "turns": WORKER_TURNS}]})
    inbox = MemoryInbox()
    inbox.push("keep the signature of add()", sender="@alice")
    url = server.url + "/v1" if provider == "openai" else server.url
    model = "gpt-5" if provider == "openai" else "claude-sonnet-4-6"

    outcome = await run_local_worker(
        repo, TASK, f"{provider}/{model}", api_key="test-key", base_url=url, inbox=inbox,
        transcript_path=tmp_path / "t.jsonl", config=AgentConfig(max_turns=20),
    )  # fmt: skip

    records = server.requests()
    assert [r["status"] for r in records] == [200] * 7, [r["error"] for r in records]
    assert (outcome.status, outcome.summary) == ("finished", "Fixed add(); tests pass.")
    assert outcome.turns == 7 and outcome.usage.input_tokens > 0
    assert (repo / "calc.py").read_text() == "def add(a, b):\n    return a + b\n"  # not BROKEN
    assert (repo / "NOTES.md").read_text() == "add() fixed\n"
    assert "return a + b" in git(repo, "diff")
    # The repository's AGENTS.md reached the system prompt; the task is in the first message.
    assert "Run the tests with python3 -m unittest." in str(records[0]["body"])
    log = load_transcript(tmp_path / "t.jsonl")
    assert log.outcome is not None and log.outcome["status"] == "finished"
    assert "calc.py" in log.digest().files_changed


def test_the_cli_prints_each_call_the_summary_and_the_diff(
    repo: Path, tmp_path: Path, server: ScriptedModelServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    turns = [
        {"tool_calls": [call("write_file", path="hello.txt", content="hi\n")]},
        {"tool_calls": [call("replace", path="calc.py", old="a - b", new="a + b")]},
        {"tool_calls": [call("finish", summary="Said hi and fixed add.")]},
    ]
    server.load({"agents": [{"match": MATCH, "turns": turns}]})
    monkeypatch.setenv("SWARM_WORKER_MODEL", "openai/gpt-5")
    monkeypatch.setenv("OPENAI_API_KEY", "test-key")
    monkeypatch.setenv("OPENAI_BASE_URL", server.url + "/v1")
    monkeypatch.setenv("SWARM_DATA_DIR", str(tmp_path / "data"))

    result = CliRunner().invoke(agent_cli, ["run", "--repo", str(repo), "--task", "Say hi"])

    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert any("turn   1 write_file path=hello.txt content=hi⏎" in line for line in lines)
    assert any("turn   2 replace path=calc.py old=a - b new=a + b" in line for line in lines)
    assert "finished after 3 turns" in result.output
    assert "Summary: Said hi and fixed add." in result.output
    assert "calc.py   | 2 +-" in result.output and "hello.txt | 1 +" in result.output
    assert list((tmp_path / "data" / "transcripts").glob("*-worker.jsonl"))


def test_the_cli_says_how_to_name_a_model_when_none_is_set(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SWARM_WORKER_MODEL", raising=False)

    result = CliRunner().invoke(agent_cli, ["run", "--repo", str(repo), "--task", "x"])

    assert result.exit_code == 2
    assert "set SWARM_WORKER_MODEL" in result.output and "--model" in result.output


def test_the_model_comes_from_the_option_then_the_environment() -> None:
    assert resolve_model_spec("anthropic/x", {"SWARM_WORKER_MODEL": "openai/y"}) == "anthropic/x"
    assert resolve_model_spec(None, {"SWARM_WORKER_MODEL": "openai/y"}) == "openai/y"
    with pytest.raises(ModelNotConfigured):
        resolve_model_spec(None, {})
