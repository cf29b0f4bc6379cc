"""Ingress load: signed deliveries against a real `swarm serve` process on SQLite.

    .venv/bin/python bench/ingress_load.py [--deliveries 2000] [--concurrency 16] [--json out.json]

Starts `swarm serve` (workers on, a fresh SQLite file), posts real fixture payloads signed with
the webhook secret, each with a fresh delivery id, from `--concurrency` clients over loopback,
and prints deliveries per second and the answer-time percentiles. Bounded in count and time;
it stops by itself.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.demo.stack import generate_app_key  # noqa: E402
from app.web.signature import sign  # noqa: E402

FIXTURES = ROOT / "tests" / "fixtures" / "github-webhooks"
SECRET = "bench-secret"
PAYLOADS = [
    ("issues", FIXTURES / "issues" / "opened.payload.json"),
    ("issue_comment", FIXTURES / "issue_comment" / "created.payload.json"),
    ("push", FIXTURES / "push" / "payload.json"),
    ("ping", FIXTURES / "ping" / "payload.json"),
]
# Deliveries a handler takes, so each one is recorded as a workflow.
ROUTED = [PAYLOADS[1], PAYLOADS[3]]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def wait_healthy(url: str, deadline: float) -> None:
    async with httpx.AsyncClient() as client:
        while time.monotonic() < deadline:
            try:
                if (await client.get(f"{url}/healthz", timeout=1)).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)
    raise SystemExit("swarm serve did not become healthy")


async def load(
    url: str, total: int, concurrency: int, payloads: list[tuple[str, Path]]
) -> tuple[list[float], float, int]:
    bodies = [(event, path.read_bytes()) for event, path in payloads]
    latencies: list[float] = []
    errors = 0
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(total):
        queue.put_nowait(i)

    async def client_loop(client: httpx.AsyncClient) -> None:
        nonlocal errors
        while True:
            try:
                i = queue.get_nowait()
            except asyncio.QueueEmpty:
                return
            event, body = bodies[i % len(bodies)]
            headers = {
                "X-GitHub-Event": event,
                "X-GitHub-Delivery": str(uuid.uuid4()),
                "X-Hub-Signature-256": sign(SECRET, body),
                "Content-Type": "application/json",
            }
            started = time.perf_counter()
            resp = await client.post(f"{url}/api/github/webhooks", content=body, headers=headers)
            latencies.append(time.perf_counter() - started)
            errors += resp.status_code != 202

    limits = httpx.Limits(max_connections=concurrency)
    async with httpx.AsyncClient(limits=limits, timeout=30) as client:
        started = time.perf_counter()
        await asyncio.gather(*(client_loop(client) for _ in range(concurrency)))
        wall = time.perf_counter() - started
    return latencies, wall, errors


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deliveries", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--database-url", help="e.g. postgresql://postgres@127.0.0.1:5432/bench")
    parser.add_argument(
        "--ingress-only", action="store_true", help="serve --ingress-only: record, never handle"
    )
    parser.add_argument(
        "--routed-only", action="store_true", help="only deliveries a handler takes (recorded)"
    )
    args = parser.parse_args()

    private, _ = generate_app_key()
    with tempfile.TemporaryDirectory(prefix="swarm-bench-") as tmp:
        port = free_port()
        env = {
            **os.environ,
            "GITHUB_APP_ID": "1",
            "GITHUB_APP_PRIVATE_KEY": private,
            "GITHUB_WEBHOOK_SECRET": SECRET,
            "GITHUB_API_URL": "http://127.0.0.1:9",  # the payloads name no installation
            "DATABASE_URL": args.database_url or f"sqlite:///{tmp}/swarm.sqlite",
            "SWARM_DATA_DIR": f"{tmp}/data",
            "SWARM_LOG_LEVEL": "WARNING",
        }
        server = subprocess.Popen(
            [sys.executable, "-m", "app.cli", "serve", "--port", str(port)]
            + (["--ingress-only"] if args.ingress_only else []),
            env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        url = f"http://127.0.0.1:{port}"
        try:
            asyncio.run(wait_healthy(url, time.monotonic() + 60))
            payloads = ROUTED if args.routed_only else PAYLOADS
            asyncio.run(load(url, 50, 4, payloads))  # warm-up
            latencies, wall, errors = asyncio.run(
                load(url, args.deliveries, args.concurrency, payloads)
            )
        finally:
            server.terminate()
            server.wait(30)

    latencies.sort()

    def pct(p: float) -> float:
        return latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000

    figures = {
        "deliveries": len(latencies),
        "concurrency": args.concurrency,
        "errors": errors,
        "deliveries_per_second": round(len(latencies) / wall, 1),
        "p50_ms": round(pct(0.50), 2),
        "p90_ms": round(pct(0.90), 2),
        "p99_ms": round(pct(0.99), 2),
        "max_ms": round(latencies[-1] * 1000, 2),
        "mean_ms": round(statistics.mean(latencies) * 1000, 2),
        "database": (args.database_url or "sqlite").split(":")[0],
        "mode": "ingress-only" if args.ingress_only else "serve (workers on)",
        "payloads": "routed only" if args.routed_only else "mixed (half ignored at the door)",
    }
    for key, value in figures.items():
        print(f"{key:>22}: {value}")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
