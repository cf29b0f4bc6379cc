"""`make_model("provider/model")`: the one way the rest of Swarm gets a `Model`."""

from __future__ import annotations

import os

from app.llm.base import ProviderModel
from app.llm.pricing import Price

PROVIDERS = ("openai", "anthropic")


def make_model(
    spec: str,
    *,
    api_key: str | None = None,
    base_url: str | None = None,
    max_retries: int = 2,
    timeout: float = 600,
    context_window: int | None = None,
    price: Price | None = None,
) -> ProviderModel:
    """A model named "provider/model", e.g. "openai/gpt-5" or "anthropic/claude-sonnet-4-5".

    `api_key` and `base_url` default to the SDK's own environment variables (OPENAI_API_KEY,
    OPENAI_BASE_URL, ANTHROPIC_API_KEY, ANTHROPIC_BASE_URL). `max_retries` is the SDK's own retry
    count for 408/409/429/5xx/529 and connection errors; nothing retries on top of it.
    """
    provider, _, model = spec.partition("/")
    if not model or not provider:
        raise ValueError(
            f"model {spec!r} must be named provider/model, e.g. 'openai/gpt-5' or "
            f"'anthropic/claude-sonnet-4-5' (providers: {', '.join(PROVIDERS)})"
        )
    # SDKs are imported here, not at the top: a deployment that uses one never loads the other.
    if provider == "openai":
        import openai

        from app.llm.openai_chat import OpenAIModel

        # A local OpenAI-compatible server (Ollama, vLLM) needs no key; the SDK wants one.
        local = base_url or os.environ.get("OPENAI_BASE_URL")
        if api_key is None and not os.environ.get("OPENAI_API_KEY") and local:
            api_key = "no-key"
        try:
            client = openai.AsyncOpenAI(
                api_key=api_key, base_url=base_url, max_retries=max_retries, timeout=timeout
            )
        except openai.OpenAIError as err:
            raise ValueError(
                f"{spec}: {err} (for an OpenAI-compatible server, set OPENAI_BASE_URL)"
            ) from err
        return OpenAIModel(model, client, context_window=context_window, price=price)
    if provider == "anthropic":
        import anthropic

        from app.llm.anthropic_messages import AnthropicModel

        try:
            aclient = anthropic.AsyncAnthropic(
                api_key=api_key, base_url=base_url, max_retries=max_retries, timeout=timeout
            )
        except anthropic.AnthropicError as err:
            raise ValueError(f"{spec}: {err}") from err
        return AnthropicModel(model, aclient, context_window=context_window, price=price)
    raise ValueError(
        f"unknown model provider {provider!r} in {spec!r}: use one of {', '.join(PROVIDERS)} "
        "(any OpenAI-compatible server works as 'openai/<model>' with OPENAI_BASE_URL set)"
    )
