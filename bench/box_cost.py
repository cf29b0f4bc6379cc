"""What the agent's box costs: one sandboxed command, and one snapshot of a worktree.

    .venv/bin/python bench/box_cost.py [--files 10000] [--runs 20] [--json out.json]

Prints the median wall time of `true` under the bubblewrap runner (with the limits prologue,
and as root the drop to the worktree's uid), and of a snapshot (the tree a commit is built
from) of a generated repository of N files with one file changed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from app.credentials import SecretScanner
from app.sandbox import BubblewrapSandbox
from app.sandbox.users import hand_over, user_for
from app.workspace.snapshot import take_snapshot


def make_repo(root: Path, files: int) -> Path:
    repo = root / "repo"
    for i in range(files):
        path = repo / f"pkg{i % 50}" / f"mod{i}.py"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"def f{i}():\n    return {i}\n" * 20)
    env = {"PATH": "/usr/bin:/bin", "HOME": str(root)}
    for args in (["init", "-q"], ["add", "."], ["-c", "user.name=b", "-c", "user.email=b@e",
                                                 "commit", "-qm", "seed"]):  # fmt: skip
        subprocess.run(["git", *args], cwd=repo, check=True, env=env, capture_output=True)
    (repo / "pkg0" / "mod0.py").write_text("changed\n")
    return repo


async def timed(runs: int, work) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        await work()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


async def main(files: int, runs: int) -> dict[str, float | int | str]:
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        worktree = root / "wt"
        worktree.mkdir()
        hand_over(worktree)
        sandbox = BubblewrapSandbox(worktree)
        drop = user_for(worktree).drop_from_root
        command = await timed(runs, lambda: sandbox.run("true"))
        repo = make_repo(root, files)
        scanner = SecretScanner()

        async def snapshot() -> None:
            await take_snapshot(repo / ".git", repo, "HEAD", protected=[], scanner=scanner)

        snap = await timed(max(3, runs // 4), snapshot)
    return {
        "sandboxed_true_ms": round(command * 1000, 1),
        "runs_as": "setpriv drop from root" if drop else "user namespace",
        "snapshot_files": files,
        "snapshot_ms": round(snap * 1000, 1),
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--files", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    figures = asyncio.run(main(args.files, args.runs))
    for name, value in figures.items():
        print(f"{name}: {value}")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))
