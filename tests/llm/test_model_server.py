"""The scripted model server itself: scripts, agents and cursors, controls, validation, CLI."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from app.simulator.models import ScriptedModelServer, ScriptError, load_script, start_model_server
from app.simulator.models.cli import model_server_cli


def chat(system: str, user: str = "hi", **extra: Any) -> dict[str, Any]:
    messages = [{"role": "system", "content": system}, {"role": "user", "content": user}]
    return {"model": "gpt-5", "messages": messages, **extra}


def post(server: ScriptedModelServer, body: dict[str, Any]) -> httpx.Response:
    return httpx.post(server.url + "/v1/chat/completions", json=body, timeout=10)


def answer_text(response: httpx.Response) -> str:
    assert response.status_code == 200, response.text
    return str(response.json()["choices"][0]["message"]["content"])


TWO_AGENTS = {
    "agents": [
        {"name": "planner", "match": "planner", "turns": [{"text": "p1"}, {"text": "p2"}]},
        {"name": "worker", "match": "worker|planner", "turns": [{"text": "w1"}, {"text": "w2"}]},
    ]
}


def test_the_first_matching_agent_answers_and_each_agent_has_its_own_cursor(
    server: ScriptedModelServer,
) -> None:
    server.load(TWO_AGENTS)
    answers = [
        answer_text(post(server, chat("You are the planner."))),
        answer_text(post(server, chat("You are a worker."))),
        answer_text(post(server, chat("You are the planner."))),
        answer_text(post(server, chat("You are a worker."))),
    ]
    assert answers == ["p1", "w1", "p2", "w2"]
    records = server.requests()
    assert [(r["agent"], r["turn"]) for r in records] == [
        ("planner", 0),
        ("worker", 0),
        ("planner", 1),
        ("worker", 1),
    ]
    assert records[0]["format"] == "openai"
    assert records[0]["body"]["messages"][0]["content"] == "You are the planner."


def test_match_looks_at_the_first_user_message_too(server: ScriptedModelServer) -> None:
    server.load({"agents": [{"match": "task #12", "turns": [{"text": "on it"}]}]})
    assert answer_text(post(server, chat("You are a worker.", "Do task #12 please"))) == "on it"


def test_repeat_serves_a_turn_n_times_then_the_script_is_exhausted(
    server: ScriptedModelServer,
) -> None:
    server.load({"agents": [{"match": "worker", "turns": [{"repeat": 2, "text": "again"}]}]})
    texts = [answer_text(post(server, chat("worker"))) for _ in range(3)]
    assert texts == ["again", "again", "script exhausted"]
    assert [r["exhausted"] for r in server.requests()] == [False, False, True]


def test_a_request_no_agent_matches_is_refused_clearly(server: ScriptedModelServer) -> None:
    server.load(TWO_AGENTS)
    response = post(server, chat("You are the judge."))
    assert response.status_code == 400
    assert "no agent's `match`" in response.json()["error"]["message"]


def test_an_unmet_expect_is_refused_and_keeps_the_cursor(server: ScriptedModelServer) -> None:
    server.load(
        {"agents": [{"match": "worker", "turns": [{"expect": "tests pass", "text": "done"}]}]}
    )
    refused = post(server, chat("worker", "tests fail"))
    assert refused.status_code == 400
    assert "/tests pass/" in refused.json()["error"]["message"]
    assert answer_text(post(server, chat("worker", "tests pass"))) == "done"


def test_controls_over_http_load_list_and_reset(server: ScriptedModelServer) -> None:
    loaded = httpx.post(server.url + "/_script/load", json=TWO_AGENTS)
    assert loaded.status_code == 200
    assert answer_text(post(server, chat("planner"))) == "p1"
    listed = httpx.get(server.url + "/_script/requests").json()
    assert [(r["agent"], r["turn"], r["status"]) for r in listed] == [("planner", 0, 200)]

    assert httpx.post(server.url + "/_script/reset").status_code == 200
    assert httpx.get(server.url + "/_script/requests").json() == []
    assert answer_text(post(server, chat("planner"))) == "p1"  # cursors went back to the start

    bad = httpx.post(server.url + "/_script/load", json={"agents": [{"turns": []}]})
    assert bad.status_code == 400
    assert "agents[0].match" in bad.json()["error"]


def test_scripted_errors_carry_the_retry_headers(server: ScriptedModelServer) -> None:
    server.load(
        {
            "agents": [
                {"match": "w", "turns": [{"error": {"status": 429, "retry_after": 0.25}}]},
            ]
        }
    )
    response = post(server, chat("w"))
    assert response.status_code == 429
    assert response.headers["retry-after-ms"] == "250"
    assert response.json()["error"]["type"] == "requests"


def test_unanswered_tool_calls_are_refused_like_the_real_apis(
    server: ScriptedModelServer,
) -> None:
    server.load({"agents": [{"match": "w", "turns": [{"repeat": 3, "text": "ok"}]}]})
    call = {"id": "call_1", "type": "function", "function": {"name": "f", "arguments": "{}"}}
    body = chat("w")
    body["messages"] += [
        {"role": "assistant", "content": None, "tool_calls": [call]},
        {"role": "user", "content": "and?"},
    ]
    refused = post(server, body)
    assert refused.status_code == 400
    assert "call_1" in refused.json()["error"]["message"]

    anthropic_body = {
        "model": "claude-sonnet-4-6",
        "max_tokens": 10,
        "system": "w",
        "messages": [
            {"role": "user", "content": "hi"},
            {"role": "assistant", "content": [{"type": "tool_use", "id": "t1", "name": "f"}]},
            {"role": "user", "content": "and?"},
        ],
    }
    refused = httpx.post(server.url + "/v1/messages", json=anthropic_body)
    assert refused.status_code == 400
    assert refused.json()["error"]["type"] == "invalid_request_error"
    assert "t1" in refused.json()["error"]["message"]


def test_more_than_four_cache_marks_are_refused(server: ScriptedModelServer) -> None:
    server.load({"agents": [{"match": "w", "turns": [{"text": "ok"}]}]})
    marked = {"type": "text", "text": "x", "cache_control": {"type": "ephemeral"}}
    body = {
        "model": "claude-sonnet-4-6",
        "max_tokens": 10,
        "system": [{"type": "text", "text": "w", "cache_control": {"type": "ephemeral"}}],
        "messages": [{"role": "user", "content": [marked] * 4}],
    }
    refused = httpx.post(server.url + "/v1/messages", json=body)
    assert refused.status_code == 400
    assert "Found 5" in refused.json()["error"]["message"]


@pytest.mark.parametrize(
    ("script", "message"),
    [
        ({"agents": [{"match": "(", "turns": []}]}, "agents[0].match: not a valid regex"),
        ({"agents": [{"match": "a", "turns": [{"txt": "hi"}]}]}, "unknown key 'txt'"),
        (
            [{"match": "a", "turns": [{"tool_calls": [{"name": "f", "arguments": [1]}]}]}],
            "agents[0].turns[0].tool_calls[0].arguments",
        ),
        ([{"match": "a", "turns": [{"error": {"status": 200}}]}], "HTTP error status"),
        ([{"match": "a", "turns": [{"stop": "length"}]}], "stop: must be 'max_tokens'"),
        ([{"match": "a", "turns": [{"repeat": 0}]}], "repeat: must be a positive integer"),
        ({"agent": []}, "a script is a list of agents"),
    ],
)
def test_invalid_scripts_say_where_and_why(script: Any, message: str) -> None:
    with pytest.raises(ScriptError) as caught:
        load_script(script)
    assert message in str(caught.value)


def test_a_yaml_script_file_starts_a_server(tmp_path: Path) -> None:
    path = tmp_path / "script.yaml"
    path.write_text("- match: worker\n  turns:\n    - text: from yaml\n")
    with start_model_server(path) as server:
        assert answer_text(post(server, chat("worker"))) == "from yaml"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(condition: Callable[[], bool], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    tick = threading.Event()
    while time.monotonic() < deadline:
        if condition():
            return True
        tick.wait(0.02)
    return False


def test_the_cli_serves_a_script_file(tmp_path: Path) -> None:
    path = tmp_path / "script.json"
    path.write_text('{"agents": [{"match": "worker", "turns": [{"text": "from the cli"}]}]}')
    port = free_port()
    code = "from app.simulator.models import model_server_cli; model_server_cli()"
    args = [sys.executable, "-c", code, "--script", str(path), "--port", str(port)]
    process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"

    def up() -> bool:
        try:
            return httpx.get(url + "/_script/requests").status_code == 200
        except httpx.TransportError:
            return False

    try:
        assert wait_for(up, 20), "the CLI's server did not come up"
        response = httpx.post(url + "/v1/chat/completions", json=chat("worker"))
        assert answer_text(response) == "from the cli"
    finally:
        process.terminate()
        process.wait(timeout=10)
        assert process.stdout is not None
        process.stdout.close()


def test_the_cli_rejects_an_invalid_script(tmp_path: Path) -> None:
    path = tmp_path / "script.yaml"
    path.write_text("- match: worker\n  turns: [{speak: hi}]\n")
    result = CliRunner().invoke(model_server_cli, ["--script", str(path)])
    assert result.exit_code != 0
    assert "unknown key 'speak'" in result.output
