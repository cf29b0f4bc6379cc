"""`make_model` names and defaults; prices, cost and context windows."""

from __future__ import annotations

import logging

import pytest

from app.llm import make_model
from app.llm.openai_chat import stop_reason
from app.llm.pricing import DEFAULT_CONTEXT_WINDOW, PRICES, Price, cost_usd
from app.llm.types import Message, Model, Usage
from app.simulator.models import ScriptedModelServer
from tests.llm.support import base_url


@pytest.mark.parametrize(
    ("spec", "hint"),
    [
        ("gpt-5", "must be named provider/model"),
        ("openai/", "must be named provider/model"),
        ("/gpt-5", "must be named provider/model"),
        ("google/gemini-3", "unknown model provider 'google'"),
    ],
)
def test_bad_specs_raise_value_errors_a_user_can_act_on(spec: str, hint: str) -> None:
    with pytest.raises(ValueError, match=hint) as caught:
        make_model(spec, api_key="k")
    assert "openai" in str(caught.value) and "anthropic" in str(caught.value)


def test_an_openai_model_without_any_key_says_how_to_give_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_ADMIN_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    with pytest.raises(ValueError, match="OPENAI_API_KEY"):
        make_model("openai/gpt-5")


async def test_a_local_openai_compatible_server_needs_no_key(
    server: ScriptedModelServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.setenv("OPENAI_BASE_URL", server.url + "/v1")
    server.load({"agents": [{"match": "hello", "turns": [{"text": "hi"}]}]})
    model = make_model("openai/local-model")
    try:
        answer = await model.query([Message(role="user", content="hello")], [], max_tokens=50)
    finally:
        await model.aclose()
    assert answer.message.content == "hi"


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
async def test_keys_and_base_urls_default_to_the_sdk_environment_variables(
    provider: str, server: ScriptedModelServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    prefix = provider.upper()
    monkeypatch.setenv(f"{prefix}_API_KEY", "from-env")
    monkeypatch.setenv(f"{prefix}_BASE_URL", base_url(server, provider))
    server.load({"agents": [{"match": "worker", "turns": [{"text": "via env"}]}]})
    model = make_model(f"{provider}/some-model")
    try:
        response = await model.query([Message("user", "worker")], [], max_tokens=10)
    finally:
        await model.aclose()
    assert response.message.content == "via env"
    assert server.requests()[0]["body"]["model"] == "some-model"


def test_a_made_model_is_a_model() -> None:
    model: Model = make_model("openai/gpt-5", api_key="k")  # checked by mypy, too
    assert model.name == "openai/gpt-5"


def test_openai_content_filter_and_refusal_field_both_mean_refusal() -> None:
    assert stop_reason("content_filter", None) == "refusal"
    assert stop_reason("stop", "I won't.") == "refusal"
    assert stop_reason("length", None) == "max_tokens"


def test_context_windows_come_from_the_table_with_a_default_and_an_override() -> None:
    assert make_model("anthropic/claude-sonnet-4-6", api_key="k").context_window == 200_000
    assert make_model("openai/gpt-5-2025-08-07", api_key="k").context_window == 400_000
    assert make_model("openai/my-local-llama", api_key="k").context_window == DEFAULT_CONTEXT_WINDOW
    assert make_model("openai/gpt-5", api_key="k", context_window=32_000).context_window == 32_000


def test_cost_bills_each_kind_of_token_at_its_own_rate() -> None:
    price = Price(input=2.0, cached_input=0.2, cache_write=2.5, output=10.0)
    usage = Usage(
        input_tokens=1_000_000,
        cached_input_tokens=500_000,
        cache_write_tokens=100_000,
        output_tokens=200_000,
    )
    # 400k plain input, 500k cache reads, 100k cache writes, 200k output.
    assert cost_usd("x/y", usage, price) == pytest.approx(0.8 + 0.1 + 0.25 + 2.0)


def test_dated_snapshots_share_their_family_price_but_other_variants_do_not() -> None:
    usage = Usage(input_tokens=1_000_000)
    sonnet = PRICES["anthropic/claude-sonnet-4-6"].input
    assert cost_usd("anthropic/claude-sonnet-4-6-20260101", usage) == pytest.approx(sonnet)
    assert cost_usd("openai/gpt-5-2025-08-07", usage) == PRICES["openai/gpt-5"].input
    assert cost_usd("openai/gpt-5-pro-unlisted", usage) == 0.0


def test_an_unknown_model_costs_nothing_and_says_so_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    usage = Usage(input_tokens=1000, output_tokens=1000)
    with caplog.at_level(logging.WARNING, logger="app.llm.pricing"):
        costs = [cost_usd("openai/never-heard-of-it", usage) for _ in range(3)]
    assert costs == [0.0, 0.0, 0.0]
    warnings = [r for r in caplog.records if "never-heard-of-it" in r.getMessage()]
    assert len(warnings) == 1
