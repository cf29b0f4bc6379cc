"""The tools that change files: replace (one exact snippet) and write_file (a whole file).

Writes go through the confinement's write check, so protected paths stay untouched, and only
to regular files. What they create is handed to the worktree's owner (when Swarm runs as root),
the user the agent's commands run as.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from app.agent.paths import Confinement, WorkspacePath
from app.agent.toolbox import ToolResult
from app.agent.tools.reading import is_binary, open_file
from app.agent.tools.schema import PATH, Param, Tool, ToolError
from app.sandbox.hostfiles import NotRegularFile, write_regular
from app.sandbox.users import adopt


class EditTools:
    """replace and write_file on the worktree that `paths` confines them to."""

    def __init__(self, paths: Confinement) -> None:
        self.paths = paths
        self.root = paths.root

    def tools(self) -> list[Tool]:
        return [
            Tool(
                "replace",
                "Replace one exact snippet of a file with new text. `old` must occur exactly once "
                "in the file, character for character (whitespace and indentation included): "
                "copy it from read_file's output without the line numbers, with enough "
                "surrounding lines to be unique. Fails, changing nothing, when the snippet is "
                "absent or occurs more than once (the error says where).",
                (
                    PATH,
                    Param("old", "string", "The exact text to replace.", True),
                    Param("new", "string", "The text to put in its place.", True),
                ),
                self._replace,
            ),
            Tool(
                "write_file",
                "Create a file, or overwrite it entirely, with `content`; parent directories are "
                "created. Prefer `replace` for changing part of an existing file.",
                (PATH, Param("content", "string", "The complete new file content.", True)),
                self._write_file,
            ),
        ]

    # -- replace ----------------------------------------------------------------------------

    async def _replace(self, args: dict[str, Any]) -> ToolResult:
        target = self.paths.resolve_for_write(args["path"])
        message = await asyncio.to_thread(self._replace_in, target, args["old"], args["new"])
        return ToolResult(message)

    def _replace_in(self, target: WorkspacePath, old: str, new: str) -> str:
        if old == "":
            raise ToolError("`old` is empty; give the exact text to replace")
        if old == new:
            raise ToolError("`old` and `new` are identical; nothing would change")
        text = self._read_text(target)
        positions = _occurrences(text, old)
        if not positions:
            hint = ""
            if old.strip() and old.strip() in text:
                line = text.count("\n", 0, text.index(old.strip())) + 1
                hint = (
                    f" Text that differs only in leading or trailing whitespace is at line {line}."
                )
            raise ToolError(
                f"the snippet was not found in {target.relative}; it must match exactly, "
                f"whitespace and indentation included.{hint} Read the file again and copy the "
                "lines exactly."
            )
        if len(positions) > 1:
            at = ", ".join(str(text.count("\n", 0, p) + 1) for p in positions)
            raise ToolError(
                f"the snippet occurs {len(positions)} times in {target.relative} (starting at "
                f"lines {at}); include more surrounding lines so that it occurs exactly once"
            )
        first = text.count("\n", 0, positions[0]) + 1
        updated = text.replace(old, new, 1)
        self._write(target, updated)
        last = first + new.count("\n")
        return (
            f"replaced the snippet at line {first} of {target.relative}; the new text spans "
            f"lines {first}–{last}; the file now has {_line_count(updated)} lines"
        )

    def _read_text(self, target: WorkspacePath) -> str:
        if not target.real.exists():
            raise ToolError(f"{target.relative} does not exist; use write_file to create it")
        if target.real.is_dir():
            raise ToolError(f"{target.relative} is a directory")
        with open_file(target) as f:
            data = f.read()
        if is_binary(data):
            raise ToolError(f"{target.relative} is a binary file; it cannot be edited as text")
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ToolError(f"{target.relative} is not UTF-8 text ({exc.reason})") from exc

    # -- write_file -------------------------------------------------------------------------

    async def _write_file(self, args: dict[str, Any]) -> ToolResult:
        target = self.paths.resolve_for_write(args["path"])
        content: str = args["content"]
        if target.real.is_dir():
            raise ToolError(f"{target.relative} is a directory; give a file path")
        existed = target.real.exists()
        try:
            await asyncio.to_thread(self._make_parents, target.real.parent)
        except (FileExistsError, NotADirectoryError) as exc:
            raise ToolError(f"cannot create the directories of {target.relative}: {exc}") from exc
        await asyncio.to_thread(self._write, target, content)
        verb = "overwrote" if existed else "created"
        size = len(content.encode())
        return ToolResult(f"{verb} {target.relative} ({_line_count(content)} lines, {size} bytes)")

    # -- writing on the host ----------------------------------------------------------------

    def _write(self, target: WorkspacePath, content: str) -> None:
        try:
            write_regular(target.real, content.encode())
        except NotRegularFile as exc:
            raise ToolError(f"{exc}; the tools only write regular files") from exc
        except OSError as exc:  # ENXIO: a FIFO with no reader; ELOOP: a symlink appeared
            raise ToolError(f"cannot write {target.relative}: {exc.strerror}") from exc
        adopt(target.real, self.root)

    def _make_parents(self, directory: Path) -> None:
        missing = [d for d in (directory, *directory.parents) if not d.exists()]
        directory.mkdir(parents=True, exist_ok=True)
        for made in missing:
            if made == self.root or self.root in made.parents:
                adopt(made, self.root)


def _occurrences(text: str, snippet: str) -> list[int]:
    positions = []
    index = text.find(snippet)
    while index != -1:
        positions.append(index)
        index = text.find(snippet, index + len(snippet))
    return positions


def _line_count(text: str) -> int:
    return text.count("\n") + (0 if text.endswith("\n") or not text else 1)
