"""The Toolbox an agent gets for one worktree: every kind of tool, composed, behind `specs()`
and `call()`.

The tools themselves live in a module per kind; this one decides which of them an agent is
offered (all of them; only the read-only ones for the planner; the read-only ones and `run` for
the judge), checks each call's arguments, and turns every failure into an error result, so a bad
call never takes the agent loop down.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from app.agent.paths import Confinement, PathRefused
from app.agent.toolbox import ToolResult
from app.agent.tools.commands import CommandTool
from app.agent.tools.edits import EditTools
from app.agent.tools.files import FileTools
from app.agent.tools.schema import ToolError, check_arguments
from app.agent.tools.search import SearchBackend, SearchTool
from app.llm.types import ToolSpec
from app.sandbox.base import Sandbox

READ_ONLY_TOOLS = ("list_files", "read_file", "search")
COMMAND_TOOLS = ("run",)


class WorkspaceTools:
    """The Toolbox an agent gets for one worktree; `read_only=True` (the planner) offers only
    list_files, read_file and search, and `run` as well with `allow_commands=True` (the judge,
    which runs the tests but edits nothing with its tools).

    A command is not confined by `read_only`: the sandbox leaves the worktree writable (test
    runs and builds write caches and artefacts there), so a read-only agent that runs commands
    must work in a throwaway worktree whose changes nobody commits."""

    def __init__(
        self,
        root: Path,
        sandbox: Sandbox,
        *,
        read_only: bool = False,
        allow_commands: bool = False,
        command_timeout_s: float = 600,
        protected: Sequence[str] = (".git/**",),
        output_cap: int = 20000,
        search_backend: SearchBackend = "auto",
    ) -> None:
        self.paths = Confinement(root, protected)
        self.root = self.paths.root
        self.sandbox = sandbox
        self.read_only = read_only
        self.allow_commands = allow_commands
        self.command_timeout_s = command_timeout_s
        self.output_cap = output_cap
        search = SearchTool(self.paths, sandbox, output_cap=output_cap, backend=search_backend)
        self.use_ripgrep = search.use_ripgrep
        kinds = (
            FileTools(self.paths, output_cap=output_cap),
            search,
            EditTools(self.paths),
            CommandTool(sandbox, output_cap=output_cap, command_timeout_s=command_timeout_s),
        )
        # The order here is the order of the specs the model sees.
        self._tools = {tool.name: tool for kind in kinds for tool in kind.tools()}

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
            return await tool.handler(check_arguments(tool, arguments))
        except (ToolError, PathRefused) as exc:
            return ToolResult(f"{name}: {exc}", is_error=True)
        except Exception as exc:  # a tool must never take the agent loop down
            return ToolResult(f"{name} failed: {type(exc).__name__}: {exc}", is_error=True)

    def _offered(self, name: str) -> bool:
        if not self.read_only or name in READ_ONLY_TOOLS:
            return True
        return self.allow_commands and name in COMMAND_TOOLS
