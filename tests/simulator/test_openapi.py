"""The simulator's honesty, checked against GitHub's own REST description: every operation it
serves is one GitHub describes, is driven through a real request, answers a status code the
description lists for it, and a JSON body its schema accepts."""

from __future__ import annotations

import json
from collections import Counter

from app.simulator.github.server import GITHUB_ROUTERS
from tests.simulator.conftest import World
from tests.simulator.openapi_spec import (
    convert,
    normalise,
    operations,
    problems,
    response_schema,
)
from tests.simulator.openapi_tour import Exchange, Recorder, tour


def _served() -> list[tuple[str, object]]:
    """(METHOD, route) of every GitHub route, in the order the server tries them."""
    return [
        (method, route)
        for router in GITHUB_ROUTERS
        for route in router.routes
        for method in sorted(getattr(route, "methods", ()))
    ]


def _operation_of(exchange: Exchange) -> tuple[str, str] | None:
    for method, route in _served():
        if method == exchange.method and route.path_regex.match(exchange.path):  # type: ignore[attr-defined]
            return method, normalise(route.path)  # type: ignore[attr-defined]
    return None


def test_every_served_operation_is_one_github_describes() -> None:
    described = operations()
    served = {(m, normalise(r.path)) for m, r in _served()}  # type: ignore[attr-defined]
    assert served - described.keys() == set()
    assert len(described) == len(served)  # the trimmed copy holds nothing else


def test_answers_match_githubs_description(world: World) -> None:
    recorder = Recorder()
    try:
        tour(world, recorder)
    finally:
        recorder.close()
    described = operations()
    exercised: Counter[tuple[str, str]] = Counter()
    wrong_status: list[str] = []
    invalid: list[str] = []
    bodies = 0
    for exchange in recorder.exchanges:
        key = _operation_of(exchange)
        if key is None:
            continue  # the control API
        exercised[key] += 1
        operation = described[key]
        listed, schema = response_schema(operation, exchange.status)
        where = f"{exchange.method} {exchange.path} -> {exchange.status}"
        if not listed:
            wrong_status.append(f"{where} (described: {sorted(operation.responses)})")
            continue
        if schema is None or not exchange.body:
            continue
        bodies += 1
        found = problems(schema, json.loads(exchange.body))
        if found:
            invalid.append(f"{where}: {found[:3]}")
    missing = sorted(set(described) - set(exercised))
    print(
        f"\nOpenAPI: {len(exercised)}/{len(described)} operations driven, "
        f"{sum(exercised.values())} answers, {len(wrong_status)} with an undescribed status, "
        f"{bodies - len(invalid)}/{bodies} JSON bodies valid"
    )
    assert missing == [], missing
    assert wrong_status + invalid == [], "\n".join(wrong_status + invalid)


def test_the_check_is_not_vacuous() -> None:
    """OpenAPI 3.0's `nullable` beside `enum`/`$ref` becomes a union with null, and a body that
    breaks the description is caught, through `$ref`s."""
    assert convert({"type": "string", "enum": ["a"], "nullable": True}) == {
        "type": ["string", "null"],
        "enum": ["a", None],
    }
    assert convert({"allOf": [{"$ref": "#/components/schemas/x"}], "nullable": True}) == {
        "anyOf": [{"allOf": [{"$ref": "urn:github#/components/schemas/x"}]}, {"type": "null"}]
    }
    pull = operations()[("GET", "/repos/{}/{}/pulls/{}")]
    _, schema = response_schema(pull, 200)
    assert schema is not None
    complaints = problems(schema, {"number": "one", "state": "open"})
    assert any("'url' is a required property" in c for c in complaints)
    assert any(c.startswith("number:") for c in complaints)
    merged_by = {"merged_by": None, "milestone": None}
    assert not any(c.startswith(("merged_by", "milestone")) for c in problems(schema, merged_by))
