"""What one goal costs GitHub: REST requests and writes per task, and how often the status
comment is rewritten, measured on the demo's goal (three tasks) against the simulator.

    .venv/bin/python bench/github_writes.py [--runs N] [--json]

Prints one line per run and the median. Every figure comes from the simulator's request log.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.demo.run import seed
from app.demo.script import happy_script
from app.demo.stack import remove_stack_files, temporary_stack

COMMENT_WRITE = re.compile(r"^/repos/[^/]+/[^/]+/issues/(?:\d+/comments|comments/\d+)$")


def one_run() -> dict[str, float]:
    stack = temporary_stack(happy_script())
    try:
        with stack:
            seed(stack)
            before = len(stack.control.requests())
            stack.settle(timeout=600)
            log = stack.control.requests()[before:]
    finally:
        remove_stack_files(stack)
    rest = [r for r in log if ".git/" not in r["path"] and r["actor"] != "octo"]
    writes = [r for r in rest if r["method"] != "GET"]
    comment_writes = [r for r in writes if COMMENT_WRITE.match(r["path"])]
    tasks = 3
    return {
        "rest_per_task": len(rest) / tasks,
        "writes_per_task": len(writes) / tasks,
        "comment_writes": len(comment_writes),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--json", action="store_true", help="print one JSON object instead")
    args = parser.parse_args()
    runs = [one_run() for _ in range(args.runs)]
    if args.json:
        print(json.dumps({"runs": runs}))
        return
    for run in runs:
        print("  ".join(f"{k}={v:.1f}" for k, v in run.items()))
    print("median:", "  ".join(f"{k}={statistics.median(r[k] for r in runs):.1f}" for k in runs[0]))


if __name__ == "__main__":
    main()
