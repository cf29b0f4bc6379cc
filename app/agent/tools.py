"""The agent-computer interface: list, read, search, replace, write and run, on one worktree.

Every tool answers with text a model can act on. A bad call (unknown tool, missing or mistyped
argument, a path outside the worktree, a snippet that is absent or ambiguous) comes back as a
`ToolResult(is_error=True)` saying what to do instead; `call()` never raises. Every output is
capped, and the result says so when it was cut.
"""

from __future__ import annotations

import asyncio
import fnmatch
import io
import os
import re
import shlex
import shutil
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Literal

from app.agent.paths import Confinement, PathRefused, WorkspacePath
from app.agent.toolbox import ToolResult
from app.llm.types import ToolSpec
from app.sandbox.base import Sandbox
from app.sandbox.hostfiles import NotRegularFile, open_regular, write_regular
from app.sandbox.users import adopt

SearchBackend = Literal["auto", "ripgrep", "python"]

READ_ONLY_TOOLS = ("list_files", "read_file", "search")
_MAX_LINE_CHARS = 2000  # read_file cuts longer lines (minified files) so one line cannot flood
_SEARCH_COLUMNS = 400  # search shows this many bytes of a matching line
_SEARCH_TIMEOUT_S = 120.0
_BINARY_SNIFF = 8192
_FALLBACK_MAX_FILE_BYTES = 20 * 1024 * 1024  # the Python search reads whole files; skip huge ones
# The Python search fallback cannot read .gitignore; it skips what is almost always ignored.
_FALLBACK_SKIP_DIRS = frozenset(
    {".git", ".venv", "venv", "node_modules", "__pycache__", ".mypy_cache", ".pytest_cache", ".tox"}
)
_LONG_LINE = " [... omitted end of long line]"  # ripgrep's own marker, reused by the fallback


class ToolError(Exception):
    """A failure to report to the model as an error result (never raised out of `call`)."""


@dataclass(frozen=True)
class _Param:
    name: str
    type: Literal["string", "integer", "number"]
    description: str
    required: bool = False
    minimum: float | None = None


Handler = Callable[[dict[str, Any]], Awaitable[ToolResult]]


@dataclass(frozen=True)
class _Tool:
    name: str
    description: str
    params: tuple[_Param, ...]
    handler: Handler

    def spec(self) -> ToolSpec:
        properties: dict[str, Any] = {}
        for p in self.params:
            prop: dict[str, Any] = {"type": p.type, "description": p.description}
            if p.minimum is not None:
                prop["minimum"] = p.minimum
            properties[p.name] = prop
        schema = {
            "type": "object",
            "properties": properties,
            "required": [p.name for p in self.params if p.required],
            "additionalProperties": False,
        }
        return ToolSpec(name=self.name, description=self.description, parameters=schema)

    def signature(self) -> str:
        return ", ".join(
            f"{p.name} ({p.type}{'' if p.required else ', optional'})" for p in self.params
        )


def _check_arguments(tool: _Tool, arguments: dict[str, Any]) -> dict[str, Any]:
    """Validate against the tool's parameters; a null optional argument counts as absent."""
    if not isinstance(arguments, dict):
        raise ToolError(f"{tool.name} takes a JSON object of arguments: {tool.signature()}")
    known = {p.name: p for p in tool.params}
    unknown = sorted(set(arguments) - set(known))
    if unknown:
        raise ToolError(
            f"{tool.name} has no argument {', '.join(map(repr, unknown))}; "
            f"it takes: {tool.signature()}"
        )
    checked: dict[str, Any] = {}
    for p in tool.params:
        value = arguments.get(p.name)
        if value is None:
            if p.required:
                raise ToolError(
                    f"{tool.name} is missing the required argument {p.name!r}; "
                    f"it takes: {tool.signature()}"
                )
            continue
        checked[p.name] = _check_type(tool.name, p, value)
    return checked


def _check_type(tool: str, p: _Param, value: Any) -> Any:
    if p.type == "string":
        ok = isinstance(value, str)
    elif p.type == "integer":
        ok = isinstance(value, int) and not isinstance(value, bool)
    else:
        ok = isinstance(value, int | float) and not isinstance(value, bool)
    if not ok:
        raise ToolError(
            f"{tool}: argument {p.name!r} must be a {p.type}, not {type(value).__name__} "
            f"({value!r:.60})"
        )
    if p.minimum is not None and value < p.minimum:
        raise ToolError(f"{tool}: argument {p.name!r} must be at least {p.minimum:g}, not {value}")
    return value


def cap_middle(text: str, cap: int) -> tuple[str, bool]:
    """Keep the first and last halves of `cap` characters, with a marker saying what was cut."""
    if len(text) <= cap:
        return text, False
    half = cap // 2
    dropped = len(text) - 2 * half
    marker = f"\n[... {dropped} characters cut from the middle (output cap {cap}) ...]\n"
    return text[:half] + marker + text[len(text) - half :], True


def _cap_lines(lines: Sequence[str], cap: int) -> tuple[list[str], bool]:
    """The leading whole lines that fit in `cap` characters."""
    kept: list[str] = []
    size = 0
    for line in lines:
        size += len(line) + 1
        if size > cap and kept:
            return kept, True
        kept.append(line[:cap])
    return kept, False


def _is_binary(data: bytes) -> bool:
    return b"\0" in data[:_BINARY_SNIFF]


class WorkspaceTools:
    """The Toolbox an agent gets for one worktree; `read_only=True` (the planner) offers only
    list_files, read_file and search."""

    def __init__(
        self,
        root: Path,
        sandbox: Sandbox,
        *,
        read_only: bool = False,
        command_timeout_s: float = 600,
        protected: Sequence[str] = (".git/**",),
        output_cap: int = 20000,
        search_backend: SearchBackend = "auto",
    ) -> None:
        self.paths = Confinement(root, protected)
        self.root = self.paths.root
        self.sandbox = sandbox
        self.read_only = read_only
        self.command_timeout_s = command_timeout_s
        self.output_cap = output_cap
        self.use_ripgrep = search_backend == "ripgrep" or (
            search_backend == "auto" and shutil.which("rg") is not None
        )
        self._tools = {tool.name: tool for tool in self._all_tools()}

    # -- the Toolbox protocol ---------------------------------------------------------------

    def specs(self) -> list[ToolSpec]:
        return [t.spec() for t in self._tools.values() if self._offered(t.name)]

    async def call(self, name: str, arguments: dict[str, Any]) -> ToolResult:
        tool = self._tools.get(name)
        if tool is None or not self._offered(name):
            offered = ", ".join(t.name for t in self._tools.values() if self._offered(t.name))
            why = "is not available to this read-only agent" if tool else "does not exist"
            return ToolResult(f"the tool {name!r} {why}; the tools are: {offered}", is_error=True)
        try:
            return await tool.handler(_check_arguments(tool, arguments))
        except (ToolError, PathRefused) as exc:
            return ToolResult(f"{name}: {exc}", is_error=True)
        except Exception as exc:  # a tool must never take the agent loop down
            return ToolResult(f"{name} failed: {type(exc).__name__}: {exc}", is_error=True)

    def _offered(self, name: str) -> bool:
        return not self.read_only or name in READ_ONLY_TOOLS

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

    # -- the tools --------------------------------------------------------------------------

    def _all_tools(self) -> list[_Tool]:
        cap = self.output_cap
        ignored = (
            "files ignored by .gitignore"
            if self.use_ripgrep
            else "virtualenvs, node_modules and caches (.gitignore is not read)"
        )
        path_param = _Param(
            "path", "string", "A path relative to the repository root, e.g. 'src/app.py'.", True
        )
        return [
            _Tool(
                "list_files",
                "List the files and directories under a directory of the repository, as paths "
                "relative to the repository root (directories end with '/'; the .git directory "
                "is not shown). Directories deeper than `depth` are shown with their entry count "
                f"but not expanded. Output is capped at {cap} characters; list a subdirectory to "
                "see more.",
                (
                    _Param("path", "string", "Directory to list (default '.', the root)."),
                    _Param("depth", "integer", "How many levels to expand (default 2).", minimum=1),
                ),
                self._list_files,
            ),
            _Tool(
                "read_file",
                "Read a text file with numbered lines ('<number>\\t<line>'). Without start_line "
                "and end_line it reads from the start; the result ends with 'showing lines a–b "
                f"of N'. Output is capped at {cap} characters and lines longer than "
                f"{_MAX_LINE_CHARS} characters are cut; to read further, call it again with "
                "start_line set to the next line.",
                (
                    path_param,
                    _Param("start_line", "integer", "First line to show, 1-based.", minimum=1),
                    _Param("end_line", "integer", "Last line to show, inclusive.", minimum=1),
                ),
                self._read_file,
            ),
            _Tool(
                "search",
                "Search file contents for a regular expression (ripgrep syntax), recursively, "
                f"skipping .git and {ignored}. Each match is one line "
                f"'path:line:text'; long lines are cut at {_SEARCH_COLUMNS} characters. Output is "
                f"capped at {cap} characters; narrow the pattern, path or glob to see the rest.",
                (
                    _Param("pattern", "string", "Regular expression, e.g. 'def load_\\w+'.", True),
                    _Param("path", "string", "File or directory to search (default '.')."),
                    _Param("glob", "string", "Only files matching this glob, e.g. '*.py'."),
                ),
                self._search,
            ),
            _Tool(
                "replace",
                "Replace one exact snippet of a file with new text. `old` must occur exactly once "
                "in the file, character for character (whitespace and indentation included): "
                "copy it from read_file's output without the line numbers, with enough "
                "surrounding lines to be unique. Fails, changing nothing, when the snippet is "
                "absent or occurs more than once (the error says where).",
                (
                    path_param,
                    _Param("old", "string", "The exact text to replace.", True),
                    _Param("new", "string", "The text to put in its place.", True),
                ),
                self._replace,
            ),
            _Tool(
                "write_file",
                "Create a file, or overwrite it entirely, with `content`; parent directories are "
                "created. Prefer `replace` for changing part of an existing file.",
                (path_param, _Param("content", "string", "The complete new file content.", True)),
                self._write_file,
            ),
            _Tool(
                "run",
                "Run a shell command (bash) in the repository root, in a sandbox without network "
                "access, e.g. the tests. Returns the exit code and the combined stdout and "
                f"stderr, capped at {cap} characters (the start and the end are kept). The "
                f"command is killed after timeout_s seconds (default and maximum "
                f"{self.command_timeout_s:g}), and any processes it left in the background are "
                f"killed when it ends. Limits: {self.sandbox.limits.describe()}.",
                (
                    _Param("command", "string", "The shell command, e.g. 'pytest -q'.", True),
                    _Param("timeout_s", "number", "Seconds before it is killed.", minimum=1),
                ),
                self._run,
            ),
        ]

    async def _list_files(self, args: dict[str, Any]) -> ToolResult:
        target = self.paths.resolve(args.get("path", "."))
        depth = args.get("depth", 2)
        if not target.real.exists():
            raise ToolError(f"{target.relative} does not exist; list '.' to see what does")
        if not target.real.is_dir():
            raise ToolError(f"{target.relative} is a file, not a directory; use read_file")
        lines = await asyncio.to_thread(self._tree, target, depth)
        kept, cut = _cap_lines(lines, self.output_cap)
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
        with _open_file(target) as binary:
            if _is_binary(binary.read(_BINARY_SNIFF)):
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
        kept, cut = _cap_lines(lines, self.output_cap)
        note = (
            f"\n[output cut at the cap of {self.output_cap} characters after {len(kept)} matching "
            "lines; narrow the pattern, path or glob to see the rest]"
            if cut
            else ""
        )
        return ToolResult("\n".join(kept) + note)

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
            if _is_binary(data):
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
                if glob and not self._glob_matches(glob, name, relative):
                    continue
                yield path

    @staticmethod
    def _glob_matches(glob: str, name: str, relative: str) -> bool:
        if glob.startswith("!"):
            return not WorkspaceTools._glob_matches(glob[1:], name, relative)
        return fnmatch.fnmatchcase(relative if "/" in glob else name, glob)

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
        with _open_file(target) as f:
            data = f.read()
        if _is_binary(data):
            raise ToolError(f"{target.relative} is a binary file; it cannot be edited as text")
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ToolError(f"{target.relative} is not UTF-8 text ({exc.reason})") from exc

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

    async def _run(self, args: dict[str, Any]) -> ToolResult:
        command: str = args["command"]
        if not command.strip():
            raise ToolError("the command is empty")
        requested = args.get("timeout_s", self.command_timeout_s)
        timeout = min(float(requested), self.command_timeout_s)
        result = await self.sandbox.run(command, timeout_s=timeout)
        output, cut = cap_middle(result.output, self.output_cap)
        if result.timed_out:
            head = (
                f"[timed out after {timeout:g} s: the command and every process it started "
                "were killed]"
            )
        elif result.exit_code is None:
            head = "[stopped by the sandbox: the command and every process it started were killed]"
        else:
            head = f"[exit code {result.exit_code}]"
        notes = []
        if result.limit:
            notes.append(f"[sandbox limit: {result.limit}]")
        if requested > self.command_timeout_s:
            notes.append(f"[timeout_s was lowered to the maximum, {self.command_timeout_s:g} s]")
        if result.truncated or cut:
            notes.append(
                "[output truncated: only the start and the end are shown; redirect to a file "
                "and search or read it for the rest]"
            )
        body = output if output else "(no output)"
        failed = result.timed_out or result.exit_code is None
        return ToolResult("\n".join([head, body.rstrip("\n"), *notes]), is_error=failed)


def _occurrences(text: str, snippet: str) -> list[int]:
    positions = []
    index = text.find(snippet)
    while index != -1:
        positions.append(index)
        index = text.find(snippet, index + len(snippet))
    return positions


def _line_count(text: str) -> int:
    return text.count("\n") + (0 if text.endswith("\n") or not text else 1)


def _open_file(target: WorkspacePath) -> BinaryIO:
    """The file for reading, refused when it is a FIFO, socket or device (which would block or
    talk back) — checked on the open file, so a swap after the path check changes nothing."""
    try:
        return open_regular(target.real)
    except NotRegularFile as exc:
        raise ToolError(f"{target.relative}: {exc}; the tools only read regular files") from exc
