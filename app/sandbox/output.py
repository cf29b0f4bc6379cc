"""Bounded capture of a command's output: keep the head and the tail, count what was dropped.

A command may print 100 MB; the collector never holds more than its cap, so memory stays flat
however much the process writes.
"""

from __future__ import annotations


class OutputCollector:
    """Keeps the first half and the last half of `cap` bytes of a stream, discarding the middle."""

    def __init__(self, cap: int) -> None:
        if cap < 2:
            raise ValueError("output cap must be at least 2 bytes")
        self._head_cap = cap // 2
        self._tail_cap = cap - self._head_cap
        self._head = bytearray()
        self._tail = bytearray()
        self.total = 0  # bytes the process wrote
        self.dropped = 0  # bytes discarded from the middle

    def feed(self, chunk: bytes) -> None:
        self.total += len(chunk)
        room = self._head_cap - len(self._head)
        if room > 0:
            self._head += chunk[:room]
            chunk = chunk[room:]
        if not chunk:
            return
        self._tail += chunk
        excess = len(self._tail) - self._tail_cap
        if excess > 0:
            # Discard from the front of the tail window: only the last bytes are kept.
            del self._tail[:excess]
            self.dropped += excess

    @property
    def truncated(self) -> bool:
        return self.dropped > 0

    def text(self) -> str:
        head = self._head.decode("utf-8", errors="replace")
        tail = self._tail.decode("utf-8", errors="replace")
        if not self.truncated:
            return head + tail
        marker = (
            f"\n[... {self.dropped} bytes of output dropped: kept the first {len(self._head)} "
            f"and the last {len(self._tail)} of {self.total} bytes ...]\n"
        )
        return head + marker + tail
