"""The contract between the agent loop and the tools it may call."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from app.llm.types import ToolSpec


@dataclass
class ToolResult:
    output: str
    is_error: bool = False


class Toolbox(Protocol):
    def specs(self) -> list[ToolSpec]: ...

    async def call(self, name: str, arguments: dict[str, Any]) -> ToolResult:
        """Run one tool. Never raises for a bad call: errors come back as is_error results."""
        ...
