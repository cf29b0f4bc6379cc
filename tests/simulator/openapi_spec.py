"""GitHub's REST description (the trimmed copy in tests/fixtures/openapi) as JSON Schema, to
validate the simulator's answers with `jsonschema`.

OpenAPI 3.0 is not quite JSON Schema: `nullable: true` beside `type` (and `enum`) or beside a
`oneOf`/`anyOf`/`allOf` has to become a union with null, `discriminator` is only a hint for code
generators (the `oneOf` already decides), and `$ref`s point into `#/components/…` of the one big
document — here a resource named `urn:github` in a `referencing` registry.
"""

from __future__ import annotations

import gzip
import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError, best_match
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

SPEC = (
    Path(__file__).resolve().parents[1] / "fixtures" / "openapi" / "api.github.com.trimmed.json.gz"
)
ROOT_URI = "urn:github"
# OpenAPI-only keywords that JSON Schema would ignore or misread.
DROPPED = {"discriminator", "example", "examples", "xml", "externalDocs", "readOnly", "writeOnly"}
SCHEMA_MAPS = {"properties", "patternProperties"}  # keys are names, values are schemas
LITERALS = {"enum", "const", "default", "required"}


def convert(node: Any) -> Any:
    """One OpenAPI 3.0 schema (and everything inside it) as JSON Schema 2020-12."""
    if isinstance(node, list):
        return [convert(item) for item in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in DROPPED or key.startswith("x-"):
            continue
        if key in SCHEMA_MAPS and isinstance(value, dict):
            out[key] = {name: convert(schema) for name, schema in value.items()}
        elif key in LITERALS:
            out[key] = value
        elif key == "$ref" and isinstance(value, str) and value.startswith("#/"):
            out[key] = f"{ROOT_URI}{value}"
        else:
            out[key] = convert(value)
    if out.pop("nullable", False):
        composite = any(k in out for k in ("$ref", "oneOf", "anyOf", "allOf"))
        if "type" in out and not composite:
            kinds = out["type"] if isinstance(out["type"], list) else [out["type"]]
            out["type"] = [*kinds, "null"]
            if "enum" in out and None not in out["enum"]:
                out["enum"] = [*out["enum"], None]
        else:
            out = {"anyOf": [out, {"type": "null"}]}
    return out


@dataclass(frozen=True)
class Operation:
    method: str
    path: str  # as the description writes it
    responses: dict[str, Any]  # status code (or "default") -> response object, refs resolved


@cache
def _document() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(gzip.decompress(SPEC.read_bytes()))
    return loaded


@cache
def _registry() -> Registry:
    components = _document()["components"]
    converted = {"components": {"schemas": convert(components.get("schemas", {}))}}
    return Registry().with_resource(
        ROOT_URI, Resource.from_contents(converted, default_specification=DRAFT202012)
    )


def _resolve(node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        _, _, kind, name = node["$ref"].split("/", 3)
        node = _document()["components"][kind][name]
    return node


def operations() -> dict[tuple[str, str], Operation]:
    """Every operation of the trimmed description, by (METHOD, normalised path)."""
    found: dict[tuple[str, str], Operation] = {}
    for path, item in _document()["paths"].items():
        for method, op in item.items():
            responses = {code: _resolve(r) for code, r in op["responses"].items()}
            found[(method.upper(), normalise(path))] = Operation(method.upper(), path, responses)
    return found


def normalise(path: str) -> str:
    """A route with its parameters blanked: `/repos/{}/{}/pulls/{}`."""
    path = re.sub(r"\{[^}]*\}", "{}", path)
    return "/repos/{}/{}/contents/{}" if path == "/repos/{}/{}/contents" else path


# GitHub answers any operation with 401 (no or bad credentials) or 403 (not allowed, rate
# limited) and describes them once for all ("client errors"), not per operation.
GENERIC_ERRORS = {401, 403}
BASIC_ERROR = {"$ref": "#/components/schemas/basic-error"}


# Where the description contradicts itself, the simulator follows the component GitHub's other
# operations use (each entry says why).
ERRATA: dict[tuple[str, str, int], dict[str, Any]] = {
    # Its inline copy of `installation` makes `account` allOf [Simple User, Enterprise] (both at
    # once); the `installation` component, used by GET /app/installations/{id}, says anyOf.
    ("GET", "/app/installations", 200): {
        "type": "array",
        "items": {"$ref": "#/components/schemas/installation"},
    },
}


def response_schema(operation: Operation, status: int) -> tuple[bool, dict[str, Any] | None]:
    """(whether the description lists the status, its JSON body schema if it has one)."""
    erratum = ERRATA.get((operation.method, operation.path, status))
    if erratum is not None:
        return True, convert(erratum)
    response = operation.responses.get(str(status)) or operation.responses.get("default")
    if response is None and status in GENERIC_ERRORS:
        return True, convert(BASIC_ERROR)
    if response is None:
        return False, None
    content = response.get("content") or {}
    media = content.get("application/json") or next(iter(content.values()), None)
    schema = media.get("schema") if isinstance(media, dict) else None
    return True, convert(schema) if schema is not None else None


def problems(schema: dict[str, Any], body: Any) -> list[str]:
    """What is wrong with `body` against `schema` (empty when it is valid)."""
    validator = Draft202012Validator(schema, registry=_registry())
    return [_explain(error) for error in validator.iter_errors(body)]


def _explain(error: ValidationError) -> str:
    """The deepest reason (inside anyOf/oneOf branches), where it is, and what was there."""
    while error.context:
        error = best_match(error.context)
    where = "/".join(str(p) for p in error.absolute_path) or "<body>"
    return f"{where}: {error.message[:200]}"
