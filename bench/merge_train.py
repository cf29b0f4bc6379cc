"""Merge policies under load: the merge train against a serial gate, a naive race and an imitation
of GitHub's merge queue, on one seeded workload, in a discrete-event simulation.

    .venv/bin/python bench/merge_train.py [--seeds 10] [--prs 300] [--agents 100] [--json]
        [--swarm-rules initial_window=8,adaptive=0]

A virtual clock (a heap of timed callbacks: no sleeping, no threads) plays agents that write pull
requests one after another, git that merges them into candidates (with textual conflicts between
pull requests that touch the same files), and CI that tests a candidate in about T minutes within
a budget of runs at once (the rest wait in a FIFO). The same workload — each pull request's files,
whether it breaks the tests, how long its agent works on it, which pairs conflict — is played
against four policies:

- `serial`: one pull request at a time, as a lock would: the train with a window of one.
- `race`: every ready pull request tests base + itself at once and lands by compare-and-swap; a
  base that moved meanwhile means a rebuild and a new CI run (no agent round); a failure is re-run
  once on the same commit, as the gate does (`app/domain/gate.py`), then goes back to the agent.
- `github`: GitHub's merge queue, imitated by the train: speculative, a CI run per entry, no
  bisection, no re-run, no waiting for evidence, a conflict goes straight back.
- `swarm`: the train with its default rules (`app/domain/train.py`); `--swarm-rules` overrides
  some of them, to try other rules without editing the train.

The train policies run the production policy, `app.domain.train.step`; this script only executes
the actions it returns. Landings are checked against the truth (an oracle of which heads break
the tests): a landing that contains a broken pull request is an escape, and the script fails if
there is one. Every figure is per policy: the mean over seeds, except the latency percentiles,
pooled over seeds.

- landed/T: pull requests landed per CI duration T while a backlog exists (time during which at
  least one pull request was ready, unlanded and not with its agent);
- CI/PR: CI runs per landed pull request (every run CI made: re-runs, and candidates abandoned
  or built after the policy had dropped them, included);
- rounds/PR: hand-backs to agents (CI failures and conflicts) per landed pull request;
- conflicted%: landed pull requests that met a conflict on their way (handed back for one, or
  parked in the train behind a car they conflict with), of all landed;
- p50, p95: time from a pull request's first ready to its landing, in T;
- innocent: pull requests handed back for a CI failure they did not cause (a flake), per seed,
  and their share of all CI hand-backs;
- escaped: landings that contained a broken pull request (must be 0);
- landed%: pull requests landed of those created, when the simulation came to rest;
- wall: from the start to the last landing, in T;
- CI queued: runs per seed that waited for a CI slot. For a train, the policy keeps its own
  count of runs under CI (`under_ci`) within the budget, so a queued run means that count
  missed a run still going;
- uncounted CI: runs per seed on candidates built after the train had dropped them (CI runs
  on every pushed build; the train ignores such a build and does not count its run).

An agent starts each pull request from the base as it is then, and rebases one handed back for a
conflict on the base as it is when the fix is done: a pull request conflicts only with what
landed while it was written or fixed, and with what is ahead of it in a train.

The footprints are calibrated on what is observed: 27.7% of 107k agent pull requests on GitHub
met a merge conflict (AgenticFlict, 2026). Each pull request touches 1 to 3 of 1,000 files, file
i in proportion to 1 / (i + 1) ** 0.8 (a few hot files, a long tail), and two that touch a same
file conflict with a chance of 0.2; then the `github` policy, today's tooling, meets a conflict
on 27% of its pull requests (seeds 1..10). The hot files matter most: at Zipf 1 it is 42% with
these files and chance, and still 31% with 2,000 files and a chance of 0.1 (5 seeds each). The
other defaults: T = 20 min, 16 CI runs at once, 5% of pull requests break the tests,
3% of runs flake, 100 agents.
"""

from __future__ import annotations

import argparse
import heapq
import itertools
import json
import math
import random
import sys
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, fields, replace
from functools import partial
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.domain.train import (  # noqa: E402
    Action,
    Build,
    BuildConflict,
    Built,
    Car,
    CiFinished,
    Eject,
    Event,
    Land,
    Landed,
    LandRefused,
    Push,
    Ready,
    Rerun,
    TrainRules,
    TrainState,
    step,
)

BUILD_MINUTES = 10 / 60  # a git merge and a push: next to nothing beside CI
LAND_MINUTES = 5 / 60  # a ref update
CI_SIGMA = 0.25  # spread of the lognormal CI duration around T
MAX_EVENTS = 5_000_000  # a simulation past this never came to rest: a bug, said loudly
ROOT_SHA = "root"
POLICIES = ("serial", "race", "github", "swarm")


@dataclass(frozen=True)
class Params:
    agents: int = 100
    prs: int = 300
    work: float = 2.0  # mean agent work per pull request, in T
    fix: float = 0.5  # mean agent time to fix or rebase a handed-back pull request, in T
    files: int = 1000
    files_per_pr: int = 3  # a pull request touches 1 to this many files, uniformly
    zipf: float = 0.8  # file i is touched in proportion to 1 / (i + 1) ** zipf: a few hot files
    conflict: float = 0.2  # chance that two pull requests touching a same file conflict
    fail: float = 0.05  # chance that a pull request breaks the tests
    flake: float = 0.03  # chance that a CI run fails for nothing
    ci_minutes: float = 20.0  # T, the median CI duration
    budget: int = 16  # CI runs at once
    seeds: int = 10
    swarm_rules: str = ""  # overrides of the swarm train's rules: "initial_window=8,adaptive=0"

    @property
    def t(self) -> float:
        return self.ci_minutes


def rules_for(name: str, budget: int, swarm: str = "") -> TrainRules | None:
    """The train's rules that make each policy; None for the race, which is not a train. `swarm`
    overrides the swarm train's defaults, to try other rules without editing the train."""
    if name == "serial":
        return TrainRules(
            initial_window=1, ci_budget=1, adaptive=False, rerun_failures=True,
            wait_for_evidence=True, batch=1,
        )  # fmt: skip
    if name == "github":  # a CI run per queue entry (its merge group), as GitHub does
        return TrainRules(
            initial_window=budget, ci_budget=budget, adaptive=False, rerun_failures=False,
            wait_for_evidence=False, park_conflicts=False, batch=1,
        )  # fmt: skip
    if name == "swarm":
        window = min(TrainRules().initial_window, budget)
        return replace(TrainRules(initial_window=window, ci_budget=budget), **overrides(swarm))
    return None


def overrides(spec: str) -> dict[str, Any]:
    """`initial_window=8,adaptive=0` as the `TrainRules` fields it sets (the CI budget is
    `--budget`, the same for every policy)."""
    types = {f.name: f.type for f in fields(TrainRules) if f.name != "ci_budget"}
    found: dict[str, Any] = {}
    for item in filter(None, (part.strip() for part in spec.split(","))):
        name, _, value = item.partition("=")
        name = name.strip().replace("-", "_")
        if name not in types:
            raise ValueError(f"not a rule: {name!r} (one of {', '.join(types)})")
        if types[name] in (bool, "bool"):
            flag = value.strip().lower()
            if flag not in TRUE + FALSE:
                raise ValueError(f"{name}: not a yes or no: {value!r}")
            found[name] = flag in TRUE
        else:
            found[name] = int(value)
    return found


TRUE = ("1", "true", "yes", "on")
FALSE = ("0", "false", "no", "off")


# --- the workload: the same for every policy at a seed ---------------------------------------


@dataclass(frozen=True)
class Spec:
    """The k-th pull request created, whichever agent writes it and whenever."""

    files: frozenset[str]
    bad: bool  # breaks the tests (its first head; a fix is good)
    work: float  # minutes of its agent's work before it is ready


def workload(params: Params, seed: int) -> list[Spec]:
    rng = random.Random(seed)
    names = [f"f{i:03d}" for i in range(params.files)]
    weights = list(itertools.accumulate(1 / (i + 1) ** params.zipf for i in range(params.files)))
    specs = []
    for _ in range(params.prs):
        size = rng.randint(1, min(params.files_per_pr, params.files))
        files: set[str] = set()
        while len(files) < size:
            files.add(rng.choices(names, cum_weights=weights)[0])
        bad = rng.random() < params.fail
        specs.append(Spec(frozenset(files), bad, params.work * params.t * rng.expovariate(1)))
    return specs


class Conflicts:
    """Which pairs of pull requests conflict textually: only pairs that touch a same file, each
    with the given chance, drawn from the seed and the pair alone (so the first pull requests'
    conflicts do not change with `--prs`). Decided once per seed, for every policy alike."""

    def __init__(self, seed: int, chance: float, specs: list[Spec]) -> None:
        self.specs = specs
        touching: dict[str, list[int]] = {}
        for pr, spec in enumerate(specs, start=1):
            for name in spec.files:
                touching.setdefault(name, []).append(pr)
        pairs = {(a, b) for prs in touching.values() for a in prs for b in prs if a < b}
        # A bit per pull request: a commit's contents and a pull request's partners are ints,
        # so "what in this commit conflicts with it" is one `&`.
        self.partners = [0] * (len(specs) + 1)
        for a, b in sorted(pairs):
            if random.Random(f"{seed}/{a}/{b}").random() < chance:
                self.partners[a] |= 1 << b
                self.partners[b] |= 1 << a

    def files(self, pr: int) -> frozenset[str]:
        return self.specs[pr - 1].files


def bits(mask: int) -> list[int]:
    """The pull requests in a bit mask."""
    found = []
    while mask:
        low = mask & -mask
        found.append(low.bit_length() - 1)
        mask ^= low
    return found


# --- the world: a clock, git, CI -------------------------------------------------------------


class Clock:
    """Virtual time in minutes: callbacks run in time order (ties in the order scheduled)."""

    def __init__(self) -> None:
        self.now = 0.0
        self._heap: list[tuple[float, int, Callable[[], None]]] = []
        self._order = itertools.count()

    def after(self, minutes: float, then: Callable[[], None]) -> None:
        heapq.heappush(self._heap, (self.now + minutes, next(self._order), then))

    def run(self) -> None:
        for _ in range(MAX_EVENTS):
            if not self._heap:
                return
            self.now, _, then = heapq.heappop(self._heap)
            then()
        raise RuntimeError(f"the simulation did not come to rest within {MAX_EVENTS} events")


@dataclass(frozen=True)
class Commit:
    parent: str
    pr: int  # the pull request merged into the parent (0 for the root)
    head: str
    prs: int  # every pull request merged in since the root, as bits, landed ones included
    bad: bool  # contains a head that breaks the tests: CI fails on it, always


class Git:
    """Commits as what they contain. Each build is a new commit (git's committer time makes
    a rebuild a new sha), so a sha names one candidate only."""

    def __init__(self, conflicts: Conflicts) -> None:
        self.conflicts = conflicts
        self.base = ROOT_SHA
        self.commits = {ROOT_SHA: Commit("", 0, "", 0, False)}
        self.resolved = [0] * len(conflicts.partners)  # per pull request: pairs a rebase settled
        self._serial = itertools.count(1)

    def merge(self, parent: str, pr: int, head: str, bad: bool) -> tuple[str, tuple[str, ...]]:
        """Merge `head` into `parent`: the new sha, or "" and the files it conflicts in."""
        inside = self.commits[parent]
        clash = self.conflicts.partners[pr] & inside.prs & ~self.resolved[pr]
        if clash:
            mine = self.conflicts.files(pr)
            both = {f for p in bits(clash) for f in self.conflicts.files(p) & mine}
            return "", tuple(sorted(both))
        sha = f"c{next(self._serial)}"
        self.commits[sha] = Commit(parent, pr, head, inside.prs | 1 << pr, inside.bad or bad)
        return sha, ()

    def rebase(self, pr: int) -> None:
        """An agent rebased `pr` on the base: it no longer conflicts with what is there."""
        settled = self.conflicts.partners[pr] & self.commits[self.base].prs
        self.resolved[pr] |= settled
        for other in bits(settled):
            self.resolved[other] |= 1 << pr

    def since(self, sha: str, base: str) -> list[tuple[int, str]]:
        """The pull requests (and heads) a fast-forward from `base` to `sha` brings, oldest
        first; an error if `sha` does not descend from `base`."""
        brought = []
        while sha != base:
            if sha == ROOT_SHA:
                raise AssertionError(f"not a fast-forward from {base}")
            commit = self.commits[sha]
            brought.append((commit.pr, commit.head))
            sha = commit.parent
        return brought[::-1]


class Ci:
    """At most `budget` runs at once, the others waiting in order. A run fails when its commit
    contains a broken pull request, or spuriously (a flake)."""

    def __init__(self, clock: Clock, git: Git, params: Params, rng: random.Random) -> None:
        self.clock, self.git, self.params, self.rng = clock, git, params, rng
        self.queue: deque[tuple[str, Callable[[bool], None]]] = deque()
        self.running = 0
        self.runs = 0
        self.queued = 0  # runs that had to wait for a slot
        self.passed: dict[str, bool] = {}  # each commit's latest result

    def run(self, sha: str, then: Callable[[bool], None]) -> None:
        self.runs += 1
        self.queued += self.running >= self.params.budget
        self.queue.append((sha, then))
        self._start()

    def _start(self) -> None:
        while self.queue and self.running < self.params.budget:
            sha, then = self.queue.popleft()
            self.running += 1
            minutes = self.rng.lognormvariate(math.log(self.params.t), CI_SIGMA)
            passed = not self.git.commits[sha].bad and self.rng.random() >= self.params.flake
            self.clock.after(minutes, partial(self._finish, sha, passed, then))

    def _finish(self, sha: str, passed: bool, then: Callable[[bool], None]) -> None:
        self.running -= 1
        self.passed[sha] = passed
        then(passed)
        self._start()


# --- agents and the bookkeeping every policy shares ------------------------------------------


@dataclass
class Figures:
    """One policy's run on one seed."""

    created: int = 0
    landed: int = 0
    ci_runs: int = 0
    ci_queued: int = 0
    uncounted_ci: int = 0  # runs on candidates built after the policy had dropped them
    rounds: int = 0
    ci_ejections: int = 0
    innocent: int = 0
    conflict_ejections: int = 0
    conflicted: int = 0  # landed pull requests that met a conflict on their way
    escaped: int = 0
    backlog_t: float = 0.0
    wall_t: float = 0.0
    at_rest: bool = True
    latencies_t: list[float] = field(default_factory=list)


class Sim:
    """The agents, the base's truth and the measurements; a policy subclass says what happens
    to a ready pull request (`offer`)."""

    def __init__(self, params: Params, specs: list[Spec], conflicts: Conflicts, seed: int) -> None:
        self.params = params
        self.specs = specs
        self.clock = Clock()
        self.git = Git(conflicts)
        self.rng = random.Random(f"{seed}/run")  # CI durations, flakes, fix times
        self.ci = Ci(self.clock, self.git, params, self.rng)
        self.figures = Figures()
        self.version: dict[int, int] = {}
        self.bad_heads: set[str] = set()
        self.waiting: set[int] = set()  # ready, unlanded, not with its agent: the backlog
        self.first_ready: dict[int, float] = {}
        self.conflicted: set[int] = set()  # met a conflict: handed back for it, or parked
        self._backlog_since = 0.0
        self._last_landing = 0.0

    def play(self) -> Figures:
        for _ in range(self.params.agents):
            self.next_pr()
        self.clock.run()
        self.figures.ci_runs = self.ci.runs
        self.figures.ci_queued = self.ci.queued
        self.figures.wall_t = self._last_landing / self.params.t
        self.figures.at_rest = self.at_rest()
        return self.figures

    # What a policy does with a ready pull request, and whether it is idle at the end.
    def offer(self, pr: int) -> None:
        raise NotImplementedError

    def at_rest(self) -> bool:
        raise NotImplementedError

    def head(self, pr: int) -> str:
        return f"{pr}.{self.version[pr]}"

    def files(self, pr: int) -> frozenset[str]:
        return self.specs[pr - 1].files

    def next_pr(self) -> None:
        """An agent starts its next pull request (until the workload's are all created)."""
        if self.figures.created >= len(self.specs):
            return
        spec = self.specs[self.figures.created]
        self.figures.created += 1
        pr = self.figures.created
        self.version[pr] = 0
        self.git.rebase(pr)  # its agent branches from the base as it is now
        if spec.bad:
            self.bad_heads.add(self.head(pr))
        self.clock.after(spec.work, partial(self.ready, pr))

    def ready(self, pr: int) -> None:
        self._backlog_tick()
        self.waiting.add(pr)
        self.first_ready.setdefault(pr, self.clock.now)
        self.offer(pr)

    def hand_back(self, pr: int, kind: str) -> None:
        """Back to its agent: a CI failure is fixed (the new head is good), a conflict with the
        base rebased; either way one round, and the pull request is ready again after it."""
        self._backlog_tick()
        self.waiting.discard(pr)
        self.figures.rounds += 1
        if kind == "ci":
            self.figures.ci_ejections += 1
            self.figures.innocent += self.head(pr) not in self.bad_heads
        elif kind == "conflict":
            self.figures.conflict_ejections += 1
            self.conflicted.add(pr)
        minutes = self.params.fix * self.params.t * self.rng.expovariate(1)
        self.clock.after(minutes, partial(self._fixed, pr, kind))

    def _fixed(self, pr: int, kind: str) -> None:
        self.version[pr] += 1
        if kind == "conflict":
            self.git.rebase(pr)
        self.ready(pr)

    def land(self, sha: str, prs: Sequence[int]) -> None:
        """The base fast-forwards to `sha`: check it against the truth, then its agents move
        on to their next pull requests."""
        brought = self.git.since(sha, self.git.base)
        if not self.ci.passed.get(sha):
            raise AssertionError(f"{sha} landed without passing CI")
        if brought != [(pr, self.head(pr)) for pr in prs]:
            raise AssertionError(f"{sha} lands {brought}, not the current heads of {prs}")
        self.figures.escaped += self.git.commits[sha].bad
        self._backlog_tick()
        self.git.base = sha
        self._last_landing = self.clock.now
        for pr in prs:
            self.waiting.discard(pr)
            self.figures.landed += 1
            self.figures.conflicted += pr in self.conflicted
            self.figures.latencies_t.append((self.clock.now - self.first_ready[pr]) / self.params.t)
            self.next_pr()

    def _backlog_tick(self) -> None:
        """Before the backlog changes: count the time since the last change if it had any."""
        if self.waiting:
            self.figures.backlog_t += (self.clock.now - self._backlog_since) / self.params.t
        self._backlog_since = self.clock.now


# --- the train policies: the production policy, its actions executed -------------------------


class TrainSim(Sim):
    def __init__(
        self, params: Params, specs: list[Spec], conflicts: Conflicts, seed: int, rules: TrainRules
    ) -> None:
        super().__init__(params, specs, conflicts, seed)
        self.state = TrainState(ROOT_SHA, rules)

    def offer(self, pr: int) -> None:
        self.feed(Ready(Car(pr, self.head(pr), self.files(pr))))

    def at_rest(self) -> bool:
        s = self.state
        return not (s.cars or s.candidates or s.landing or s.abandoned)

    def feed(self, event: Event) -> None:
        result = step(self.state, event)
        self.state = result.state
        self.conflicted.update(car.pr for car in self.state.cars if car.parked_behind)
        for action in result.actions:
            self.execute(action)

    def execute(self, action: Action) -> None:
        # Nothing here feeds the policy at once: builds and landings take time, CI is queued,
        # and a hand-back waits for its agent. So `feed` is never re-entered.
        match action:
            case Build():
                self.clock.after(BUILD_MINUTES, partial(self._build, action))
            case Rerun(sha) | Push(sha):
                self.ci.run(sha, partial(self._ci_finished, sha))
            case Land():
                self.clock.after(LAND_MINUTES, partial(self._land, action))
            case Eject(pr, kind):
                self.hand_back(pr, kind)

    def _build(self, action: Build) -> None:
        bad = action.head in self.bad_heads
        sha, files = self.git.merge(action.parent, action.pr, action.head, bad)
        if not sha:
            self.feed(BuildConflict(action.pr, action.head, action.parent, files))
            return
        self.feed(Built(action.pr, action.head, action.parent, sha))
        if not action.test:
            return  # merged only: no push, no CI (the train may ask for it later: `Push`)
        # CI runs on the push, whether or not the policy still wants this candidate.
        kept = self.state.candidate(action.pr)
        self.figures.uncounted_ci += kept is None or kept.sha != sha
        self.ci.run(sha, partial(self._ci_finished, sha))

    def _ci_finished(self, sha: str, passed: bool) -> None:
        self.feed(CiFinished(sha, passed, "" if passed else f"FAILED on {sha}"))

    def _land(self, action: Land) -> None:
        if self.git.base != action.base:
            self.feed(LandRefused(self.git.base))
            return
        self.land(action.sha, action.prs)
        self.feed(Landed(action.sha))


# --- the naive race: every pull request for itself, compare-and-swap ------------------------


@dataclass
class Attempt:
    parent: str
    sha: str
    reran: bool = False


class RaceSim(Sim):
    def __init__(self, params: Params, specs: list[Spec], conflicts: Conflicts, seed: int) -> None:
        super().__init__(params, specs, conflicts, seed)
        self.attempts: dict[int, Attempt] = {}

    def offer(self, pr: int) -> None:
        self.clock.after(BUILD_MINUTES, partial(self._build, pr))

    def at_rest(self) -> bool:
        return not self.attempts

    def _build(self, pr: int) -> None:
        """Base + the pull request, on the base as it is now."""
        parent = self.git.base
        head = self.head(pr)
        sha, _ = self.git.merge(parent, pr, head, head in self.bad_heads)
        if not sha:
            self.attempts.pop(pr, None)
            self.hand_back(pr, "conflict")
            return
        self.attempts[pr] = Attempt(parent, sha)
        self.ci.run(sha, partial(self._ci_finished, pr))

    def _ci_finished(self, pr: int, passed: bool) -> None:
        attempt = self.attempts[pr]
        if passed:
            self.clock.after(LAND_MINUTES, partial(self._land, pr))
        elif not attempt.reran:  # one re-run of the same commit, as the gate does
            attempt.reran = True
            self.ci.run(attempt.sha, partial(self._ci_finished, pr))
        else:
            del self.attempts[pr]
            self.hand_back(pr, "ci")

    def _land(self, pr: int) -> None:
        """Compare-and-swap: land if the base is still the candidate's parent, else rebuild
        on the new base and test again (no agent round)."""
        attempt = self.attempts[pr]
        if self.git.base != attempt.parent:
            self.clock.after(BUILD_MINUTES, partial(self._build, pr))
            return
        del self.attempts[pr]
        self.land(attempt.sha, (pr,))


# --- runs, figures, the table ----------------------------------------------------------------


def play(name: str, params: Params, seed: int, specs: list[Spec], conflicts: Conflicts) -> Figures:
    rules = rules_for(name, params.budget, params.swarm_rules)
    sim: Sim
    if rules is None:
        sim = RaceSim(params, specs, conflicts, seed)
    else:
        sim = TrainSim(params, specs, conflicts, seed, rules)
    figures = sim.play()
    if figures.escaped:
        raise AssertionError(f"{name}, seed {seed}: {figures.escaped} broken landings escaped")
    return figures


def percentile(values: Sequence[float], q: float) -> float:
    """Linear interpolation between the closest ranks (q in 0..1)."""
    if not values:
        return math.nan
    ordered = sorted(values)
    at = q * (len(ordered) - 1)
    low = math.floor(at)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (at - low)


def mean(values: Sequence[float]) -> float:
    return sum(values) / len(values) if values else math.nan


def summary(runs: list[Figures]) -> dict[str, Any]:
    latencies = [x for r in runs for x in r.latencies_t]
    ci_ejections = sum(r.ci_ejections for r in runs)
    innocent = sum(r.innocent for r in runs)
    landed = sum(r.landed for r in runs)
    return {
        "landed_per_t": mean([r.landed / r.backlog_t if r.backlog_t else 0.0 for r in runs]),
        "ci_per_landed": mean([r.ci_runs / max(r.landed, 1) for r in runs]),
        "rounds_per_landed": mean([r.rounds / max(r.landed, 1) for r in runs]),
        "conflicted_pct": 100 * sum(r.conflicted for r in runs) / max(landed, 1),
        "p50_t": percentile(latencies, 0.5),
        "p95_t": percentile(latencies, 0.95),
        "innocent_per_seed": mean([r.innocent for r in runs]),
        "innocent_pct": 100 * innocent / ci_ejections if ci_ejections else 0.0,
        "escaped": sum(r.escaped for r in runs),
        "landed_fraction": mean([r.landed / max(r.created, 1) for r in runs]),
        "wall_t": mean([r.wall_t for r in runs]),
        "not_landed": sum(r.created - r.landed for r in runs),
        "all_at_rest": all(r.at_rest for r in runs),
        "ci_queued_per_seed": mean([r.ci_queued for r in runs]),
        "uncounted_ci_per_seed": mean([r.uncounted_ci for r in runs]),
        "conflict_ejections_per_seed": mean([r.conflict_ejections for r in runs]),
        "runs": [{k: v for k, v in asdict(r).items() if k != "latencies_t"} for r in runs],
    }


def benchmark(params: Params, names: Sequence[str]) -> dict[str, Any]:
    results: dict[str, list[Figures]] = {name: [] for name in names}
    for seed in range(1, params.seeds + 1):
        specs = workload(params, seed)
        conflicts = Conflicts(seed, params.conflict, specs)
        for name in names:
            results[name].append(play(name, params, seed, specs, conflicts))
    return {"params": asdict(params), "policies": {n: summary(r) for n, r in results.items()}}


COLUMNS = (
    ("landed/T", "landed_per_t", "{:.2f}"),
    ("CI/PR", "ci_per_landed", "{:.2f}"),
    ("rounds/PR", "rounds_per_landed", "{:.2f}"),
    ("conflicted%", "conflicted_pct", "{:.0f}%"),
    ("p50 T", "p50_t", "{:.1f}"),
    ("p95 T", "p95_t", "{:.1f}"),
    ("innocent", "innocent_per_seed", "{:.1f}"),
    ("innocent%", "innocent_pct", "{:.0f}%"),
    ("escaped", "escaped", "{}"),
    ("landed%", "landed_fraction", "{:.0%}"),
    ("wall T", "wall_t", "{:.1f}"),
    ("CI queued", "ci_queued_per_seed", "{:.1f}"),
    ("uncounted CI", "uncounted_ci_per_seed", "{:.1f}"),
)


def describe(params: Params) -> str:
    p = params
    return (
        f"{p.agents} agents, {p.prs} pull requests per seed (work {p.work:g} T, fix {p.fix:g} T), "
        f"1-{p.files_per_pr} of {p.files} files each (Zipf {p.zipf:g}), conflict {p.conflict:g} "
        f"per overlapping pair, fail {p.fail:g}, flake {p.flake:g}, T = {p.ci_minutes:g} min "
        f"(lognormal σ {CI_SIGMA:g}), CI budget {p.budget}, seeds 1..{p.seeds}"
    ) + (f"; swarm rules {p.swarm_rules}" if p.swarm_rules else "")


def table(report: dict[str, Any]) -> str:
    names = list(report["policies"])
    width = max(len("policy"), *(len(n) for n in names))
    lines = [f"{'policy':<{width}}  " + "  ".join(title for title, _, _ in COLUMNS)]
    for name in names:
        figures = report["policies"][name]
        cells = [form.format(figures[key]).rjust(len(title)) for title, key, form in COLUMNS]
        lines.append(f"{name:<{width}}  " + "  ".join(cells))
    return "\n".join(lines)


HELP = {
    "files_per_pr": "a pull request touches 1 to this many files (uniformly)",
    "swarm_rules": (
        "for trying the train's rules without editing it: the swarm policy's TrainRules "
        "overrides, e.g. initial_window=8,adaptive=0 (rules: "
        + ", ".join(f.name for f in fields(TrainRules) if f.name != "ci_budget")
        + "; yes or no as 1/0; the CI budget is --budget)"
    ),
}


def parse(argv: Sequence[str] | None) -> tuple[Params, list[str], bool]:
    defaults = Params()
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    for name, value in asdict(defaults).items():
        flag = "--" + name.replace("_", "-")
        parser.add_argument(flag, dest=name, type=type(value), default=value, help=HELP.get(name))
    parser.add_argument("--policies", default=",".join(POLICIES), help="a comma-separated subset")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON instead")
    args = parser.parse_args(argv)
    params = Params(**{name: getattr(args, name) for name in asdict(defaults)})
    try:
        rules_for("swarm", params.budget, params.swarm_rules)
    except (TypeError, ValueError) as error:
        parser.error(f"--swarm-rules: {error}")
    names = [n for n in args.policies.split(",") if n]
    unknown = set(names) - set(POLICIES)
    if unknown:
        parser.error(f"unknown policies: {', '.join(sorted(unknown))}")
    return params, names, args.json


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    params, names, as_json = parse(argv)
    started = time.perf_counter()
    report = benchmark(params, names)
    seconds = time.perf_counter() - started
    if as_json:
        print(json.dumps(report))
    else:
        print(describe(params))
        print(table(report))
        print(f"simulated in {seconds:.1f} s")
    return report


if __name__ == "__main__":
    main()
