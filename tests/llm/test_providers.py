"""Both providers through `Model.query`, the real SDKs, over HTTP to the scripted model server."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from app.llm.base import CUT_OFF, ProviderModel
from app.llm.pricing import PRICES, cost_usd
from app.llm.types import ContextWindowExceeded, Message, ModelError, ToolSpec
from app.simulator.models import ScriptedModelServer

PROVIDERS = ["openai", "anthropic"]
MakeModel = Callable[..., ProviderModel]

TOOLS = [
    ToolSpec("read_file", "Read a file", {"type": "object", "properties": {"path": {}}}),
    ToolSpec("list_files", "List files", {"type": "object", "properties": {"path": {}}}),
]


def worker_script(*turns: dict[str, Any]) -> dict[str, Any]:
    return {"agents": [{"name": "worker", "match": "You are the worker", "turns": list(turns)}]}


def start() -> list[Message]:
    return [Message("system", "You are the worker."), Message("user", "Summarise the README.")]


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_multi_turn_tool_conversation_round_trips(
    provider: str, server: ScriptedModelServer, models: MakeModel
) -> None:
    server.load(
        worker_script(
            {
                "text": "Let me look.",
                "tool_calls": [
                    {"name": "read_file", "arguments": {"path": "README.md"}},
                    {"name": "list_files", "arguments": {"path": "nope"}},
                ],
            },
            {"expect": "hello from the readme", "text": "The README says hello."},
        )
    )
    model = models(provider)
    messages = start()

    first = await model.query(messages, TOOLS, max_tokens=1000)
    assert first.stop_reason == "tool_use"
    assert first.message.content == "Let me look."
    read, listing = first.message.tool_calls
    assert (read.name, read.arguments, read.error) == ("read_file", {"path": "README.md"}, None)
    assert (listing.name, listing.arguments) == ("list_files", {"path": "nope"})
    assert read.id != listing.id

    messages += [
        first.message,
        Message("tool", "hello from the readme", tool_call_id=read.id),
        Message("tool", "no such directory", tool_call_id=listing.id, is_error=True),
    ]
    second = await model.query(messages, TOOLS, max_tokens=1000)
    assert second.stop_reason == "end_turn"
    assert second.message.content == "The README says hello."
    assert second.message.tool_calls == []

    requests = server.requests()
    assert [r["status"] for r in requests] == [200, 200]
    body = requests[1]["body"]
    if provider == "openai":
        assert [m["role"] for m in body["messages"]] == [
            "system",
            "user",
            "assistant",
            "tool",
            "tool",
        ]
        assistant = body["messages"][2]
        assert assistant["content"] == "Let me look."
        assert [c["id"] for c in assistant["tool_calls"]] == [read.id, listing.id]
        assert assistant["tool_calls"][0]["function"] == {
            "name": "read_file",
            "arguments": '{"path": "README.md"}',
        }
        assert body["messages"][3] == {
            "role": "tool",
            "tool_call_id": read.id,
            "content": "hello from the readme",
        }
        assert body["messages"][4]["tool_call_id"] == listing.id
        assert "no such directory" in body["messages"][4]["content"]
        assert [t["function"]["name"] for t in body["tools"]] == ["read_file", "list_files"]
        assert body["max_completion_tokens"] == 1000
    else:
        assert body["system"][0]["text"] == "You are the worker."
        assert [m["role"] for m in body["messages"]] == ["user", "assistant", "user"]
        assistant = body["messages"][1]["content"]
        assert assistant[0] == {"type": "text", "text": "Let me look."}
        assert [(b["type"], b["id"], b["input"]) for b in assistant[1:]] == [
            ("tool_use", read.id, {"path": "README.md"}),
            ("tool_use", listing.id, {"path": "nope"}),
        ]
        # Consecutive tool results are merged into one user message.
        results = body["messages"][2]["content"]
        assert [(b["type"], b["tool_use_id"]) for b in results] == [
            ("tool_result", read.id),
            ("tool_result", listing.id),
        ]
        assert results[0]["content"] == "hello from the readme"
        assert "is_error" not in results[0]
        assert results[1]["is_error"] is True
        assert [t["name"] for t in body["tools"]] == ["read_file", "list_files"]
        assert body["tools"][0]["input_schema"] == TOOLS[0].parameters
        assert body["max_tokens"] == 1000


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_calls_cut_off_by_the_output_limit_are_malformed(
    provider: str, server: ScriptedModelServer, models: MakeModel
) -> None:
    server.load(
        worker_script(
            {
                "stop": "max_tokens",
                "tool_calls": [
                    {"name": "read_file", "arguments": {"path": "a.py"}},
                    {"name": "read_file", "arguments": {"path": "b.py", "content": "x" * 40}},
                ],
            }
        )
    )
    response = await models(provider).query(start(), TOOLS, max_tokens=50)
    assert response.stop_reason == "max_tokens"
    assert len(response.message.tool_calls) == 2
    for call in response.message.tool_calls:
        # The first call's JSON is complete and parses; it is refused all the same.
        assert call.error == CUT_OFF
        assert call.arguments is None


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_arguments_that_are_not_a_json_object_are_malformed(
    provider: str, server: ScriptedModelServer, models: MakeModel
) -> None:
    server.load(
        worker_script(
            {
                "tool_calls": [
                    {"name": "read_file", "raw_arguments": "{path: README"},
                    {"name": "read_file", "raw_arguments": "[1, 2]"},
                    {"name": "list_files", "arguments": {"path": "."}},
                ]
            }
        )
    )
    response = await models(provider).query(start(), TOOLS, max_tokens=100)
    assert response.stop_reason == "tool_use"
    broken, listed, fine = response.message.tool_calls
    assert broken.arguments is None and broken.error is not None
    assert "not valid JSON" in broken.error
    assert broken.raw_arguments == "{path: README"
    assert listed.arguments is None and listed.error is not None
    assert "JSON object" in listed.error
    assert (fine.arguments, fine.error) == ({"path": "."}, None)


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_a_malformed_call_can_be_answered_and_the_conversation_goes_on(
    provider: str, server: ScriptedModelServer, models: MakeModel
) -> None:
    server.load(
        worker_script(
            {"tool_calls": [{"name": "read_file", "raw_arguments": "{oops"}]},
            {"expect": "not valid JSON", "text": "Sorry."},
        )
    )
    model = models(provider)
    messages = start()
    first = await model.query(messages, TOOLS, max_tokens=100)
    (call,) = first.message.tool_calls
    assert call.error is not None
    messages += [first.message, Message("tool", call.error, tool_call_id=call.id, is_error=True)]
    second = await model.query(messages, TOOLS, max_tokens=100)
    assert second.message.content == "Sorry."


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_a_refusal_comes_back_as_refusal(
    provider: str, server: ScriptedModelServer, models: MakeModel
) -> None:
    server.load(worker_script({"refusal": "I can't help with that."}))
    response = await models(provider).query(start(), TOOLS, max_tokens=100)
    assert response.stop_reason == "refusal"
    assert response.message.content == "I can't help with that."
    assert response.message.tool_calls == []


@pytest.mark.parametrize("provider", PROVIDERS)
@pytest.mark.parametrize("status", [429, 500, 529])
async def test_the_sdk_retries_transient_errors_itself(
    provider: str, status: int, server: ScriptedModelServer, models: MakeModel
) -> None:
    server.load(
        worker_script(
            {"error": {"status": status, "retry_after": 0.01, "message": "busy"}},
            {"text": "Back again."},
        )
    )
    response = await models(provider, max_retries=2).query(start(), TOOLS, max_tokens=100)
    assert response.message.content == "Back again."
    assert [r["status"] for r in server.requests()] == [status, 200]


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_errors_that_outlast_the_retries_raise_model_error(
    provider: str, server: ScriptedModelServer, models: MakeModel
) -> None:
    server.load(
        worker_script(
            {"repeat": 3, "error": {"status": 529, "retry_after": 0.01, "message": "overloaded"}}
        )
    )
    with pytest.raises(ModelError, match="overloaded") as caught:
        await models(provider, max_retries=2).query(start(), TOOLS, max_tokens=100)
    assert not isinstance(caught.value, ContextWindowExceeded)
    assert len(server.requests()) == 3  # one try and the SDK's two retries, nothing stacked


CONTEXT_ERRORS = {
    "openai": {
        "status": 400,
        "code": "context_length_exceeded",
        "message": "This model's maximum context length is 400000 tokens.",
    },
    "anthropic": {"status": 400, "message": "prompt is too long: 210000 tokens > 200000 maximum"},
}


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_a_context_length_error_raises_context_window_exceeded(
    provider: str, server: ScriptedModelServer, models: MakeModel
) -> None:
    server.load(worker_script({"error": CONTEXT_ERRORS[provider]}))
    with pytest.raises(ContextWindowExceeded, match=r"too long|maximum context length"):
        await models(provider).query(start(), TOOLS, max_tokens=100)
    assert len(server.requests()) == 1


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_a_request_missing_what_the_script_expects_fails_loudly(
    provider: str, server: ScriptedModelServer, models: MakeModel
) -> None:
    server.load(worker_script({"expect": "the test output", "text": "ok"}))
    with pytest.raises(ModelError, match="expects the request to contain"):
        await models(provider).query(start(), TOOLS, max_tokens=100)


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_usage_and_cost_are_filled(
    provider: str, server: ScriptedModelServer, models: MakeModel
) -> None:
    server.load(worker_script({"text": "A fairly short answer."}))
    model = models(provider)
    response = await model.query(start(), TOOLS, max_tokens=100)
    usage = response.usage
    assert usage.input_tokens > 20  # the system prompt, the user message and two tool schemas
    assert usage.output_tokens == len("A fairly short answer.") // 4
    assert response.model == model.name
    assert response.cost_usd > 0
    assert response.cost_usd == pytest.approx(cost_usd(model.name, usage, PRICES[model.name]))


async def test_anthropic_caches_the_stable_prefix_and_reads_more_each_turn(
    server: ScriptedModelServer, models: MakeModel
) -> None:
    server.load(
        worker_script(
            {"tool_calls": [{"name": "read_file", "arguments": {"path": "a.py"}}]},
            {"tool_calls": [{"name": "read_file", "arguments": {"path": "b.py"}}]},
            {"text": "Done."},
        )
    )
    model = models("anthropic")
    messages = start()
    responses = []
    for content in ("A" * 400, "B" * 400, None):
        response = await model.query(messages, TOOLS, max_tokens=100)
        responses.append(response)
        if content is not None:
            (call,) = response.message.tool_calls
            messages += [response.message, Message("tool", content, tool_call_id=call.id)]

    cached = [r.usage.cached_input_tokens for r in responses]
    written = [r.usage.cache_write_tokens for r in responses]
    assert cached[0] == 0 and written[0] > 0
    assert 0 < cached[1] < cached[2]
    assert all(w > 0 for w in written)  # each turn writes its new tail for the next one
    # What a turn wrote is what the next one reads, whole.
    assert cached[1] == written[0]
    assert cached[2] == cached[1] + written[1]
    # Cached tokens are billed at the cache rate, not as plain input.
    price = PRICES[model.name]
    last = responses[2].usage
    # The last message is marked too, so nothing after it is billed as plain input.
    assert last.input_tokens == last.cached_input_tokens + last.cache_write_tokens
    assert (
        responses[2].cost_usd
        < (last.input_tokens * price.input + last.output_tokens * price.output) / 1_000_000
    )

    for record in server.requests():
        body = record["body"]
        assert body["system"][-1]["cache_control"] == {"type": "ephemeral"}
        assert body["tools"][-1]["cache_control"] == {"type": "ephemeral"}
        assert body["messages"][-1]["content"][-1]["cache_control"] == {"type": "ephemeral"}
    last_body = server.requests()[2]["body"]["messages"]
    # The message that ended the previous request is marked, so this one reads its prefix.
    assert last_body[-3]["content"][-1]["cache_control"] == {"type": "ephemeral"}
    assert "cache_control" not in last_body[1]["content"][-1]  # older marks move on


async def test_openai_reports_its_automatic_prompt_cache(
    server: ScriptedModelServer, models: MakeModel
) -> None:
    server.load(
        worker_script(
            {"tool_calls": [{"name": "read_file", "arguments": {"path": "a.py"}}]},
            {"text": "Done."},
        )
    )
    model = models("openai")
    messages = start()
    first = await model.query(messages, TOOLS, max_tokens=100)
    (call,) = first.message.tool_calls
    messages += [first.message, Message("tool", "print(1)", tool_call_id=call.id)]
    second = await model.query(messages, TOOLS, max_tokens=100)
    assert first.usage.cached_input_tokens == 0
    assert 0 < second.usage.cached_input_tokens < second.usage.input_tokens


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_when_the_script_runs_out_the_server_says_so(
    provider: str, server: ScriptedModelServer, models: MakeModel
) -> None:
    server.load(worker_script({"text": "only turn"}))
    model = models(provider)
    assert (await model.query(start(), TOOLS, max_tokens=100)).message.content == "only turn"
    extra = await model.query(start(), TOOLS, max_tokens=100)
    assert extra.message.content == "script exhausted"
    assert [r["exhausted"] for r in server.requests()] == [False, True]


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_later_system_messages_and_empty_turns_are_sent_validly(
    provider: str, server: ScriptedModelServer, models: MakeModel
) -> None:
    # An agent loop may add a system note mid-run and may replay an empty assistant turn.
    server.load(worker_script({"text": "first"}, {"expect": "budget: 3 turns left", "text": "ok"}))
    model = models(provider)
    messages = start()
    await model.query(messages, [], max_tokens=100)
    messages += [
        Message("assistant", ""),
        Message("system", "budget: 3 turns left"),
        Message("user", "go on"),
    ]
    response = await model.query(messages, [], max_tokens=100)
    assert response.message.content == "ok"
    assert "tools" not in server.requests()[1]["body"]
