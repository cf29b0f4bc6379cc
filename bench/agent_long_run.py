"""A long scripted worker run through the real SDKs: context size and prompt-cache share.

    .venv/bin/python bench/agent_long_run.py [--turns 300] [--budget 16000] [--json out.json]

For each provider (OpenAI Chat Completions, Anthropic Messages) it starts the scripted model
server, runs a worker on a temporary git repository with the real tools and sandbox for `turns`
turns (reads of a 3 kB file, writes, test runs; three maintainer redirects on the way), and
prints the input tokens sent at turns 10, 100 and the last, the largest request against the
context budget, the compactions, and the share of input tokens read from the prompt cache as
the server's imitation of each provider's cache counts it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.agent.inbox import InboxMessage
from app.agent.loop import AgentConfig
from app.agent.transcript import load_transcript
from app.roles.local import run_local_worker
from app.simulator.models import start_model_server

TASK = "Refactor the parser module and keep the tests green."
REDIRECTS = {60: "use the new tokenizer API", 150: "skip the CLI", 260: "add a changelog entry"}
MODELS = {"openai": "openai/gpt-5", "anthropic": "anthropic/claude-sonnet-4-6"}


class ScheduledInbox:
    """Delivers each redirect before the turn it is scheduled for (drain runs once a turn)."""

    def __init__(self, schedule: dict[int, str]) -> None:
        self.schedule = schedule
        self.drains = 0

    async def drain(self) -> list[InboxMessage]:
        self.drains += 1
        text = self.schedule.get(self.drains)
        return [InboxMessage(text, "@maintainer")] if text else []


def scripted_turn(i: int) -> dict[str, Any]:
    if i % 3 == 0:
        content = f"# v{i}\n" + "y = 1\n" * 100
        return {
            "tool_calls": [
                {"name": "write_file", "arguments": {"path": f"m{i % 7}.py", "content": content}}
            ]
        }
    if i % 3 == 1:
        return {
            "text": f"Reading again ({i}).",
            "tool_calls": [{"name": "read_file", "arguments": {"path": "big.txt"}}],
        }
    return {"tool_calls": [{"name": "run", "arguments": {"command": f"echo case{i}"}}]}  # fmt: skip


def make_repo(root: Path) -> Path:
    root.mkdir()
    (root / "big.txt").write_text("".join(f"line {n} of the output\n" for n in range(150)))
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    return root


async def one_provider(provider: str, turns: int, budget: int, workdir: Path) -> dict[str, Any]:
    script = {"agents": [
        {"name": "worker", "match": "-worker, a software engineer in Swarm",
         "turns": [scripted_turn(i) for i in range(turns - 1)]
         + [{"tool_calls": [{"name": "finish", "arguments": {"summary": "done"}}]}]},
        {"name": "summariser", "match": "You compress the history",
         "turns": [{"text": "Summary: files m0-m6 rewritten; tests run.", "repeat": turns}]},
    ]}  # fmt: skip
    repo = make_repo(workdir / provider)
    transcript = workdir / f"{provider}.jsonl"
    config = AgentConfig(max_turns=turns, context_budget_tokens=budget, max_tokens_total=10**9)
    started = time.monotonic()
    with start_model_server(script) as server:
        url = server.url + "/v1" if provider == "openai" else server.url
        outcome = await run_local_worker(
            repo, TASK, MODELS[provider], api_key="bench", base_url=url,
            inbox=ScheduledInbox(REDIRECTS), transcript_path=transcript,
            config=config,
        )  # fmt: skip
        requests = server.requests()
    seconds = time.monotonic() - started
    worker = [r for r in requests if r["agent"] == "worker"]
    log = load_transcript(transcript)
    usages = [r["usage"] for r in log.records if r["kind"] == "response"]
    stages = [r["stage"] for r in log.records if r["kind"] == "compaction"]
    latest = [text for turn, text in REDIRECTS.items() if turn <= len(usages)]
    last_body = json.dumps(worker[-1]["body"]) if worker else ""
    total_input = sum(u["input_tokens"] for u in usages)

    def sent(turn: int) -> int | None:
        return usages[turn - 1]["input_tokens"] if len(usages) >= turn else None

    return {
        "provider": provider,
        "status": outcome.status,
        "turns": outcome.turns,
        "seconds": round(seconds, 1),
        "budget_tokens": budget,
        "input_tokens_at_turn": {t: sent(t) for t in (10, 100, turns)},
        "max_input_tokens": max(u["input_tokens"] for u in usages),
        "cached_share": round(sum(u["cached_input_tokens"] for u in usages) / total_input, 3),
        "compactions": {stage: stages.count(stage) for stage in sorted(set(stages))},
        "summary_calls": sum(r["agent"] == "summariser" for r in requests),
        "rejected_requests": sum(r["status"] != 200 for r in requests),
        "last_request_has_task": TASK in last_body,
        "last_request_has_latest_redirect": bool(latest) and latest[-1] in last_body,
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=300)
    parser.add_argument("--budget", type=int, default=16000)
    parser.add_argument("--providers", default="openai,anthropic")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for provider in args.providers.split(","):
            result = await one_provider(provider, args.turns, args.budget, Path(tmp))
            results.append(result)
            at = result["input_tokens_at_turn"]
            print(
                f"{provider:>9}: {result['status']} in {result['turns']} turns, "
                f"{result['seconds']} s; input tokens at turns "
                f"{'/'.join(str(v) for v in at.values())} ({'/'.join(str(k) for k in at)}), "
                f"max {result['max_input_tokens']} of {args.budget}; cached share "
                f"{result['cached_share']:.0%}; compactions {result['compactions']}; "
                f"task/redirect kept: {result['last_request_has_task']}/"
                f"{result['last_request_has_latest_redirect']}"
            )
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    asyncio.run(main())
