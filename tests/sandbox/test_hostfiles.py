"""Host-side opens of agent-writable paths never block and never follow a symlink."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from app.sandbox.hostfiles import NotRegularFile, open_regular, write_regular


def test_a_fifo_is_refused_for_reading_and_writing_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "notes.txt"
    os.mkfifo(fifo)
    with pytest.raises(NotRegularFile, match="FIFO"):
        open_regular(fifo)
    with pytest.raises(OSError) as no_reader:
        write_regular(fifo, b"x")
    assert no_reader.value.errno == errno.ENXIO


def test_a_symlink_is_never_followed(tmp_path: Path) -> None:
    (tmp_path / "real").write_text("real\n")
    (tmp_path / "link").symlink_to(tmp_path / "real")
    with pytest.raises(OSError) as loop:
        open_regular(tmp_path / "link")
    assert loop.value.errno == errno.ELOOP
    with pytest.raises(OSError):
        write_regular(tmp_path / "link", b"changed")
    assert (tmp_path / "real").read_text() == "real\n"


def test_regular_files_read_and_write(tmp_path: Path) -> None:
    write_regular(tmp_path / "a.txt", b"long content\n")
    write_regular(tmp_path / "a.txt", b"short\n")
    with open_regular(tmp_path / "a.txt") as f:
        assert f.read() == b"short\n"
