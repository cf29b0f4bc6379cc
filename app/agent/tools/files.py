"""The tools that look at the worktree: list_files (a directory tree) and read_file (numbered
lines).

Both are read-only, so the planner gets them too. Their output is capped, and says how to see
the rest: list a subdirectory, or read on from the next line.
"""

from __future__ import annotations

import asyncio
import io
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from app.agent.paths import Confinement, WorkspacePath
from app.agent.toolbox import ToolResult
from app.agent.tools.output import cap_lines
from app.agent.tools.reading import BINARY_SNIFF, is_binary, open_file
from app.agent.tools.schema import PATH, Param, Tool, ToolError

_MAX_LINE_CHARS = 2000  # read_file cuts longer lines (minified files) so one line cannot flood


class FileTools:
    """list_files and read_file on the worktree that `paths` confines them to."""

    def __init__(self, paths: Confinement, *, output_cap: int) -> None:
        self.paths = paths
        self.root = paths.root
        self.output_cap = output_cap

    def tools(self) -> list[Tool]:
        cap = self.output_cap
        return [
            Tool(
                "list_files",
                "List the files and directories under a directory of the repository, as paths "
                "relative to the repository root (directories end with '/'; the .git directory "
                "is not shown). Directories deeper than `depth` are shown with their entry count "
                f"but not expanded. Output is capped at {cap} characters; list a subdirectory to "
                "see more.",
                (
                    Param("path", "string", "Directory to list (default '.', the root)."),
                    Param("depth", "integer", "How many levels to expand (default 2).", minimum=1),
                ),
                self._list_files,
            ),
            Tool(
                "read_file",
                "Read a text file with numbered lines ('<number>\\t<line>'). Without start_line "
                "and end_line it reads from the start; the result ends with 'showing lines a–b "
                f"of N'. Output is capped at {cap} characters and lines longer than "
                f"{_MAX_LINE_CHARS} characters are cut; to read further, call it again with "
                "start_line set to the next line.",
                (
                    PATH,
                    Param("start_line", "integer", "First line to show, 1-based.", minimum=1),
                    Param("end_line", "integer", "Last line to show, inclusive.", minimum=1),
                ),
                self._read_file,
            ),
        ]

    # -- list_files -------------------------------------------------------------------------

    async def _list_files(self, args: dict[str, Any]) -> ToolResult:
        target = self.paths.resolve(args.get("path", "."))
        depth = args.get("depth", 2)
        if not target.real.exists():
            raise ToolError(f"{target.relative} does not exist; list '.' to see what does")
        if not target.real.is_dir():
            raise ToolError(f"{target.relative} is a file, not a directory; use read_file")
        lines = await asyncio.to_thread(self._tree, target, depth)
        kept, cut = cap_lines(lines, self.output_cap)
        if not kept:
            return ToolResult(f"{target.relative}/ is empty")
        note = (
            f"\n[listing cut at the output cap of {self.output_cap} characters after {len(kept)} "
            "entries; list a subdirectory or use a smaller depth]"
            if cut
            else ""
        )
        return ToolResult("\n".join(kept) + note)

    def _tree(self, target: WorkspacePath, depth: int) -> list[str]:
        lines: list[str] = []
        budget = self.output_cap  # stop walking once the listing cannot be shown anyway

        def walk(directory: Path, level: int) -> None:
            nonlocal budget
            for entry in sorted(os.scandir(directory), key=lambda e: e.name):
                if entry.name == ".git" or budget < 0:
                    continue
                relative = Path(entry.path).relative_to(self.root).as_posix()
                if entry.is_symlink():
                    line = f"{relative} -> {os.readlink(entry.path)}"
                elif entry.is_dir():
                    if level >= depth:
                        count = sum(1 for _ in os.scandir(entry.path))
                        entries = "entry" if count == 1 else "entries"
                        line = f"{relative}/ ({count} {entries}, not expanded)"
                    else:
                        line = f"{relative}/"
                else:
                    line = relative
                lines.append(line)
                budget -= len(line) + 1
                if entry.is_dir(follow_symlinks=False) and level < depth:
                    walk(Path(entry.path), level + 1)

        walk(target.real, 1)
        return lines

    # -- read_file --------------------------------------------------------------------------

    async def _read_file(self, args: dict[str, Any]) -> ToolResult:
        target = self.paths.resolve(args["path"])
        start = args.get("start_line", 1)
        end = args.get("end_line")
        if end is not None and end < start:
            raise ToolError(f"end_line ({end}) is before start_line ({start})")
        return ToolResult(await asyncio.to_thread(self._read_lines, target, start, end))

    def _read_lines(self, target: WorkspacePath, start: int, end: int | None) -> str:
        real = target.real
        if not real.exists():
            raise ToolError(f"{target.relative} does not exist; list_files or search can find it")
        if real.is_dir():
            raise ToolError(f"{target.relative} is a directory; use list_files")
        with open_file(target) as binary:
            if is_binary(binary.read(BINARY_SNIFF)):
                size = os.fstat(binary.fileno()).st_size
                raise ToolError(f"{target.relative} is a binary file ({size} bytes); not shown")
            binary.seek(0)
            with io.TextIOWrapper(binary, encoding="utf-8", errors="replace", newline="") as f:
                shown, total, cut_by_cap = self._numbered(f, start, end)
        if total == 0:
            return f"{target.relative} is empty (0 lines)"
        if start > total:
            raise ToolError(
                f"start_line {start} is past the end: {target.relative} has {total} lines"
            )
        last = start + len(shown) - 1
        footer = f"[showing lines {start}–{last} of {total} of {target.relative}"
        if cut_by_cap:
            footer += f"; stopped at the output cap of {self.output_cap} characters"
        if last < total:
            footer += f"; to read more, call read_file with start_line={last + 1}"
        return "\n".join(shown) + "\n" + footer + "]"

    def _numbered(
        self, lines: Iterator[str], start: int, end: int | None
    ) -> tuple[list[str], int, bool]:
        """The numbered lines from `start` to `end` that fit the cap; the total; whether cut."""
        shown: list[str] = []
        size = total = 0
        cut_by_cap = False
        for total, raw in enumerate(lines, start=1):
            if total < start or (end is not None and total > end) or cut_by_cap:
                continue
            text = raw.rstrip("\r\n")
            if len(text) > _MAX_LINE_CHARS:
                more = len(text) - _MAX_LINE_CHARS
                text = f"{text[:_MAX_LINE_CHARS]} [... line cut: {more} more characters]"
            line = f"{total}\t{text}"
            if shown and size + len(line) + 1 > self.output_cap:
                cut_by_cap = True
                continue
            shown.append(line)
            size += len(line) + 1
        return shown, total, cut_by_cap
