"""The merge gate under load: 20 pull requests against one moving base, lock-free, one at a
time, and through the merge train.

    .venv/bin/python bench/merge_gate.py [--json out.json] [--modes train,lock-free]

Plays the goal of tests/test_merge_gate_many.py (20 independent tasks, scripted workers and
judges, a person's push to main under a candidate built on the first landing) once per mode, on
the real stack: (a) the lock-free gate (`SWARM_GATE_CONCURRENCY`=16, the default: every
pull request's gate builds and tests its candidate at once, and lands by compare-and-swap),
(b) one pull request at a time (`SWARM_GATE_CONCURRENCY=1`: each gate holds the repository's
only slot from its candidate to its landing, as a merge lock would) and (c) the merge train
(`gate.train.enabled: true`, its default window and batches).

For each: the wall time from the label to the goal's last move (`done`, or `incomplete` when a
task was blocked), tasks landed and blocked, landings (distinct landed commits: the train lands
several pull requests in one), CI runs per landed pull request (the task rows'
`ci_runs`: candidates built and checks re-run), agent rounds per landed pull request (the rows'
`rounds`: hand-backs; 0 means none), landings refused because the base moved, and whether every
landed sha is the tested sha. Refused landings are counted from the simulator's request log:
each is one ref update of `main` answered 422 (the gate's compare-and-swap, `force=false`); the
gate's own `landing refused` log lines are counted too, as a cross-check. A refusal is followed
by a rebuilt candidate, unless it was the one past `gate.max_rebuilds`, which blocks the task.
"""

from __future__ import annotations

import argparse
import json
import logging
import re
import shutil
import sqlite3
import sys
import tempfile
from contextlib import closing
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.swarm_support import seeded_stack  # noqa: E402
from tests.test_merge_gate import rows  # noqa: E402
from tests.test_merge_gate_many import CONFIG, TASKS, many_script, play  # noqa: E402

MAIN_UPDATE = re.compile(r"/git/refs/heads(?:/|%2F)main$")
TRAIN = CONFIG + "gate:\n  train:\n    enabled: true\n"
# name → (SWARM_GATE_CONCURRENCY, .github/swarm.yml)
MODES = {"lock-free": ("16", CONFIG), "one-at-a-time": ("1", CONFIG), "train": ("16", TRAIN)}


class GateLog(logging.Handler):
    """Counts the gate's and the train's own log lines: refused landings, candidates built."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.refused = 0
        self.builds = 0

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        self.refused += "landing refused" in message
        self.builds += ": Build(" in message


def goal_moved_at(root: Path, number: int) -> float:
    """When the goal's row last moved (its final state): read from the swarm's SQLite file."""
    with closing(sqlite3.connect(root / "swarm.sqlite")) as db:
        (at,) = db.execute(
            "SELECT updated_at FROM swarm_goals WHERE number = ?", (number,)
        ).fetchone()
    return float(at)


def one_mode(concurrency: str, config: str) -> dict[str, Any]:
    gate_log = GateLog()
    loggers = [logging.getLogger(f"app.flows.{name}") for name in ("gate", "train")]
    for logger in loggers:
        logger.setLevel(logging.INFO)
        logger.addHandler(gate_log)
    root = Path(tempfile.mkdtemp(prefix="swarm-bench-gate-"))
    try:
        overrides = {"SWARM_GATE_CONCURRENCY": concurrency}
        with seeded_stack(root, many_script(), overrides=overrides) as (stack, octo):
            since = len(stack.control.requests())
            played = play(stack, octo, settle_timeout=900, config=config)
            goal, tasks = rows(played.goal_number)
            finished_at = goal_moved_at(root, played.goal_number)
            log = stack.control.requests(since=since)
    finally:
        for logger in loggers:
            logger.removeHandler(gate_log)
        shutil.rmtree(root, ignore_errors=True)
    refused = [
        r for r in log
        if r["method"] == "PATCH" and MAIN_UPDATE.search(r["path"]) and r["status"] == 422
    ]  # fmt: skip
    done = [t for t in tasks if t.state == "done"]
    landed = len(done) or 1
    return {
        "goal": str(goal.state),
        "wall_s": round(finished_at - played.labelled_at, 1),
        "landed": len(done),
        "landings": len({t.landed_sha for t in done}),
        "blocked": sum(t.state == "blocked" for t in tasks),
        "ci_runs_per_landed": round(sum(t.ci_runs for t in tasks) / landed, 2),
        "rounds_per_landed": round(sum(t.rounds for t in tasks) / landed, 2),
        "land_refused": len(refused),
        "land_refused_logged": gate_log.refused,
        "candidates_built": gate_log.builds,
        "landed_eq_tested": all(t.landed_sha and t.landed_sha == t.tested_sha for t in done),
        "blocked_why": sorted({t.note for t in tasks if t.state == "blocked"}),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument(
        "--modes", default=",".join(MODES), help=f"comma-separated, of {', '.join(MODES)}"
    )
    args = parser.parse_args()
    chosen = [m.strip() for m in args.modes.split(",") if m.strip()]
    unknown = [m for m in chosen if m not in MODES]
    if unknown or not chosen:
        parser.error(f"unknown mode(s) {', '.join(unknown) or '(none)'}: use {', '.join(MODES)}")
    results = {name: one_mode(*MODES[name]) for name in chosen}
    columns = [
        "goal", "wall_s", "landed", "landings", "blocked", "ci_runs_per_landed",
        "rounds_per_landed", "land_refused", "land_refused_logged", "candidates_built",
        "landed_eq_tested",
    ]  # fmt: skip
    width = max(len(name) for name in results)
    print(f"{TASKS} pull requests, one moving base (and a person's push under a tested candidate)")
    print(f"{'gate':<{width}}  " + "  ".join(columns))
    for name, figures in results.items():
        cells = [str(figures[c]).rjust(len(c)) for c in columns]
        print(f"{name:<{width}}  " + "  ".join(cells))
        for why in figures["blocked_why"]:
            print(f"{'':<{width}}  blocked: {why}")
    line = json.dumps({"tasks": TASKS, "modes": results})
    print(line)
    if args.json:
        args.json.write_text(line + "\n")


if __name__ == "__main__":
    main()
