"""Transcripts on disk: written per turn, read back, summarised for a fresh agent."""

from __future__ import annotations

from pathlib import Path

from app.agent.inbox import MemoryInbox
from app.agent.names import agent_name
from app.agent.transcript import Transcript, load_transcript
from app.clock import ManualClock
from tests.agent.helpers import make_agent
from tests.agent.scripted import FileToolbox, ScriptedModel, call, reply


async def test_a_run_is_loaded_back_and_summarised_for_resume(tmp_path: Path) -> None:
    inbox = MemoryInbox()
    inbox.push("also update the docs", sender="@carol")
    (tmp_path / "README.md").write_text("readme")
    model = ScriptedModel([
        reply(call("read_file", path="README.md"), text="Reading first."),
        reply(call("write_file", path="app.py", content="x = 1\n")),
        reply(call("run", command="pytest -q"), text="Tests next."),
        reply(call("run", command="pytest -q")),
    ])  # fmt: skip
    agent = make_agent(model, FileToolbox(tmp_path), tmp_path, inbox=inbox, max_turns=4)
    outcome = await agent.run("Add app.py")

    log = load_transcript(tmp_path / "transcript.jsonl")

    assert log.task == "Add app.py"
    assert log.outcome is not None and log.outcome["status"] == outcome.status
    assert log.outcome["usage"]["input_tokens"] == outcome.usage.input_tokens
    messages = log.messages()
    assert messages[:2] == agent.history[:2]
    assert [m.role for m in messages].count("assistant") == 4
    assert sum(r["kind"] == "response" for r in log.records) == 4
    summary = log.summary_for_resume()
    assert "amber-otter-worker" in summary and "for 4 turns" in summary
    assert "ended budget_exhausted: turn limit reached (4 of 4 turns)" in summary
    assert "Files changed: app.py." in summary and "Files read: README.md." in summary
    assert "Commands run (2, latest last): pytest -q; pytest -q" in summary
    assert "Received: Message from @carol: <github-comment id=" in summary
    assert "also update the docs </github-comment id=" in summary
    assert "Last remark: Tests next." in summary
    assert "git diff" in summary


async def test_a_torn_last_line_is_ignored_and_a_missing_outcome_is_said(tmp_path: Path) -> None:
    model = ScriptedModel([reply(call("run", command="ls"))])
    await make_agent(model, FileToolbox(tmp_path), tmp_path, max_turns=1).run("t")
    path = tmp_path / "transcript.jsonl"
    lines = path.read_text().splitlines()
    path.write_text("\n".join(lines[:-1]) + '\n{"kind": "outc')  # killed mid-write

    log = load_transcript(path)

    assert log.outcome is None and log.task == "t"
    assert "stopped without an outcome" in log.summary_for_resume()


def test_names_are_readable_and_deterministic() -> None:
    name = agent_name("task:octo/repo#12", "worker")
    assert name == agent_name("task:octo/repo#12", "worker")
    adjective, animal, role = name.split("-")
    assert role == "worker" and adjective.isalpha() and animal.isalpha()
    names = {agent_name(f"task:octo/repo#{i}", "worker") for i in range(200)}
    assert len(names) > 150  # 4,096 combinations: collisions are rare
    assert agent_name("x", "judge").endswith("-judge")


def test_records_are_stamped_by_the_transcripts_clock(tmp_path: Path) -> None:
    clock = ManualClock(at=1_800_000_000.0)
    transcript = Transcript(tmp_path / "t.jsonl", clock=clock)
    transcript.record("note", text="first")
    clock.advance(90)
    transcript.record("note", text="later")
    transcript.close()
    stamps = [r["at"] for r in load_transcript(tmp_path / "t.jsonl").records]
    assert stamps == [1_800_000_000.0, 1_800_000_090.0]
