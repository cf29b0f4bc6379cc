"""The bounded head-and-tail capture."""

from __future__ import annotations

import pytest

from app.sandbox.output import OutputCollector


def test_output_under_the_cap_is_kept_whole() -> None:
    collector = OutputCollector(10)
    collector.feed(b"abc")
    collector.feed(b"def")
    assert collector.text() == "abcdef" and not collector.truncated


def test_the_middle_is_dropped_and_counted() -> None:
    collector = OutputCollector(10)
    for chunk in (b"0123", b"4567", b"89ab", b"cdef"):
        collector.feed(chunk)
    assert collector.truncated
    assert collector.total == 16 and collector.dropped == 6
    text = collector.text()
    assert text.startswith("01234\n[... 6 bytes of output dropped") and text.endswith("\nbcdef")


def test_a_cap_too_small_is_refused() -> None:
    with pytest.raises(ValueError):
        OutputCollector(1)
