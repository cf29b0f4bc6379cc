"""What a tool is: a name, a description and typed parameters, the JSON schema the model sees,
and the checks of a call's arguments against it.

The arguments come from a model, so they are checked before any handler runs: a missing,
unknown or mistyped argument becomes a `ToolError` that repeats the tool's signature, so the
model can correct the call instead of guessing.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Literal

from app.agent.toolbox import ToolResult
from app.llm.types import ToolSpec


class ToolError(Exception):
    """A failure to report to the model as an error result (never raised out of `call`)."""


@dataclass(frozen=True)
class Param:
    name: str
    type: Literal["string", "integer", "number"]
    description: str
    required: bool = False
    minimum: float | None = None


# The path argument of read_file, replace and write_file.
PATH = Param("path", "string", "A path relative to the repository root, e.g. 'src/app.py'.", True)

Handler = Callable[[dict[str, Any]], Awaitable[ToolResult]]


@dataclass(frozen=True)
class Tool:
    name: str
    description: str
    params: tuple[Param, ...]
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


def check_arguments(tool: Tool, arguments: dict[str, Any]) -> dict[str, Any]:
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


def _check_type(tool: str, p: Param, value: Any) -> Any:
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
