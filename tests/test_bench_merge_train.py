"""bench/merge_train.py on a tiny workload, in-process: every policy lands every pull request and
never a broken one, the train spends no more CI than the naive race, the same seed gives the same
figures, and a broken landing stops the benchmark."""

from __future__ import annotations

import importlib.util
import sys
from functools import partial
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

TINY = ["--seeds", "2", "--prs", "20", "--agents", "8", "--json"]


def load_bench() -> ModuleType:
    """The script is not in a package: load it from its file (registered, as dataclasses need)."""
    path = Path(__file__).resolve().parents[1] / "bench" / "merge_train.py"
    spec = importlib.util.spec_from_file_location("bench_merge_train", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


bench = load_bench()


@pytest.fixture(scope="module")
def report() -> dict[str, Any]:
    result: dict[str, Any] = bench.main(TINY)
    return result


def test_every_policy_lands_every_pull_request_and_nothing_broken(report: dict[str, Any]) -> None:
    policies = report["policies"]
    assert set(policies) == {"serial", "race", "github", "swarm"}
    for name, figures in policies.items():
        assert figures["escaped"] == 0, name
        # Landed means on the base when the simulation came to rest: every one created, each once.
        assert figures["not_landed"] == 0 and figures["landed_fraction"] == 1.0, name
        assert figures["all_at_rest"], f"{name} did not come to rest"
        for run in figures["runs"]:
            assert run["created"] == run["landed"] == 20, name
            assert run["ci_runs"] >= run["landed"], name  # each landing was tested


def test_the_train_spends_no_more_ci_per_landing_than_the_race(report: dict[str, Any]) -> None:
    policies = report["policies"]
    assert policies["swarm"]["ci_per_landed"] <= policies["race"]["ci_per_landed"]


def test_a_seed_gives_the_same_figures_every_time(report: dict[str, Any]) -> None:
    assert bench.main(TINY) == report


def test_a_broken_landing_stops_the_benchmark(monkeypatch: pytest.MonkeyPatch) -> None:
    # CI that passes everything: the race lands broken pull requests, and the oracle says so.
    def passing(ci: Any) -> None:
        while ci.queue and ci.running < ci.params.budget:
            sha, then = ci.queue.popleft()
            ci.running += 1
            ci.clock.after(1.0, partial(ci._finish, sha, True, then))

    monkeypatch.setattr(bench.Ci, "_start", passing)
    with pytest.raises(AssertionError, match="escaped"):
        bench.main([*TINY, "--fail", "0.5", "--policies", "race"])
