"""Prices and context windows of a handful of current models, keyed by "provider/model".

Prices are USD per million tokens as the providers' price pages showed them in mid 2026; check
them against those pages before trusting a bill. An unknown model costs 0 (and says so
once in the log) rather than failing: a self-hosted model through an OpenAI-compatible server is
a normal setup, and a wrong price must never stop a run.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from app.llm.types import Usage

log = logging.getLogger(__name__)

DEFAULT_CONTEXT_WINDOW = 128_000


@dataclass(frozen=True)
class Price:
    """USD per million tokens."""

    input: float
    cached_input: float
    cache_write: float
    output: float


# OpenAI does not charge for writing its automatic prompt cache, hence cache_write == input
# (cache_write_tokens are already part of input_tokens there and are billed as plain input).
PRICES: dict[str, Price] = {
    "openai/gpt-5.5": Price(5.0, 0.50, 5.0, 30.0),
    "openai/gpt-5.4": Price(2.50, 0.25, 2.50, 15.0),
    "openai/gpt-5.4-mini": Price(0.75, 0.075, 0.75, 4.50),
    "openai/gpt-5.2": Price(1.75, 0.175, 1.75, 14.0),
    "openai/gpt-5": Price(1.25, 0.125, 1.25, 10.0),
    "openai/gpt-5-mini": Price(0.25, 0.025, 0.25, 2.0),
    "openai/gpt-4.1": Price(2.0, 0.50, 2.0, 8.0),
    "openai/gpt-4o": Price(2.50, 1.25, 2.50, 10.0),
    # Anthropic: a 5-minute cache write costs 1.25x input, a cache read 0.1x input.
    "anthropic/claude-opus-4-8": Price(5.0, 0.50, 6.25, 25.0),
    "anthropic/claude-opus-4-7": Price(5.0, 0.50, 6.25, 25.0),
    "anthropic/claude-opus-4-6": Price(5.0, 0.50, 6.25, 25.0),
    "anthropic/claude-opus-4-5": Price(5.0, 0.50, 6.25, 25.0),
    "anthropic/claude-sonnet-4-6": Price(3.0, 0.30, 3.75, 15.0),
    "anthropic/claude-sonnet-4-5": Price(3.0, 0.30, 3.75, 15.0),
    "anthropic/claude-haiku-4-5": Price(1.0, 0.10, 1.25, 5.0),
}

# Only windows we are sure of; a window guessed too small merely compacts early.
CONTEXT_WINDOWS: dict[str, int] = {
    "openai/gpt-5.5": 1_000_000,
    "openai/gpt-5.4": 1_000_000,
    "openai/gpt-5.4-mini": 1_000_000,
    "openai/gpt-5": 400_000,
    "openai/gpt-5-mini": 400_000,
    "openai/gpt-4.1": 1_047_576,
    "openai/gpt-4o": 128_000,
    "anthropic/claude-opus-4-8": 200_000,
    "anthropic/claude-opus-4-7": 200_000,
    "anthropic/claude-opus-4-6": 200_000,
    "anthropic/claude-opus-4-5": 200_000,
    "anthropic/claude-sonnet-4-6": 200_000,
    "anthropic/claude-sonnet-4-5": 200_000,
    "anthropic/claude-haiku-4-5": 200_000,
}

# Dated snapshots ("claude-sonnet-4-5-20250929", "gpt-4o-2024-08-06") and "-latest" aliases
# share their family's price. Only these suffixes are stripped: a looser prefix match would
# price "gpt-5-pro" as "gpt-5", which is eight times cheaper.
_SNAPSHOT_SUFFIX = re.compile(r"-(\d{8}|\d{4}-\d{2}-\d{2}|latest)$")

_warned: set[str] = set()


def canonical_name(name: str) -> str:
    """ "anthropic/claude-sonnet-4-5-20250929" -> "anthropic/claude-sonnet-4-5"."""
    return _SNAPSHOT_SUFFIX.sub("", name)


def price_for(name: str) -> Price | None:
    return PRICES.get(name) or PRICES.get(canonical_name(name))


def context_window_for(name: str) -> int:
    return CONTEXT_WINDOWS.get(name) or CONTEXT_WINDOWS.get(
        canonical_name(name), DEFAULT_CONTEXT_WINDOW
    )


def cost_usd(name: str, usage: Usage, price: Price | None = None) -> float:
    """What one call cost. `usage.input_tokens` includes the cached and cache-written tokens."""
    price = price or price_for(name)
    if price is None:
        if name not in _warned:
            _warned.add(name)
            log.warning("no price known for %s: its calls are counted as costing $0", name)
        return 0.0
    plain_input = max(0, usage.input_tokens - usage.cached_input_tokens - usage.cache_write_tokens)
    total = (
        plain_input * price.input
        + usage.cached_input_tokens * price.cached_input
        + usage.cache_write_tokens * price.cache_write
        + usage.output_tokens * price.output
    )
    return total / 1_000_000
