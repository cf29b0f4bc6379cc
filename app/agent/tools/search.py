"""The search tool: a regular expression over file contents, one 'path:line:text' per match.

ripgrep does the work when it is installed in the sandbox, since it is fast and honours
.gitignore; otherwise a Python walk of the worktree stands in, with the same output format and
caps, skipping the directories that are almost always ignored.
"""

from __future__ import annotations

import asyncio
import fnmatch
import os
import re
import shlex
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

from app.agent.paths import Confinement, WorkspacePath
from app.agent.toolbox import ToolResult
from app.agent.tools.output import cap_lines
from app.agent.tools.reading import is_binary
from app.agent.tools.schema import Param, Tool, ToolError
from app.sandbox.base import Sandbox
from app.sandbox.hostfiles import open_regular

SearchBackend = Literal["auto", "ripgrep", "python"]

_SEARCH_COLUMNS = 400  # search shows this many bytes of a matching line
_SEARCH_TIMEOUT_S = 120.0
_FALLBACK_MAX_FILE_BYTES = 20 * 1024 * 1024  # the Python search reads whole files; skip huge ones
# The Python search fallback cannot read .gitignore; it skips what is almost always ignored.
_FALLBACK_SKIP_DIRS = frozenset(
    {".git", ".venv", "venv", "node_modules", "__pycache__", ".mypy_cache", ".pytest_cache", ".tox"}
)
_LONG_LINE = " [... omitted end of long line]"  # ripgrep's own marker, reused by the fallback


class SearchTool:
    """search on the worktree that `paths` confines it to; `backend` "auto" uses ripgrep when
    this machine has it."""

    def __init__(
        self, paths: Confinement, sandbox: Sandbox, *, output_cap: int, backend: SearchBackend
    ) -> None:
        self.paths = paths
        self.root = paths.root
        self.sandbox = sandbox
        self.output_cap = output_cap
        self.use_ripgrep = backend == "ripgrep" or (
            backend == "auto" and shutil.which("rg") is not None
        )

    def tools(self) -> list[Tool]:
        cap = self.output_cap
        ignored = (
            "files ignored by .gitignore"
            if self.use_ripgrep
            else "virtualenvs, node_modules and caches (.gitignore is not read)"
        )
        return [
            Tool(
                "search",
                "Search file contents for a regular expression (ripgrep syntax), recursively, "
                f"skipping .git and {ignored}. Each match is one line "
                f"'path:line:text'; long lines are cut at {_SEARCH_COLUMNS} characters. Output is "
                f"capped at {cap} characters; narrow the pattern, path or glob to see the rest.",
                (
                    Param("pattern", "string", "Regular expression, e.g. 'def load_\\w+'.", True),
                    Param("path", "string", "File or directory to search (default '.')."),
                    Param("glob", "string", "Only files matching this glob, e.g. '*.py'."),
                ),
                self._search,
            ),
        ]

    async def _search(self, args: dict[str, Any]) -> ToolResult:
        pattern: str = args["pattern"]
        target = self.paths.resolve(args.get("path", "."))
        glob: str | None = args.get("glob")
        if not target.real.exists():
            raise ToolError(f"{target.relative} does not exist; list '.' to see what does")
        lines: list[str] | None = None
        if self.use_ripgrep:
            lines = await self._ripgrep(pattern, target, glob)
        if lines is None:
            lines = await asyncio.to_thread(self._python_search, pattern, target, glob)
        where = target.relative + (f" (files matching {glob})" if glob else "")
        if not lines:
            return ToolResult(f"no matches for {pattern!r} in {where}")
        kept, cut = cap_lines(lines, self.output_cap)
        note = (
            f"\n[output cut at the cap of {self.output_cap} characters after {len(kept)} matching "
            "lines; narrow the pattern, path or glob to see the rest]"
            if cut
            else ""
        )
        return ToolResult("\n".join(kept) + note)

    # -- ripgrep, in the sandbox ------------------------------------------------------------

    async def _ripgrep(
        self, pattern: str, target: WorkspacePath, glob: str | None
    ) -> list[str] | None:
        """Matching lines from ripgrep in the sandbox; None when rg is missing in there."""
        argv = ["rg", "--line-number", "--no-heading", "--with-filename", "--color", "never"]
        argv += ["--max-columns", str(_SEARCH_COLUMNS), "--max-columns-preview", "--sort", "path"]
        argv += ["--hidden", "--no-require-git", "--no-messages", "--glob", "!.git"]
        if glob:
            argv += ["--glob", glob]
        argv += ["-e", pattern, "--"]
        if target.relative != ".":
            argv.append(target.relative)  # relative paths make rg print paths from the root
        result = await self.sandbox.run(shlex.join(argv), timeout_s=_SEARCH_TIMEOUT_S)
        if result.timed_out:
            raise ToolError(
                f"the search took longer than {_SEARCH_TIMEOUT_S:g} s; narrow the path or glob"
            )
        if result.exit_code == 127:
            return None  # not installed inside the sandbox: the Python search takes over
        if result.exit_code not in (0, 1):
            raise ToolError(f"ripgrep failed (exit code {result.exit_code}): {result.output}")
        return result.output.splitlines()

    # -- the Python fallback, on the host ---------------------------------------------------

    def _python_search(self, pattern: str, target: WorkspacePath, glob: str | None) -> list[str]:
        try:
            regex = re.compile(pattern)
        except re.error as exc:
            raise ToolError(f"invalid regular expression {pattern!r}: {exc}") from exc
        lines: list[str] = []
        budget = self.output_cap
        for path in self._walk_files(target.real, glob):
            try:
                with open_regular(path) as f:
                    data = f.read()
            except OSError:
                continue  # replaced by a FIFO or removed since the walk saw it
            if is_binary(data):
                continue
            relative = path.relative_to(self.root).as_posix()
            text = data.decode("utf-8", errors="replace")
            for number, line in enumerate(text.splitlines(), start=1):
                if regex.search(line):
                    if len(line.encode()) > _SEARCH_COLUMNS:
                        line = line.encode()[:_SEARCH_COLUMNS].decode(errors="ignore") + _LONG_LINE
                    lines.append(f"{relative}:{number}:{line}")
                    budget -= len(lines[-1]) + 1
                    if budget < 0:  # enough to fill the cap; the caller says it was cut
                        return lines
        return lines

    def _walk_files(self, start: Path, glob: str | None) -> Iterator[Path]:
        if start.is_file():
            yield start
            return
        for directory, dirnames, filenames in os.walk(start):
            dirnames[:] = sorted(d for d in dirnames if d not in _FALLBACK_SKIP_DIRS)
            for name in sorted(filenames):
                path = Path(directory) / name
                if path.is_symlink() or not path.is_file():
                    continue  # like ripgrep, symlinks are not followed
                if path.stat().st_size > _FALLBACK_MAX_FILE_BYTES:
                    continue
                relative = path.relative_to(self.root).as_posix()
                if glob and not _glob_matches(glob, name, relative):
                    continue
                yield path


def _glob_matches(glob: str, name: str, relative: str) -> bool:
    if glob.startswith("!"):
        return not _glob_matches(glob[1:], name, relative)
    return fnmatch.fnmatchcase(relative if "/" in glob else name, glob)
