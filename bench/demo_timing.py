"""Where the demo's time goes: wall time, and the agents' time split into model, tools, other.

    .venv/bin/python bench/demo_timing.py [--runs 3] [--json out.json]

Runs `swarm demo` in-process (the simulator, the scripted model, the real swarm), keeps its
files, and reads every agent's transcript: each model call is the gap before its response, each
tool call the gap before its result; what is left of an agent's run is time it spent waiting on
anything else (inbox reads, transcript writes, compaction, the loop itself). It also reports
how much of the wall time had no agent running at all (planning hand-off, GitHub writes, git
pushes, CI, queue pick-up).
"""

from __future__ import annotations

import argparse
import itertools
import json
import shutil
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.agent.transcript import load_transcript  # noqa: E402
from app.demo.run import run_demo  # noqa: E402


def agent_times(path: Path) -> dict[str, float]:
    records = load_transcript(path).records
    model = tools = 0.0
    for before, after in itertools.pairwise(records):
        gap = after["at"] - before["at"]
        if after["kind"] == "response":
            model += gap
        elif after["kind"] == "message" and after["message"]["role"] == "tool":
            tools += gap
    span = records[-1]["at"] - records[0]["at"]
    return {"start": records[0]["at"], "end": records[-1]["at"], "span": span,
            "model": model, "tools": tools, "other": max(0.0, span - model - tools)}  # fmt: skip


def covered(intervals: list[tuple[float, float]]) -> float:
    """Total length of the union of intervals."""
    total, end = 0.0, float("-inf")
    for start, stop in sorted(intervals):
        if stop > end:
            total += stop - max(start, end)
            end = stop
    return total


def one_run() -> dict[str, Any]:
    result = run_demo(as_json=True, keep=True)
    assert result.kept_files is not None
    try:
        paths = sorted((result.kept_files / "swarm" / "transcripts").rglob("*.jsonl"))
        agents = [agent_times(p) for p in paths]
    finally:
        shutil.rmtree(result.kept_files, ignore_errors=True)
    span = sum(a["span"] for a in agents)
    busy = covered([(a["start"], a["end"]) for a in agents])
    return {
        "wall_s": round(result.wall_seconds, 2),
        "agents": len(agents),
        "agent_time_s": round(span, 2),
        "model_share": round(sum(a["model"] for a in agents) / span, 3),
        "tools_share": round(sum(a["tools"] for a in agents) / span, 3),
        "agent_waiting_other_share": round(sum(a["other"] for a in agents) / span, 3),
        "wall_with_no_agent_running_s": round(result.wall_seconds - busy, 2),
        "pull_requests": len(result.pull_requests),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    runs = [one_run() for _ in range(args.runs)]
    for i, run in enumerate(runs, 1):
        print(f"run {i}: " + ", ".join(f"{k}={v}" for k, v in run.items()))
    if args.json:
        args.json.write_text(json.dumps(runs, indent=2))


if __name__ == "__main__":
    main()
