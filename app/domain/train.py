"""The merge train's policy: many pull requests tested at once on one base branch, each landing
the exact commit that passed.

Pure: no I/O and no clock. `step(state, event)` folds in what the outside world reports (a pull
request ready, a candidate built, CI finished, a landing done or refused) and returns the new
state with the actions to take now (build, re-run, land, hand back). The train workflow executes
them; tests and the discrete-event benchmark (`bench/merge_train.py`) drive the same code at full
speed.

The train, in order of readiness, is a stack of speculative candidates: the first car's
candidate is the base with its pull request merged in; each next one is the candidate ahead of it
with its own merged in, so candidate *i* contains cars 1…*i*. All of them are tested at once,
within a window. When a candidate passes and every car in it is approved, the base moves to that
very commit (a fast-forward, as the gate lands): the prefix lands, and the candidates behind it,
built on top of it, stay valid.

A failure is not blamed until the evidence says so: a later candidate that passes lands the
prefix that contains the failure (it was a flake); a failing candidate whose parent passed (or is
the base) is re-run once on the same commit while its car waits aside and the candidates behind it
are rebuilt without it, so the train does not stall on the re-run. Passing then, it was a flake and
the car goes back in; failing again, the car is ejected — handed back to its worker with the log
and the pull requests it was tested with. The window grows by one per
landing and halves on a real failure (Zuul's rule; a conflict is not one), within the CI budget.

Lanes by footprint: pull requests whose files overlap share a lane. A car whose merge conflicts
only with cars ahead of it in its lane waits behind them (parked) instead of being handed back
for a rebase that may prove unnecessary; cars of other lanes move up past it. If the car it
waits for lands, the rebase was needed after all and it goes back to its worker; if that car
leaves the train, it goes on. Landing stays one linear history of tested commits, so lanes decide
order and waiting, never what lands untested.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Literal

EjectKind = Literal["ci", "conflict", "judge"]
# "built": merged but not pushed (a batch's candidates ahead of the one CI tests).
CandidateState = Literal["building", "built", "testing", "passed", "failed"]


@dataclass(frozen=True)
class TrainRules:
    # The defaults are bench/merge_train.py's best that keeps the window adaptive (README).
    initial_window: int = 12  # candidates tested at once to begin with
    ci_budget: int = 16  # candidates under CI at once, re-runs and abandoned ones included
    adaptive: bool = True  # grow by one per landing, halve on an ejection
    rerun_failures: bool = True  # one re-run of a suspect candidate before blaming its car
    wait_for_evidence: bool = True  # a later passing candidate clears a failure ahead of it
    park_conflicts: bool = True  # a conflict with a car ahead waits behind it
    # CI on one candidate in `batch` (it contains the ones ahead of it); the others are tested
    # only when it fails. The window counts tested candidates.
    batch: int = 4

    def __post_init__(self) -> None:
        if not 1 <= self.initial_window <= self.ci_budget:
            raise ValueError("the initial window is between 1 and the CI budget")
        if self.batch < 1:
            raise ValueError("a batch is one candidate or more")


@dataclass(frozen=True)
class Car:
    """A pull request in the train: its head and the files it touches (its footprint)."""

    pr: int
    head: str
    files: frozenset[str] = frozenset()
    approved: bool = True  # the judge and people let it land (False: not yet)
    parked_behind: int = 0  # the car ahead whose change it conflicts with: it waits for it
    suspect: bool = False  # its candidate failed: set aside while that is re-run


@dataclass(frozen=True)
class Candidate:
    """A car's speculative commit: its parent (the base, or the candidate of the car ahead of
    it) with the car's pull request merged in."""

    pr: int
    head: str  # the car's head it merges
    parent: str
    prs: tuple[int, ...]  # every car it contains, in train order
    sha: str = ""  # "" while it is built
    state: CandidateState = "building"
    tested: bool = True  # pushed for CI once built (else merged only, tested if need be)
    log: str = ""  # the failing output, for the worker


# --- events --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Ready:
    car: Car


@dataclass(frozen=True)
class Withdrawn:
    pr: int  # a new head, closed, held: it leaves the train
    why: str = ""


@dataclass(frozen=True)
class Judged:
    pr: int
    approved: bool
    summary: str = ""


@dataclass(frozen=True)
class Built:
    pr: int
    head: str
    parent: str
    sha: str  # pushed: CI runs on it


@dataclass(frozen=True)
class BuildConflict:
    pr: int
    head: str
    parent: str
    files: tuple[str, ...]


@dataclass(frozen=True)
class CiFinished:
    sha: str
    passed: bool
    log: str = ""


@dataclass(frozen=True)
class Landed:
    sha: str  # the base is now here: the candidate landed


@dataclass(frozen=True)
class LandRefused:
    base: str  # the base moved elsewhere (a person's push): everything is rebuilt on it


Event = Ready | Withdrawn | Judged | Built | BuildConflict | CiFinished | Landed | LandRefused


# --- actions -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Build:
    pr: int
    head: str
    parent: str  # merge `head` into this commit
    test: bool = True  # push it, so CI runs on it; else only merge it


@dataclass(frozen=True)
class Push:
    sha: str  # push a candidate built untested: CI runs on it


@dataclass(frozen=True)
class Rerun:
    sha: str


@dataclass(frozen=True)
class Land:
    sha: str
    base: str  # a fast-forward from here, or refused
    prs: tuple[int, ...]


@dataclass(frozen=True)
class Eject:
    pr: int
    kind: EjectKind
    why: str
    details: str  # the log, the conflicted files or the verdict
    tested_with: tuple[int, ...] = ()  # the pull requests in the candidate that failed


Action = Build | Push | Rerun | Land | Eject


@dataclass(frozen=True)
class TrainState:
    base: str
    rules: TrainRules = TrainRules()
    cars: tuple[Car, ...] = ()  # in train order
    candidates: tuple[Candidate, ...] = ()  # at most one current candidate per car
    window: int = 0  # 0: the rules' initial window
    landing: Candidate | None = None  # the candidate being landed: its cars land with it
    abandoned: tuple[str, ...] = ()  # candidates left behind whose CI still runs
    dropped_builds: tuple[tuple[int, str, str], ...] = ()  # (pr, head, parent) pushed soon
    suspects: tuple[Candidate, ...] = ()  # failed candidates re-run while their cars wait
    # What happened, for the status comment and the benchmark:
    landed: tuple[tuple[int, str], ...] = ()  # (pr, the sha it landed in)
    ejected: tuple[tuple[int, EjectKind], ...] = ()
    ci_runs: int = 0  # every CI run the train caused, on candidates since dropped too
    flakes: int = 0
    landings: int = 0

    @property
    def size(self) -> int:
        return self.window or self.rules.initial_window

    def candidate(self, pr: int) -> Candidate | None:
        return next((c for c in self.candidates if c.pr == pr), None)

    def active(self) -> list[Car]:
        """The cars that may have a candidate now, in order: parked and suspect ones wait."""
        return [car for car in self.cars if not car.parked_behind and not car.suspect]

    def under_ci(self) -> int:
        """Candidates under CI, or about to be (a build is pushed, and CI runs on a push)."""
        testing = sum(
            (c.state == "building" and c.tested) or c.state == "testing" for c in self.candidates
        )
        left = len(self.abandoned) + len(self.dropped_builds) + len(self.suspects)
        return testing + left


@dataclass(frozen=True)
class Step:
    state: TrainState
    actions: tuple[Action, ...]


def step(state: TrainState, event: Event) -> Step:
    """The state after `event`, and what to do now."""
    state, actions = _apply(state, event)
    state = _drop_stale(state)
    state, more = _schedule(state)
    return Step(state, (*actions, *more))


# --- folding an event in -------------------------------------------------------------------


def _apply(state: TrainState, event: Event) -> tuple[TrainState, list[Action]]:
    match event:
        case Ready(car):
            if any(c.pr == car.pr for c in state.cars):
                return state, []  # a repeat: it is in the train already
            return replace(state, cars=(*state.cars, car)), []
        case Withdrawn(pr):
            return _remove(state, pr), []
        case Judged(pr, approved, summary):
            if approved:
                cars = tuple(replace(c, approved=True) if c.pr == pr else c for c in state.cars)
                return replace(state, cars=cars), []
            if not _has(state, pr) or (state.landing and pr in state.landing.prs):
                return state, []  # gone, or landing already
            eject = Eject(pr, "judge", "the judge asked for changes", summary)
            return _eject(state, eject), [eject]
        case Built(pr, head, parent, sha):
            found = state.candidate(pr)
            current = found is not None and (found.head, found.parent) == (head, parent)
            if found is None or not current or found.state != "building":
                if (pr, head, parent) not in state.dropped_builds:
                    return state, []  # a repeat, or a build that pushed nothing
                # A tested candidate since dropped: its CI runs all the same, in the slot its
                # build kept.
                dropped = tuple(b for b in state.dropped_builds if b != (pr, head, parent))
                return replace(
                    state, dropped_builds=dropped, abandoned=(*state.abandoned, sha),
                    ci_runs=state.ci_runs + 1,
                ), []  # fmt: skip
            if not found.tested:
                return _swap(state, replace(found, sha=sha, state="built")), []
            built = replace(found, sha=sha, state="testing")
            return replace(_swap(state, built), ci_runs=state.ci_runs + 1), []
        case BuildConflict(pr, head, parent, files):
            found = state.candidate(pr)
            if found is None or (found.head, found.parent) != (head, parent):
                # A dropped build that conflicted: nothing was pushed, its slot is free.
                dropped = tuple(b for b in state.dropped_builds if b != (pr, head, parent))
                return replace(state, dropped_builds=dropped), []
            # Its build is over, with nothing pushed: it keeps no slot.
            state = replace(state, candidates=tuple(c for c in state.candidates if c.pr != pr))
            return _conflicted(state, found, files)
        case CiFinished(sha, passed, log):
            return _ci_finished(state, sha, passed, log)
        case Landed(sha):
            return _landed(state, sha)
        case LandRefused(base):
            return replace(state, base=base, landing=None), []
    raise TypeError(f"not a train event: {event!r}")


def _has(state: TrainState, pr: int) -> bool:
    return any(c.pr == pr for c in state.cars)


def _swap(state: TrainState, candidate: Candidate) -> TrainState:
    return replace(
        state, candidates=tuple(candidate if c.pr == candidate.pr else c for c in state.candidates)
    )


def _remove(state: TrainState, pr: int) -> TrainState:
    """The car leaves; cars parked behind it may go; its candidate is dropped (stale), and a
    re-run of it set aside is left to end on its own."""
    cars = tuple(
        replace(c, parked_behind=0) if c.parked_behind == pr else c
        for c in state.cars
        if c.pr != pr
    )
    running = tuple(c.sha for c in state.suspects if c.pr == pr)
    return replace(
        state,
        cars=cars,
        suspects=tuple(c for c in state.suspects if c.pr != pr),
        abandoned=(*state.abandoned, *running),
    )


def _eject(state: TrainState, eject: Eject) -> TrainState:
    """The car goes back to its worker; a real failure (not a conflict, not the judge) halves
    the window, as Zuul does."""
    state = _remove(state, eject.pr)
    halve = state.rules.adaptive and eject.kind == "ci"
    window = max(1, state.size // 2) if halve else state.size
    return replace(state, window=window, ejected=(*state.ejected, (eject.pr, eject.kind)))


def _conflicted(
    state: TrainState, found: Candidate, files: tuple[str, ...]
) -> tuple[TrainState, list[Action]]:
    """A merge conflict: with cars ahead in its lane, it waits behind the last of them; with
    the base itself, it goes back to its worker."""
    car = next(c for c in state.cars if c.pr == found.pr)
    touched = set(files) or set(car.files)
    ahead = [c for c in state.cars if c.pr in found.prs and c.pr != car.pr and c.files & touched]
    if ahead and state.rules.park_conflicts:
        parked = replace(car, parked_behind=ahead[-1].pr)
        cars = tuple(parked if c.pr == car.pr else c for c in state.cars)
        return replace(state, cars=cars), []
    with_ = f" and #{', #'.join(str(p) for p in found.prs[:-1])}" if found.prs[:-1] else ""
    eject = Eject(
        car.pr, "conflict", f"conflicts with the base{with_} in {', '.join(files) or '?'}",
        "\n".join(files), found.prs,
    )  # fmt: skip
    return _eject(state, eject), [eject]


def _ci_finished(
    state: TrainState, sha: str, passed: bool, log: str
) -> tuple[TrainState, list[Action]]:
    if sha in state.abandoned:
        abandoned = list(state.abandoned)
        abandoned.remove(sha)
        return replace(state, abandoned=tuple(abandoned)), []
    suspect = next((c for c in state.suspects if c.sha == sha), None)
    if suspect is not None:
        return _cleared_or_blamed(state, suspect, passed, log)
    found = next((c for c in state.candidates if c.sha == sha), None)
    if found is None or found.state != "testing":
        return state, []  # a repeat, or a result for a commit no longer tested
    if passed:
        return _swap(state, replace(found, state="passed")), []
    return _swap(state, replace(found, state="failed", log=log or found.log)), []


def _cleared_or_blamed(
    state: TrainState, suspect: Candidate, passed: bool, log: str
) -> tuple[TrainState, list[Action]]:
    """The re-run of a car set aside. Passing, its failure was a flake: the car goes back into
    the train right behind the cars already built on, not handed back. Failing again, it is
    blamed: handed back to its worker."""
    state = replace(state, suspects=tuple(c for c in state.suspects if c.sha != suspect.sha))
    car = next(c for c in state.cars if c.pr == suspect.pr)
    if not passed:
        why = f"CI failed twice on the train's candidate {suspect.sha[:12]}"
        others = [p for p in suspect.prs if p != suspect.pr]
        if others:
            why += f", tested with #{', #'.join(str(p) for p in others)}"
        eject = Eject(car.pr, "ci", why, log or suspect.log, suspect.prs)
        return _eject(state, eject), [eject]
    built = {c.pr for c in state.candidates}
    rest = [c for c in state.cars if c.pr != car.pr]
    at = max((i + 1 for i, c in enumerate(rest) if c.pr in built), default=0)
    back = replace(car, suspect=False)
    return replace(state, cars=(*rest[:at], back, *rest[at:]), flakes=state.flakes + 1), []


def _landed(state: TrainState, sha: str) -> tuple[TrainState, list[Action]]:
    found = state.landing
    if found is None or found.sha != sha:
        return replace(state, base=sha, landing=None), []  # not ours: the base moved
    window = state.size + 1 if state.rules.adaptive else state.size
    # Candidates of landed cars whose CI still runs (the landing one's prefix) keep their slot.
    running = tuple(
        c.sha for c in state.candidates
        if c.pr in found.prs and c.sha != sha and c.state == "testing"
    )  # fmt: skip
    state = replace(
        state,
        base=sha,
        landing=None,
        cars=tuple(c for c in state.cars if c.pr not in found.prs),
        # Those behind were built on it: still valid, containing what is not landed yet.
        candidates=tuple(
            replace(c, prs=tuple(p for p in c.prs if p not in found.prs))
            for c in state.candidates
            if c.pr not in found.prs
        ),
        abandoned=(*state.abandoned, *running),
        landed=(*state.landed, *((pr, sha) for pr in found.prs)),
        landings=state.landings + 1,
        window=min(window, state.rules.ci_budget),
    )
    # A car parked behind one that landed now conflicts with the base: the rebase it waited
    # to know about is needed after all.
    actions: list[Action] = []
    for car in [c for c in state.cars if c.parked_behind in found.prs]:
        eject = Eject(
            car.pr, "conflict", f"conflicts with #{car.parked_behind}, which landed",
            "\n".join(sorted(car.files)), (car.parked_behind, car.pr),
        )  # fmt: skip
        state = _eject(state, eject)
        actions.append(eject)
    return state, actions


def _drop_stale(state: TrainState) -> TrainState:
    """Keep only the candidates still built on what is ahead of them now: the base for the
    first active car, the candidate of the car ahead for the others. CI still running on a
    dropped one keeps its slot until it ends."""
    keep: list[Candidate] = []
    abandoned = list(state.abandoned)
    parent = state.base
    prs: tuple[int, ...] = ()
    for car in state.active():
        found = state.candidate(car.pr)
        prs = (*prs, car.pr)
        if found is None or found.parent != parent or found.prs != prs:
            break
        keep.append(found)
        if not found.sha:
            break
        parent = found.sha
    kept = {c.pr for c in keep}
    dropped_builds = list(state.dropped_builds)
    for dropped in state.candidates:
        if dropped.pr in kept:
            continue
        if dropped.state == "testing":
            abandoned.append(dropped.sha)
        elif dropped.state == "building" and dropped.tested:  # its push is coming, with CI
            dropped_builds.append((dropped.pr, dropped.head, dropped.parent))
    return replace(
        state,
        candidates=tuple(keep),
        abandoned=tuple(abandoned),
        dropped_builds=tuple(dropped_builds),
    )


# --- what to do now ------------------------------------------------------------------------


def _schedule(state: TrainState) -> tuple[TrainState, list[Action]]:
    actions: list[Action] = []
    state, land = _land(state)
    actions += land
    state, blamed = _blame(state)
    actions += blamed
    if blamed:  # a car ejected or set aside: what was built on it goes
        state = _drop_stale(state)
    state, built = _fill(state)
    actions += built
    return state, actions


def _land(state: TrainState) -> tuple[TrainState, list[Action]]:
    """Land the deepest passed candidate whose cars are all approved."""
    if state.landing is not None:
        return state, []
    approved = {c.pr for c in state.cars if c.approved}
    best = None
    for candidate in state.candidates:
        if candidate.state == "passed" and set(candidate.prs) <= approved:
            best = candidate
    if best is None:
        return state, []
    return replace(state, landing=best), [Land(best.sha, state.base, best.prs)]


def _blame(state: TrainState) -> tuple[TrainState, list[Action]]:
    """The first failed candidate, once what is ahead of it passed (a later candidate that
    passes clears it instead: the prefix lands): its car is set aside while the candidate is
    re-run, and the train goes on without it — or, without re-runs, it is handed back at once.
    Not while a landing is under way: its cars land, whatever is found meanwhile."""
    if state.landing is not None:
        return state, []
    candidates = list(state.candidates)
    for i, failed in enumerate(candidates):
        if failed.state != "failed":
            continue
        behind = candidates[i + 1 :]
        evidence = state.rules.wait_for_evidence
        if evidence and any(c.state == "passed" for c in behind):
            return state, []  # a later candidate containing it passed: the prefix lands
        untested = [c for c in candidates[:i] if c.state == "built"]
        if untested:
            return _test(state, untested)  # its batch: which of them broke it?
        if i and candidates[i - 1].state != "passed":
            return state, []  # the candidate ahead is not through yet: blame it first
        if state.rules.rerun_failures:
            # Set aside while its candidate is re-run, so that the train goes on without it.
            if state.under_ci() >= state.rules.ci_budget:
                return state, []
            cars = tuple(replace(c, suspect=True) if c.pr == failed.pr else c for c in state.cars)
            state = replace(
                state,
                cars=cars,
                candidates=tuple(c for c in state.candidates if c.pr != failed.pr),
                suspects=(*state.suspects, failed),
                ci_runs=state.ci_runs + 1,
            )
            return state, [Rerun(failed.sha)]
        why = f"CI failed on the train's candidate {failed.sha[:12]}"
        others = [p for p in failed.prs if p != failed.pr]
        if others:
            why += f", tested with #{', #'.join(str(p) for p in others)}"
        eject = Eject(failed.pr, "ci", why, failed.log, failed.prs)
        return _eject(state, eject), [eject]
    return state, []


def _test(state: TrainState, built: list[Candidate]) -> tuple[TrainState, list[Action]]:
    """Push candidates built untested, within the CI budget."""
    actions: list[Action] = []
    for candidate in built:
        if state.under_ci() >= state.rules.ci_budget:
            break
        state = replace(
            _swap(state, replace(candidate, state="testing", tested=True)),
            ci_runs=state.ci_runs + 1,
        )
        actions.append(Push(candidate.sha))
    return state, actions


def _fill(state: TrainState) -> tuple[TrainState, list[Action]]:
    """Build the next candidate on the one ahead, within the window (tested candidates) and the
    CI budget; with batches, CI runs on one candidate in `batch` and on the last car's."""
    window = min(state.size, state.rules.ci_budget)
    parent = state.base
    prs: tuple[int, ...] = ()
    tested = untested = 0  # tested candidates so far; untested ones just ahead
    active = state.active()
    for position, car in enumerate(active):
        prs = (*prs, car.pr)
        found = state.candidate(car.pr)
        if found is not None:
            if not found.sha:
                return state, []  # built next: the ones behind wait for its commit
            parent = found.sha
            tested, untested = (tested + 1, 0) if found.tested else (tested, untested + 1)
            continue
        if tested >= window:
            return state, []
        test = untested >= state.rules.batch - 1 or position == len(active) - 1
        if test and state.under_ci() >= state.rules.ci_budget:
            return state, []
        candidate = Candidate(car.pr, car.head, parent, prs, tested=test)
        state = replace(state, candidates=(*state.candidates, candidate))
        return state, [Build(car.pr, car.head, parent, test)]
    # Nothing more to build on the deepest candidate (the cars behind it left): test it.
    deepest = state.candidates[-1] if state.candidates else None
    if deepest is not None and deepest.state == "built":
        return _test(state, [deepest])
    return state, []


def lanes(cars: Iterable[Car]) -> dict[int, int]:
    """Each car's lane: cars whose footprints overlap, directly or through others, share one
    (numbered by their first car)."""
    lane: dict[int, int] = {}
    seen: list[Car] = []
    for car in cars:
        overlapping = {lane[c.pr] for c in seen if c.files & car.files}
        number = min(overlapping) if overlapping else car.pr
        for other in seen:
            if lane[other.pr] in overlapping:
                lane[other.pr] = number
        lane[car.pr] = number
        seen.append(car)
    return lane
