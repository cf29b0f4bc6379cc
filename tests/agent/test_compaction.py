"""Compaction stages on hand-built histories."""

from __future__ import annotations

from app.agent.compaction import (
    ELIDED_PREFIX,
    SUMMARY_PREFIX,
    CompactionPolicy,
    Compactor,
    TokenEstimator,
    raw_token_estimate,
    split_turns,
)
from app.llm.types import Message, ModelError
from tests.agent.helpers import assert_paired
from tests.agent.scripted import ScriptedModel, call, count_tokens

PREFIX = [Message(role="system", content="sys"), Message(role="user", content="the task")]


def history(turns: int, output_chars: int, redirect_at: int | None = None) -> list[Message]:
    messages = list(PREFIX)
    for i in range(turns):
        c = call("write_file", path=f"f{i}.py", content="z" * 50)
        messages += [
            Message(role="assistant", content=f"turn {i}", tool_calls=[c]),
            Message(role="tool", content=f"out{i}:" + "o" * output_chars, tool_call_id=c.id),
        ]
        if i == redirect_at:
            messages.append(Message(role="user", content="Message from @al: stop using globals"))
    return messages


def compactor(budget: int, keep: int = 2, model: ScriptedModel | None = None) -> Compactor:
    return Compactor(CompactionPolicy(budget, keep_turns=keep), TokenEstimator(), model)


async def test_nothing_changes_under_the_trigger() -> None:
    messages = history(3, 100)
    result = await compactor(10_000).compact(messages, [])
    assert result.stage == "none" and result.messages is messages


async def test_old_outputs_are_elided_and_the_last_turns_kept_intact() -> None:
    messages = history(10, 1000)
    budget = int(raw_token_estimate(messages, []) * 0.6)

    result = await compactor(budget, keep=3).compact(messages, [])

    assert result.stage == "elide"
    assert result.tokens_after <= budget * 0.8 < result.tokens_before
    assert result.messages[:2] == PREFIX
    assert result.messages[-6:] == messages[-6:]  # the last 3 turns, untouched
    outputs = [m.content for m in result.messages[2:-6] if m.role == "tool"]
    assert outputs and all(o == f"{ELIDED_PREFIX}1005 chars]" for o in outputs)
    assert_paired(result.messages)


async def test_the_middle_becomes_a_digest_keeping_task_redirect_and_recent_turns() -> None:
    messages = history(30, 300, redirect_at=5)
    budget = 1500

    result = await compactor(budget, keep=2).compact(messages, [])

    assert result.stage == "summary"
    assert result.tokens_after <= budget * 0.8
    assert result.messages[:2] == PREFIX
    summary = result.messages[2]
    assert summary.content.startswith(SUMMARY_PREFIX)
    assert "write_file×28" in summary.content and "f27.py" in summary.content
    assert result.messages[3].content == "Message from @al: stop using globals"
    assert result.messages[-4:] == messages[-4:]
    assert_paired(result.messages)


async def test_the_model_writes_the_summary_when_one_is_given() -> None:
    model = ScriptedModel([])
    model.summary_text = "Wrote f0..f27; tests not run yet."

    result = await compactor(1500, model=model).compact(history(30, 300), [])

    assert result.messages[2].content.startswith(SUMMARY_PREFIX + model.summary_text)
    assert "Files changed: " in result.messages[2].content  # the facts ride along
    request = model.summary_requests[0]
    assert (result.usage.input_tokens, result.usage.output_tokens) == (count_tokens(request), 30)
    assert request[1].content.startswith("Task:\nthe task")
    assert "out27" in request[1].content


async def test_a_failing_summary_call_falls_back_to_the_digest() -> None:
    model = ScriptedModel([])
    model.summary_text = ModelError("overloaded")

    result = await compactor(1500, model=model).compact(history(30, 300), [])

    assert result.stage == "summary"
    assert "Tool calls made: write_file×28" in result.messages[2].content


async def test_a_huge_recent_output_is_cut_to_head_and_tail_as_a_last_resort() -> None:
    messages = history(4, 100)
    messages[-1].content = "HEAD" + "m" * 40_000 + "TAIL"

    result = await compactor(2000, keep=2).compact(messages, [])

    assert result.stage == "truncate"
    assert result.tokens_after <= 1600
    last = result.messages[-1].content
    assert last.startswith("HEAD") and last.endswith("TAIL") and "chars cut" in last
    assert_paired(result.messages)


async def test_a_second_compaction_folds_the_first_summary_into_the_digest() -> None:
    tool = compactor(1500, keep=2)
    first = await tool.compact(history(30, 300), [])
    grown = first.messages + history(30, 300)[2:]  # thirty more turns after the summary

    second = await tool.compact(grown, [])

    assert second.messages[:2] == PREFIX
    assert sum(m.content.startswith(SUMMARY_PREFIX) for m in second.messages) == 1
    assert "write_file×58" in second.messages[2].content  # 28, then 2 kept + 28 new
    assert_paired(second.messages)


def test_turns_start_at_assistant_messages() -> None:
    body = history(2, 10, redirect_at=0)[2:]
    assert [len(turn) for turn in split_turns(body)] == [3, 2]


def test_the_estimator_calibrates_on_the_reported_count() -> None:
    messages = history(5, 400)
    estimator = TokenEstimator()
    raw = estimator.estimate(messages, [])

    estimator.calibrate(messages, [], reported=raw * 2)
    assert estimator.estimate(messages, []) == raw * 2
    estimator.calibrate(messages, [], reported=raw * 100)  # nonsense is clamped
    assert estimator.ratio == 4.0
