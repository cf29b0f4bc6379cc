"""Output caps: every tool's output fits the context window, and says so when it was cut.

Listings and search results keep their leading whole lines (the model can list a subdirectory
or narrow the search for the rest); command output keeps its start and its end, where a command
usually says what it is doing and how it ended.
"""

from __future__ import annotations

from collections.abc import Sequence


def cap_middle(text: str, cap: int) -> tuple[str, bool]:
    """Keep the first and last halves of `cap` characters, with a marker saying what was cut."""
    if len(text) <= cap:
        return text, False
    half = cap // 2
    dropped = len(text) - 2 * half
    marker = f"\n[... {dropped} characters cut from the middle (output cap {cap}) ...]\n"
    return text[:half] + marker + text[len(text) - half :], True


def cap_lines(lines: Sequence[str], cap: int) -> tuple[list[str], bool]:
    """The leading whole lines that fit in `cap` characters."""
    kept: list[str] = []
    size = 0
    for line in lines:
        size += len(line) + 1
        if size > cap and kept:
            return kept, True
        kept.append(line[:cap])
    return kept, False
