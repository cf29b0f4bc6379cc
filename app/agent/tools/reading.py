"""How the tools take worktree files as text: regular files only, and never binary ones.

An agent's commands can leave a FIFO, socket or device where a file was (opening one would block
or talk back), and can write binary files; neither should reach the model, or an edit, as text.
"""

from __future__ import annotations

from typing import BinaryIO

from app.agent.paths import WorkspacePath
from app.agent.tools.schema import ToolError
from app.sandbox.hostfiles import NotRegularFile, open_regular

BINARY_SNIFF = 8192


def is_binary(data: bytes) -> bool:
    return b"\0" in data[:BINARY_SNIFF]


def open_file(target: WorkspacePath) -> BinaryIO:
    """The file for reading, refused when it is a FIFO, socket or device (which would block or
    talk back) — checked on the open file, so a swap after the path check changes nothing."""
    try:
        return open_regular(target.real)
    except NotRegularFile as exc:
        raise ToolError(f"{target.relative}: {exc}; the tools only read regular files") from exc
