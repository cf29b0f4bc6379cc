"""Token estimates and the imitation prompt caches behind the reported usage.

Tokens are characters / 4 of each part of the request, in canonical JSON. A prefix is identified
by a hash chain over its parts, with `cache_control` marks removed (the marks move from request
to request; the content under them does not).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any


def estimate_tokens(chars: int) -> int:
    return (chars + 3) // 4


def canonical(value: Any) -> str:
    return json.dumps(_unmarked(value), sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _unmarked(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _unmarked(v) for k, v in value.items() if k != "cache_control"}
    if isinstance(value, list):
        return [_unmarked(v) for v in value]
    return value


@dataclass(frozen=True)
class Part:
    value: Any  # one tool, system block or message block
    marked: bool = False  # carries cache_control


@dataclass(frozen=True)
class PromptUsage:
    total: int  # all input tokens
    cache_read: int
    cache_write: int


class PromptCache:
    """Prefixes seen so far, per scope (format and model). Not thread-safe: the caller locks."""

    def __init__(self) -> None:
        self._seen: set[str] = set()

    def clear(self) -> None:
        self._seen.clear()

    def automatic(self, scope: str, parts: list[Part]) -> PromptUsage:
        """OpenAI: the longest prefix, at any part boundary, that an earlier request sent."""
        keys, tokens = _prefixes(scope, parts)
        read = max((tokens[i] for i, key in enumerate(keys) if key in self._seen), default=0)
        self._seen.update(keys)
        return PromptUsage(tokens[-1] if tokens else 0, read, 0)

    def explicit(self, scope: str, parts: list[Part]) -> PromptUsage:
        """Anthropic: read up to the furthest mark seen before, write up to the last mark."""
        keys, tokens = _prefixes(scope, parts)
        marks = [i for i, part in enumerate(parts) if part.marked]
        total = tokens[-1] if tokens else 0
        if not marks:
            return PromptUsage(total, 0, 0)
        hits = [i for i in marks if keys[i] in self._seen]
        read = tokens[hits[-1]] if hits else 0
        self._seen.update(keys[i] for i in marks)
        return PromptUsage(total, read, tokens[marks[-1]] - read)


def _prefixes(scope: str, parts: list[Part]) -> tuple[list[str], list[int]]:
    keys: list[str] = []
    tokens: list[int] = []
    digest = hashlib.sha256(scope.encode()).hexdigest()
    chars = 0
    for part in parts:
        text = canonical(part.value)
        chars += len(text)
        digest = hashlib.sha256((digest + text).encode()).hexdigest()
        keys.append(digest)
        tokens.append(estimate_tokens(chars))
    return keys, tokens
