"""The agent-computer interface: list, read, search, replace, write and run, on one worktree.

Every tool answers with text a model can act on. A bad call (unknown tool, missing or mistyped
argument, a path outside the worktree, a snippet that is absent or ambiguous) comes back as a
`ToolResult(is_error=True)` saying what to do instead; `call()` never raises. Every output is
capped, and the result says so when it was cut.

One module per kind of tool: `files` (list_files, read_file), `search`, `edits` (replace,
write_file) and `commands` (run); `workspace` composes them into `WorkspaceTools`, the Toolbox an
agent gets. They share `schema` (a tool's parameters and the checks of a call's arguments),
`output` (the caps) and `reading` (opening files as text, regular files only).
"""

from app.agent.tools.workspace import COMMAND_TOOLS, READ_ONLY_TOOLS, WorkspaceTools

__all__ = ["COMMAND_TOOLS", "READ_ONLY_TOOLS", "WorkspaceTools"]
