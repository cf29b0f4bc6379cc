"""`swarm demo --json`, run as a user runs it."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path


def test_the_demo_plans_works_and_reports_honestly(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "app.cli", "demo", "--json"],
        cwd=Path(__file__).parents[1],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout)
    assert report["goal"]["state"] == "prs_open"
    assert report["simulated"] == {"github": True, "model": "scripted"}
    assert len(report["tasks"]) == 3
    for task in report["tasks"]:
        assert task["state"] == "pr_open" and task["sub_issue"] and task["pull_request"]
    assert len(report["pull_requests"]) == 3
    for pr in report["pull_requests"]:
        assert re.fullmatch(r"[0-9a-f]{40}", pr["head_sha"])
        # The agents ran the tests; the sample's .gitignore keeps their bytecode out of the PR.
        assert pr["files"] and not [f for f in pr["files"] if "__pycache__" in f], pr["files"]
        assert pr["check_conclusion"] == "success" and pr["check"] == {"ci": "success"}
        assert pr["merged"] is False  # merging is the merge gate's job, not the demo's
