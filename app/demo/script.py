"""The scripted model behind `swarm demo`: what the planner and each worker "say".

A real model would decide these turns; here they are written down so that the demo runs with
no key and no network. Everything else — the tools, the sandbox, git, the pull requests, CI —
is the real thing.
"""

from __future__ import annotations

from typing import Any

GOAL_TITLE = "Add text statistics helpers"
GOAL_BODY = """\
textkit needs two more helpers, each with tests, and the README should document them:

- `word_count(text)`: the number of words in a text;
- `slugify(text)`: a lower-case, dash-separated slug for a title.
"""

WORDS_PY = '''\
def word_count(text: str) -> int:
    """The number of whitespace-separated words in `text`."""
    return len(text.split())
'''
WORDS_TEST = """\
from textkit.words import word_count


def test_word_count() -> None:
    assert word_count("one two  three") == 3
    assert word_count("") == 0
"""
SLUG_PY = '''\
import re


def slugify(text: str) -> str:
    """A lower-case slug: runs of other characters become one dash."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
'''
SLUG_TEST = """\
from textkit.slug import slugify


def test_slugify() -> None:
    assert slugify("Hello, World!") == "hello-world"
    assert slugify("  --  ") == ""
"""

PLAN = {
    "summary": "Two independent modules with tests, then the README once both exist.",
    "tasks": [
        {
            "key": "words",
            "title": "Add word_count",
            "spec": "Add `textkit/words.py` with `word_count(text) -> int` and a test.",
            "acceptance": ["word_count('one two  three') == 3", "tests pass"],
            "files": ["textkit/words.py", "tests/test_words.py"],
            "size": "S",
        },
        {
            "key": "slug",
            "title": "Add slugify",
            "spec": "Add `textkit/slug.py` with `slugify(text) -> str` and a test.",
            "acceptance": ["slugify('Hello, World!') == 'hello-world'", "tests pass"],
            "files": ["textkit/slug.py", "tests/test_slug.py"],
            "size": "S",
        },
        {
            "key": "docs",
            "title": "Document word_count and slugify in the README",
            "spec": "List the two new helpers in README.md with one line each.",
            "acceptance": ["README.md mentions word_count and slugify"],
            "files": ["README.md"],
            "depends_on": ["words", "slug"],
            "size": "S",
        },
    ],
}

README_DOCS = """\
# textkit

Small text utilities.

- `normalize_whitespace(text)`: collapse runs of whitespace.
- `word_count(text)`: the number of words (`textkit.words`).
- `slugify(text)`: a lower-case, dash-separated slug (`textkit.slug`).
"""


def _call(name: str, **arguments: Any) -> dict[str, Any]:
    return {"name": name, "arguments": arguments}


def _worker(match: str, text: str, writes: dict[str, str]) -> dict[str, Any]:
    """A worker that reads, writes its files, runs the tests and finishes."""
    return {
        "name": f"worker: {match}",
        "match": match,
        "turns": [
            {"text": "Reading the code first.", "tool_calls": [_call("list_files", path=".")]},
            {"tool_calls": [_call("read_file", path="textkit/core.py")]},
            {"tool_calls": [_call("write_file", path=p, content=c) for p, c in writes.items()]},
            {"tool_calls": [_call("run", command="python -m pytest -q")]},
            {"tool_calls": [_call("finish", summary=text)]},
        ],
    }


def demo_script() -> dict[str, Any]:
    return {
        "agents": [
            {
                "name": "planner",
                "match": "the planner in Swarm",
                "turns": [
                    {"text": "Let me see the project.", "tool_calls": [_call("list_files")]},
                    {"tool_calls": [_call("read_file", path="textkit/core.py")]},
                    {"tool_calls": [_call("submit_plan", **PLAN)]},
                    {"tool_calls": [_call("finish", summary="Planned three tasks.")]},
                ],
            },
            _worker(
                r"Add word_count \(#",
                "Added textkit/words.py with word_count and its test; pytest passes.",
                {"textkit/words.py": WORDS_PY, "tests/test_words.py": WORDS_TEST},
            ),
            _worker(
                r"Add slugify \(#",
                "Added textkit/slug.py with slugify and its test; pytest passes.",
                {"textkit/slug.py": SLUG_PY, "tests/test_slug.py": SLUG_TEST},
            ),
            _worker(
                r"Document word_count and slugify",
                "Documented word_count and slugify in README.md; pytest passes.",
                {"README.md": README_DOCS},
            ),
        ]
    }
