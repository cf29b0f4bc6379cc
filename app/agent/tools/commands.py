"""The run tool: a shell command in the worktree, inside the sandbox.

The sandbox does the confining (no network, its limits, killing what the command left behind);
this module caps the output, keeping the start and the end, bounds the timeout by the
configured maximum, and says in the result what happened: the exit code, a timeout, a limit.
"""

from __future__ import annotations

from typing import Any

from app.agent.toolbox import ToolResult
from app.agent.tools.output import cap_middle
from app.agent.tools.schema import Param, Tool, ToolError
from app.sandbox.base import Sandbox


class CommandTool:
    """run in `sandbox`; `command_timeout_s` is both the default timeout and the maximum."""

    def __init__(self, sandbox: Sandbox, *, output_cap: int, command_timeout_s: float) -> None:
        self.sandbox = sandbox
        self.output_cap = output_cap
        self.command_timeout_s = command_timeout_s

    def tools(self) -> list[Tool]:
        cap = self.output_cap
        return [
            Tool(
                "run",
                "Run a shell command (bash) in the repository root, in a sandbox without network "
                "access, e.g. the tests. Returns the exit code and the combined stdout and "
                f"stderr, capped at {cap} characters (the start and the end are kept). The "
                f"command is killed after timeout_s seconds (default and maximum "
                f"{self.command_timeout_s:g}), and any processes it left in the background are "
                f"killed when it ends. Limits: {self.sandbox.limits.describe()}.",
                (
                    Param("command", "string", "The shell command, e.g. 'pytest -q'.", True),
                    Param("timeout_s", "number", "Seconds before it is killed.", minimum=1),
                ),
                self._run,
            ),
        ]

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
