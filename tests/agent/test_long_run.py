"""A scripted 300-turn run: every request fits the budget and still holds the task and redirect."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.agent.inbox import InboxMessage, MemoryInbox
from app.agent.transcript import load_transcript
from app.llm.types import ModelResponse
from tests.agent.helpers import SYSTEM, assert_paired, make_agent
from tests.agent.scripted import FileToolbox, ScriptedModel, call, count_tokens, reply

TURNS = 300
BUDGET = 6000
TASK = "Refactor the parser module and keep the tests green."
REDIRECT_AT = {60: "use the new tokenizer API", 150: "skip the CLI", 260: "add a changelog entry"}


def scripted_turn(i: int) -> ModelResponse:
    if i % 3 == 0:
        return reply(call("write_file", path=f"m{i % 7}.py", content=f"# v{i}\n" + "y" * 600))
    if i % 3 == 1:
        return reply(call("read_file", path="big.txt"), text=f"Reading again ({i}).")
    return reply(call("run", command=f"pytest -k case{i}"))


@pytest.mark.parametrize("summarize_with_model", [False, True], ids=["digest", "model-summary"])
async def test_a_300_turn_run_stays_in_budget_and_keeps_task_and_redirects(
    tmp_path: Path, summarize_with_model: bool
) -> None:
    (tmp_path / "big.txt").write_text("line of output\n" * 170)  # ~2,400 chars a read
    inbox = MemoryInbox()
    model = ScriptedModel(
        [scripted_turn(i) for i in range(TURNS - 1)] + [reply(call("finish", summary="done"))]
    )
    visible_from: dict[int, str] = {}  # request index -> redirect expected from then on

    def on_call(name: str) -> None:
        number = len(model.requests)
        if number in REDIRECT_AT:
            inbox.push(REDIRECT_AT[number], sender="@maintainer")
            visible_from[number] = InboxMessage(REDIRECT_AT[number], "@maintainer").render()

    agent = make_agent(
        model, FileToolbox(tmp_path, on_call), tmp_path, inbox=inbox, max_turns=TURNS,
        context_budget_tokens=BUDGET, keep_recent_turns=6,
        summarize_with_model=summarize_with_model,
    )  # fmt: skip

    outcome = await agent.run(TASK)

    assert outcome.status == "finished" and outcome.turns == TURNS
    latest: str | None = None
    for index, request in enumerate(model.requests):
        latest = visible_from.get(index, latest)
        # The model's own count (chars/3) stays in budget although the loop estimates chars/4:
        # the estimate is calibrated by the usage each response reports.
        assert count_tokens(request) <= BUDGET, f"request {index} is over budget"
        assert request[0].role == "system" and request[0].content == SYSTEM
        assert request[1].content.startswith(TASK)
        if latest is not None:
            assert any(m.content.startswith(latest) for m in request), f"request {index}"
        assert_paired(request)
    for request in model.summary_requests:
        assert count_tokens(request) <= BUDGET
    if summarize_with_model:
        assert model.summary_requests, "the model was never asked for a summary"
        assert any(str(model.summary_text) in m.content for m in model.requests[-1])

    log = load_transcript(tmp_path / "transcript.jsonl")
    usages = [r["usage"] for r in log.records if r["kind"] == "response"]
    compactions = [r for r in log.records if r["kind"] == "compaction"]
    sent = {turn: usages[turn - 1]["input_tokens"] for turn in (10, 100, 300)}
    cached = sum(u["cached_input_tokens"] for u in usages) / sum(u["input_tokens"] for u in usages)
    print(
        f"\n[{'model summary' if summarize_with_model else 'digest'}] tokens sent at turns "
        f"10/100/300: {sent[10]}/{sent[100]}/{sent[300]} (budget {BUDGET}); "
        f"{len(compactions)} compactions; share of input in the stable cached prefix: {cached:.0%}"
    )
    assert {c["stage"] for c in compactions} >= {"elide", "summary"}
    # A summary rewrites all but the first two messages, so it must stay rare (each one frees
    # more than half the budget); elisions only rewrite turns that just left the recent window.
    assert sum(c["stage"] == "summary" for c in compactions) <= TURNS // 20
    assert cached > 0.6  # between compactions the history only grows at its end
