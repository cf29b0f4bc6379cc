"""The shape of the code: import cycles, module and function sizes, tests against product code.

    .venv/bin/python bench/code_shape.py [--json out.json]

Product code is `app/` without the simulator (a stand-in for GitHub and the model providers);
tests are `tests/` (Python files; fixtures are data). Lines are non-blank lines. An import cycle
is a strongly connected group of two or more modules of `app/` (less the simulator) that import
each other, at any depth, counting imports inside functions too.
"""

from __future__ import annotations

import argparse
import ast
import json
import statistics
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def python_files(folder: Path, *, skip: str | None = None) -> Iterator[Path]:
    for path in sorted(folder.rglob("*.py")):
        if skip and skip in path.parts:
            continue
        yield path


def lines(path: Path) -> int:
    return sum(1 for line in path.read_text().splitlines() if line.strip())


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(path: Path, modules: set[str]) -> set[str]:
    """The modules of `modules` that `path` imports (a `from a import b` of a submodule counts
    as `a.b`; of a name, as `a`)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name in modules)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                child = f"{node.module}.{alias.name}"
                if child in modules:
                    found.add(child)
                elif node.module in modules:
                    found.add(node.module)
    return found


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's strongly connected components of two or more nodes."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for other in graph[node]:
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return groups


def function_lengths(paths: list[Path]) -> list[int]:
    found = []
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.end_lineno:
                found.append(node.end_lineno - node.lineno + 1)
    return found


def shape() -> dict[str, object]:
    product = list(python_files(ROOT / "app", skip="simulator"))
    tests = list(python_files(ROOT / "tests"))
    names = {module_name(p): p for p in product}
    graph = {name: imports_of(path, set(names)) - {name} for name, path in names.items()}
    groups = cycles(graph)
    sizes = [lines(p) for p in product if lines(p)]
    functions = sorted(function_lengths(product))
    product_lines, test_lines = sum(sizes), sum(lines(p) for p in tests)
    return {
        "modules": len(sizes),
        "import_cycles": len(groups),
        "modules_in_cycles": sum(len(g) for g in groups),
        "median_module_lines": statistics.median(sizes),
        "function_p90_lines": functions[int(0.9 * (len(functions) - 1))],
        "product_lines": product_lines,
        "test_lines": test_lines,
        "tests_per_code": round(test_lines / product_lines, 2),
        "cycles": groups,
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    figures = shape()
    for name, value in figures.items():
        if name != "cycles":
            print(f"{name}: {value}")
    for group in figures["cycles"]:  # type: ignore[attr-defined]
        print("cycle:", " ".join(group))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))
