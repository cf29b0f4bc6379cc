"""Landing notices: when a landing touches files a running worker edits or plans to, that worker
hears of it in its next request — through its inbox, the path of a maintainer's redirect."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from app.demo.script import FINAL_FILES, final_worker, judge_agent
from tests.swarm_support import (
    FULL,
    open_goal,
    requests_of,
    seeded_stack,
    wait_for,
)
from tests.test_merge_gate import task_row

INIT = (Path(__file__).parents[1] / "app/demo/sample/textkit/__init__.py").read_text()
EXPORTED = INIT.replace(
    "from textkit.core import normalize_whitespace",
    "from textkit.core import normalize_whitespace\nfrom textkit.words import word_count",
).replace('__all__ = ["normalize_whitespace"]', '__all__ = ["normalize_whitespace", "word_count"]')
SIGNAL = ".landed"  # the test puts it in the slug worker's worktree once word_count has landed


def _call(name: str, **arguments: Any) -> dict[str, Any]:
    return {"tool_calls": [{"name": name, "arguments": arguments}]}


def _task(key: str, title: str, *files: str) -> dict[str, Any]:
    return {"key": key, "title": title, "spec": f"{title}.", "acceptance": ["tests pass"],
            "files": list(files), "size": "S"}  # fmt: skip


def _script() -> dict[str, Any]:
    # One file in common of three each: not a heavy overlap, so both start at once.
    plan = [
        _task("words", "Add word_count", "textkit/__init__.py", "textkit/words.py",
              "tests/test_words.py"),
        _task("slug", "Add slugify", "textkit/__init__.py", "textkit/slug.py",
              "tests/test_slug.py"),
    ]  # fmt: skip
    planner = {
        "name": "planner",
        "match": "the planner in Swarm",
        "turns": [_call("submit_plan", tasks=plan), _call("finish", summary="two tasks")],
    }
    words = final_worker(
        "Add word_count", {**FINAL_FILES["words"], "textkit/__init__.py": EXPORTED}
    )
    wait = f"while [ ! -e {SIGNAL} ]; do sleep 0.05; done; rm {SIGNAL}; echo went on"
    slug = {
        "name": "slug worker",
        "match": r"Add slugify \(#",
        "turns": [
            _call("run", command=wait),  # at work, and busy, while word_count lands
            {"expect": "Landing notice: #\\d+ “Add word_count” landed on `main`",
             **_call("write_file", path="textkit/slug.py", content=FINAL_FILES["slug"]["textkit/slug.py"])},  # noqa: E501
            _call("finish", summary="Added slugify."),
        ],
    }  # fmt: skip
    return {"agents": [planner, judge_agent("Add word_count", ["tests pass"]), words, slug]}


def test_a_landing_on_files_a_worker_plans_to_edit_reaches_its_next_request(
    tmp_path: Path,
) -> None:
    with seeded_stack(tmp_path, _script()) as (stack, octo):
        goal = open_goal(octo)
        slug = wait_for(
            lambda: (t := task_row(goal, "slug")).state == "working" and t, "slug at work"
        )
        words = wait_for(
            lambda: (t := task_row(goal, "words")).state == "done" and t, "word_count landed"
        )
        (stack.root / "swarm" / "worktrees" / FULL / str(slug.number) / SIGNAL).touch()

        asked = wait_for(lambda: requests_of(stack, "slug worker")[1:], "slug's next request")
        notice = json.dumps(asked[0]["body"])
        assert f"Landing notice: #{words.pr_number}" in notice
        assert "textkit/__init__.py" in notice and words.landed_sha[:12] in notice
        # Only the file both touch is named; the other landed files are not its business.
        assert "textkit/words.py" not in notice
