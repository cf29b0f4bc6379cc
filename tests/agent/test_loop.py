"""The agent loop against a scripted model and a small real toolbox."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from app.agent.inbox import InboxMessage, MemoryInbox
from app.agent.loop import CUT_OFF
from app.agent.transcript import load_transcript
from app.llm.types import ContextWindowExceeded, Message, ModelError, ModelResponse
from tests.agent.helpers import SYSTEM, assert_paired, make_agent
from tests.agent.scripted import FileToolbox, ScriptedModel, Turn, bad_call, call, reply


def tool_results(messages: list[Message]) -> list[Message]:
    return [m for m in messages if m.role == "tool"]


async def test_multi_turn_run_edits_files_and_finishes(tmp_path: Path) -> None:
    model = ScriptedModel([
        reply(call("write_file", path="hello.py", content="print('hi')\n"), text="Writing."),
        reply(call("read_file", path="hello.py"), call("run", command="python hello.py")),
        reply(call("finish", summary="Added hello.py; ran it.")),
    ])  # fmt: skip
    tools = FileToolbox(tmp_path)
    agent = make_agent(model, tools, tmp_path)

    outcome = await agent.run("Add hello.py")

    assert outcome.status == "finished"
    assert outcome.summary == "Added hello.py; ran it."
    assert outcome.turns == 3
    assert (tmp_path / "hello.py").read_text() == "print('hi')\n"
    assert [name for name, _ in tools.calls] == ["write_file", "read_file", "run"]
    # The second request carries the result of the first call, the third the read file.
    assert tool_results(model.requests[1])[-1].content.startswith("wrote hello.py")
    assert "print('hi')" in tool_results(model.requests[2])[-2].content
    assert outcome.usage.input_tokens > 0 and outcome.usage.output_tokens == 60
    for request in model.requests:
        assert_paired(request)


async def test_every_request_states_the_budget_at_its_end_behind_a_stable_prefix(
    tmp_path: Path,
) -> None:
    model = ScriptedModel([reply(call("run", command="ls")) for _ in range(3)])
    agent = make_agent(model, FileToolbox(tmp_path), tmp_path, max_turns=3)

    await agent.run("List the files")

    notes = [request[-1].content for request in model.requests]
    assert "[Budget left: 3 turns" in notes[0] and "[Budget left: 1 turns" in notes[2]
    assert all("run the tests before you call finish" in note for note in notes)
    assert "This is your last turn" in notes[2] and "last turn" not in notes[1]
    # Each request extends the previous one byte for byte: a stable prefix for the cache.
    for before, after in zip(model.requests, model.requests[1:], strict=False):
        assert after[: len(before)] == before
    assert model.requests[0][0] == Message(role="system", content=SYSTEM)


async def test_a_call_cut_off_by_the_output_limit_is_not_run(tmp_path: Path) -> None:
    cut = call("write_file", path="big.py", content="x = 1")
    model = ScriptedModel([
        reply(cut, stop="max_tokens"),
        reply(call("finish", summary="done")),
    ])  # fmt: skip
    tools = FileToolbox(tmp_path)

    outcome = await make_agent(model, tools, tmp_path, max_output_tokens=321).run("task")

    assert outcome.status == "finished"
    assert tools.calls == []
    assert not (tmp_path / "big.py").exists()
    answer = tool_results(model.requests[1])[-1]
    assert answer.tool_call_id == cut.id and answer.is_error
    assert answer.content.startswith(CUT_OFF)
    assert model.max_tokens == [321, 321]


async def test_a_cut_off_answer_without_calls_is_answered_with_a_note(tmp_path: Path) -> None:
    model = ScriptedModel(
        [reply(text="Let me expl", stop="max_tokens"), reply(call("finish", summary="ok"))]
    )

    outcome = await make_agent(model, FileToolbox(tmp_path), tmp_path).run("task")

    assert outcome.status == "finished"
    assert model.requests[1][-1].role == "user"
    assert model.requests[1][-1].content.startswith(CUT_OFF)


async def test_malformed_and_unknown_calls_are_answered_not_run(tmp_path: Path) -> None:
    malformed = bad_call("write_file", '{"path": "a.py", "content": ', "unterminated JSON")
    unknown = call("delete_everything", path=".")
    missing = call("write_file", path="a.py")
    model = ScriptedModel([
        reply(malformed, unknown, missing),
        reply(call("finish", summary="gave up")),
    ])  # fmt: skip
    tools = FileToolbox(tmp_path)

    outcome = await make_agent(model, tools, tmp_path).run("task")

    assert tools.calls == []
    answers = {m.tool_call_id: m for m in tool_results(model.requests[1])}
    assert "malformed (unterminated JSON)" in answers[malformed.id].content
    assert "no tool named 'delete_everything'" in answers[unknown.id].content
    assert "write_file, read_file, run, finish" in answers[unknown.id].content
    assert "needs the argument(s) content" in answers[missing.id].content
    assert all(answer.is_error for answer in answers.values())
    assert outcome.status == "finished"
    assert_paired(model.requests[1])


async def test_consecutive_malformed_answers_end_the_run_with_error(tmp_path: Path) -> None:
    model = ScriptedModel([
        reply(bad_call("run", "{")),
        reply(call("nope")),
        reply(call("run", command="make")),  # a good one resets the count
        reply(bad_call("run", "{")),
        reply(text="I think I am done."),
        reply(call("run")),
        reply(call("finish", summary="never reached")),
    ])  # fmt: skip
    tools = FileToolbox(tmp_path)

    outcome = await make_agent(model, tools, tmp_path, max_consecutive_malformed=3).run("t")

    assert outcome.status == "error"
    assert outcome.reason == "3 malformed answers in a row"
    assert outcome.turns == 6
    assert tools.calls == [("run", {"command": "make"})]
    assert "without calling a tool" in model.requests[5][-1].content


async def test_finish_ends_the_loop_and_later_calls_in_the_answer_do_not_run(
    tmp_path: Path,
) -> None:
    last = call("run", command="rm -rf .")
    model = ScriptedModel(
        [reply(call("run", command="pytest"), call("finish", summary="ok"), last)]
    )
    tools = FileToolbox(tmp_path)
    agent = make_agent(model, tools, tmp_path)

    outcome = await agent.run("task")

    assert outcome.status == "finished" and outcome.reason == "the agent called finish"
    assert tools.calls == [("run", {"command": "pytest"})]
    assert agent.history[-1].content == "Not run: the run had already finished."
    assert_paired(agent.history)


async def test_a_redirect_pushed_mid_run_is_in_the_very_next_request(tmp_path: Path) -> None:
    inbox = MemoryInbox()

    def on_call(name: str) -> None:
        if name == "read_file":  # the maintainer comments while the second turn's tool runs
            inbox.push("use tabs, not spaces", sender="@alice")

    model = ScriptedModel([
        reply(call("run", command="ls")),
        reply(call("read_file", path="x")),
        reply(call("finish", summary="ok")),
    ])  # fmt: skip
    agent = make_agent(model, FileToolbox(tmp_path, on_call), tmp_path, inbox=inbox)

    await agent.run("task")

    redirect = InboxMessage("use tabs, not spaces", "@alice").render()
    assert "Message from @alice:\n<github-comment" in redirect
    assert not any("use tabs" in m.content for r in model.requests[:2] for m in r)
    third = model.requests[2]
    assert third[-1].role == "user" and third[-1].content.startswith(redirect)
    assert third[-2].role == "tool"  # after the answers to the previous turn's calls
    assert_paired(third)


async def test_turn_limit_ends_the_run_before_another_model_call(tmp_path: Path) -> None:
    model = ScriptedModel([reply(call("run", command="ls")) for _ in range(5)])

    outcome = await make_agent(model, FileToolbox(tmp_path), tmp_path, max_turns=2).run("t")

    assert outcome.status == "budget_exhausted"
    assert outcome.reason == "turn limit reached (2 of 2 turns)"
    assert len(model.requests) == 2


async def test_token_budget_ends_the_run(tmp_path: Path) -> None:
    model = ScriptedModel([reply(call("run", command="ls"), tokens=600) for _ in range(5)])

    outcome = await make_agent(model, FileToolbox(tmp_path), tmp_path, max_tokens_total=1000).run(
        "t"
    )

    assert outcome.status == "budget_exhausted"
    assert outcome.reason == "token budget spent (1,200 of 1,000 tokens)"
    assert len(model.requests) == 2
    assert "400 tokens" in model.requests[1][-1].content  # the note told the model


async def test_time_limit_ends_the_run_on_the_injected_clock(tmp_path: Path) -> None:
    now = [1000.0]

    def tick(name: str) -> None:
        now[0] += 40  # each tool call "takes" 40 s on the injected clock

    model = ScriptedModel([reply(call("run", command="make")) for _ in range(5)])
    agent = make_agent(
        model, FileToolbox(tmp_path, tick), tmp_path, clock=lambda: now[0], max_seconds=100
    )

    outcome = await agent.run("t")

    assert outcome.status == "budget_exhausted"
    assert outcome.reason == "time limit reached (120 s of 100 s)"
    assert len(model.requests) == 3
    assert "1 min 40 s" in model.requests[0][-1].content
    assert "20 s." in model.requests[2][-1].content


async def test_a_refusal_ends_the_run_as_refused(tmp_path: Path) -> None:
    model = ScriptedModel([reply(call("run", command="x"), text="I can't help.", stop="refusal")])
    tools = FileToolbox(tmp_path)

    outcome = await make_agent(model, tools, tmp_path).run("t")

    assert (outcome.status, outcome.reason) == ("refused", "I can't help.")
    assert tools.calls == []


async def test_cancelling_the_task_records_cancelled_and_reraises(tmp_path: Path) -> None:
    entered = asyncio.Event()

    async def hang(messages: list[Message]) -> ModelResponse:
        entered.set()
        await asyncio.Event().wait()  # a model call that never answers
        raise AssertionError("unreachable")

    model = ScriptedModel([reply(call("run", command="ls")), hang])
    agent = make_agent(model, FileToolbox(tmp_path), tmp_path)
    task = asyncio.create_task(agent.run("t"))
    await asyncio.wait_for(entered.wait(), timeout=5)

    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    outcome = load_transcript(tmp_path / "transcript.jsonl").outcome
    assert outcome is not None
    assert (outcome["status"], outcome["reason"]) == ("cancelled", "the task was cancelled")
    assert outcome["turns"] == 2


async def test_a_stop_in_the_inbox_ends_the_run_as_cancelled(tmp_path: Path) -> None:
    inbox = MemoryInbox()
    model = ScriptedModel([reply(call("run", command="ls")) for _ in range(3)])
    tools = FileToolbox(tmp_path, lambda name: inbox.stop("@bob", "/swarm stop"))

    outcome = await make_agent(model, tools, tmp_path, inbox=inbox).run("t")

    assert outcome.status == "cancelled"
    assert outcome.reason == "stopped by @bob: /swarm stop"
    assert len(model.requests) == 1


async def test_a_model_error_ends_the_run_with_error(tmp_path: Path) -> None:
    def fail(messages: list[Message]) -> ModelResponse:
        raise ModelError("401 invalid api key")

    outcome = await make_agent(ScriptedModel([fail]), FileToolbox(tmp_path), tmp_path).run("t")

    assert (outcome.status, outcome.reason) == ("error", "model error: 401 invalid api key")


async def test_a_context_overflow_compacts_and_retries_once(tmp_path: Path) -> None:
    overflowed = []

    def overflow(messages: list[Message]) -> ModelResponse:
        overflowed.append(len(messages))
        raise ContextWindowExceeded("prompt is too long")

    big = "x" * 4000
    turns: list[Turn] = [reply(call("write_file", path=f"f{i}", content=big)) for i in range(8)]
    model = ScriptedModel([*turns, overflow, reply(call("finish", summary="ok"))])
    agent = make_agent(
        model, FileToolbox(tmp_path), tmp_path, keep_recent_turns=2, summarize_with_model=False
    )

    outcome = await agent.run("t")

    assert outcome.status == "finished"
    assert len(model.requests[-1]) < overflowed[0]  # the retry sent a compacted history
    assert model.requests[-1][2].content.startswith("[Summary of earlier turns")
    assert_paired(model.requests[-1])
