"""bench/merge_train.py on a tiny workload, in-process: every policy lands every pull request and
never a broken one, the train spends no more CI than the naive race, the same seed gives the same
figures, and a broken landing stops the benchmark; a pull request that met a conflict (handed back
for it, or parked) counts as conflicted, and the default workload meets as many conflicts as
observed; `--swarm-rules` changes the swarm train's rules."""

from __future__ import annotations

import importlib.util
import sys
from functools import partial
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

# Few files: conflicts are common, so every policy meets some.
TINY = ["--seeds", "2", "--prs", "20", "--agents", "8", "--files", "20", "--json"]


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
            if name != "swarm":  # a CI run per candidate; the train's batches share one
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


def test_a_pull_request_that_met_a_conflict_counts_once_handed_back_or_parked() -> None:
    # #1 breaks the tests, #2 touches the same file and conflicts with it.
    params = bench.Params(prs=2, agents=2, flake=0.0, seeds=1)
    specs = [bench.Spec(frozenset({"f"}), True, 1.0), bench.Spec(frozenset({"f"}), False, 2.0)]
    conflicts = bench.Conflicts(1, 1.0, specs)

    def run(name: str) -> Any:
        rules = bench.rules_for(name, params.budget)
        return bench.TrainSim(params, specs, conflicts, 1, rules).play()

    # GitHub's queue hands #2 back (it conflicts with #1 ahead of it), then #1 once #2 landed.
    github = run("github")
    assert (github.landed, github.conflict_ejections, github.conflicted) == (2, 2, 2)
    # The train parks #2 behind #1; #1 fails and leaves, #2 goes on and lands, never handed back:
    # it met a conflict all the same. #1, fixed, conflicts with #2 on the base: handed back.
    swarm = run("swarm")
    assert (swarm.landed, swarm.conflict_ejections, swarm.conflicted) == (2, 1, 2)


def test_no_conflict_no_conflicted_pull_request() -> None:
    report = bench.main([*TINY, "--conflict", "0"])
    for name, figures in report["policies"].items():
        assert figures["conflicted_pct"] == 0, name
        assert all(run["conflict_ejections"] == run["conflicted"] == 0 for run in figures["runs"])


def test_conflicted_counts_landed_pull_requests_each_once(report: dict[str, Any]) -> None:
    for name, figures in report["policies"].items():
        runs = figures["runs"]
        assert all(0 <= run["conflicted"] <= run["landed"] for run in runs), name
        if name in ("race", "github", "serial"):  # no parking: each was handed back at least once
            assert all(run["conflicted"] <= run["conflict_ejections"] for run in runs), name
        pooled = 100 * sum(run["conflicted"] for run in runs) / sum(run["landed"] for run in runs)
        assert 0 < figures["conflicted_pct"] == pytest.approx(pooled), name


def test_the_default_workload_conflicts_as_agent_pull_requests_do() -> None:
    # AgenticFlict (2026): 27.7% of agent pull requests on GitHub met a merge conflict. The
    # defaults are calibrated on it for GitHub's queue; two seeds of 300 pull requests.
    report = bench.main(["--seeds", "2", "--policies", "github", "--json"])
    assert 20 <= report["policies"]["github"]["conflicted_pct"] <= 35


def test_swarm_rules_change_the_swarm_train() -> None:
    github = (
        "initial_window=16,adaptive=0,rerun_failures=0,wait_for_evidence=0,park_conflicts=0,batch=1"
    )
    report = bench.main([*TINY, "--policies", "github,swarm", "--swarm-rules", github])
    policies = report["policies"]
    assert policies["swarm"] == policies["github"]  # the same rules, the same figures
    assert bench.rules_for("swarm", 16, "initial_window=8, adaptive=off") == bench.TrainRules(
        initial_window=8, ci_budget=16, adaptive=False, batch=4
    )
    for wrong in ("window=8", "adaptive=maybe", "initial_window=17", "ci_budget=4"):
        with pytest.raises(SystemExit):
            bench.main([*TINY, "--swarm-rules", wrong])
