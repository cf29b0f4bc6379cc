"""The merge train's policy, driven at full speed with no I/O: each rule on a small story, then
properties for any order in which builds, CI results, landings and a person's push arrive —
nothing lands twice, nothing broken lands, what lands is a candidate that passed, every pull
request ends landed or handed back with a reason, and the window and CI stay within budget."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from hypothesis import given, settings
from hypothesis import strategies as st

from app.domain.train import (
    Action,
    Build,
    BuildConflict,
    Built,
    Car,
    CiFinished,
    Eject,
    Event,
    Judged,
    Land,
    Landed,
    LandRefused,
    Push,
    Ready,
    Rerun,
    TrainRules,
    TrainState,
    Withdrawn,
    lanes,
    step,
)

BASE = "base0"


def sha(*parts: object) -> str:
    return hashlib.sha1(repr(parts).encode()).hexdigest()


@dataclass
class World:
    """GitHub, git and CI as the train sees them, with the truth the train does not know: which
    pull requests break the tests, and which pairs of them conflict."""

    bad: set[int] = field(default_factory=set)
    conflicts: set[frozenset[int]] = field(default_factory=set)
    files: dict[int, frozenset[str]] = field(default_factory=dict)  # what each one touches
    base: str = BASE
    on_base: set[int] = field(default_factory=set)  # pull requests landed
    contents: dict[str, tuple[int, ...]] = field(default_factory=dict)  # commit -> prs in it
    passed: set[str] = field(default_factory=set)  # commits whose latest CI passed
    landed_twice: list[int] = field(default_factory=list)

    def build(self, action: Build) -> Event:
        inside = self.contents.get(action.parent, ())
        clash = [p for p in (*inside, *self.on_base) if frozenset((p, action.pr)) in self.conflicts]
        if clash:
            mine = self.files.get(action.pr, frozenset())
            both = {f for p in clash for f in self.files.get(p, frozenset()) & mine}
            return BuildConflict(action.pr, action.head, action.parent, tuple(sorted(both)))
        commit = sha(action.parent, action.pr, action.head)
        self.contents[commit] = (*inside, action.pr)
        return Built(action.pr, action.head, action.parent, commit)

    def ci(self, commit: str, flaky: bool) -> Event:
        ok = not (set(self.contents[commit]) & self.bad) and not flaky
        if ok:
            self.passed.add(commit)
        else:
            self.passed.discard(commit)
        return CiFinished(commit, ok, "" if ok else f"FAILED on {commit[:8]}")

    def land(self, action: Land) -> Event:
        if self.base != action.base:
            return LandRefused(self.base)
        assert action.sha in self.passed, "a landing of a commit that did not pass"
        for pr in action.prs:
            if pr in self.on_base:
                self.landed_twice.append(pr)
        self.on_base |= set(action.prs)
        self.base = action.sha
        self.contents.setdefault(self.base, ())
        return Landed(action.sha)

    def person_pushes(self) -> None:
        self.base = sha(self.base, "a person's commit")
        self.contents[self.base] = ()


def rules(**changes: object) -> TrainRules:
    """One CI run per candidate (no batches), a window of 4: the rules the stories below tell."""
    return TrainRules(**{"initial_window": 4, "batch": 1, **changes})  # type: ignore[arg-type]


def car(pr: int, *files: str) -> Car:
    return Car(pr, f"head{pr}", frozenset(files or {f"f{pr}"}))


def run(state: TrainState, events: list[Event]) -> tuple[TrainState, list[Action]]:
    """Feed events in order; return the last state and every action asked for."""
    actions: list[Action] = []
    for event in events:
        result = step(state, event)
        state = result.state
        actions += result.actions
    return state, actions


def drive(
    state: TrainState, world: World, events: list[Event], flaky: set[str] = frozenset()
) -> TrainState:
    """Run the train to rest, executing each action as soon as it is asked for (in order)."""
    pending: list[Action | Event] = list(events)
    while pending:
        item = pending.pop(0)
        if isinstance(item, (Build, Push, Rerun, Land, Eject)):
            match item:
                case Build():
                    outcome = world.build(item)
                    pending.append(outcome)
                    if isinstance(outcome, Built) and item.test:
                        pending.append(world.ci(outcome.sha, outcome.sha in flaky))
                case Rerun(commit) | Push(commit):
                    pending.append(world.ci(commit, False))
                case Land():
                    pending.append(world.land(item))
                case Eject():
                    pass
            continue
        result = step(state, item)
        state = result.state
        pending += result.actions
    return state


# -- each rule on a small story ---------------------------------------------------------------


def test_candidates_stack_and_the_deepest_one_that_passed_lands_its_prefix() -> None:
    world = World()
    state = drive(TrainState(BASE, rules()), world, [Ready(car(1)), Ready(car(2)), Ready(car(3))])
    assert [pr for pr, _ in state.landed] == [1, 2, 3]
    assert world.on_base == {1, 2, 3} and not world.landed_twice
    assert state.ci_runs == 3 and state.flakes == 0 and not state.cars


def test_a_later_candidate_that_passed_lands_the_prefix_whatever_fails_ahead_of_it() -> None:
    world = World()
    state, actions = run(TrainState(BASE, rules(initial_window=2)), [Ready(car(1)), Ready(car(2))])
    built1 = world.build(actions[0])  # type: ignore[arg-type]
    state, actions = run(state, [built1])
    built2 = world.build(actions[0])  # type: ignore[arg-type]
    world.passed.add(built2.sha)  # type: ignore[union-attr]
    # Candidate 2, which contains 1, passes first: both land at once, and a flaky failure of
    # candidate 1 reported meanwhile changes nothing.
    state, actions = run(state, [built2, CiFinished(built2.sha, True)])  # type: ignore[union-attr]
    assert actions == [Land(built2.sha, BASE, (1, 2))]  # type: ignore[union-attr]
    state, more = run(state, [CiFinished(built1.sha, False, "boom")])  # type: ignore[union-attr]
    assert more == []
    state, _ = run(state, [world.land(actions[0])])  # type: ignore[arg-type]
    assert [pr for pr, _ in state.landed] == [1, 2] and not state.ejected


def test_a_failure_sets_its_car_aside_for_one_rerun_and_the_train_goes_on_without_it() -> None:
    world = World()
    state, actions = run(TrainState(BASE, rules(initial_window=2)), [Ready(car(1)), Ready(car(2))])
    built1 = world.build(actions[0])  # type: ignore[arg-type]
    state, actions = run(state, [built1])
    built2 = world.build(actions[0])  # type: ignore[arg-type]
    state, _ = run(state, [built2])
    state, actions = run(state, [CiFinished(built1.sha, False, "boom")])  # type: ignore[union-attr]
    # 1 waits aside for its re-run; 2 is rebuilt on the base without it.
    assert actions == [Rerun(built1.sha), Build(2, "head2", BASE)]  # type: ignore[union-attr]
    assert [c.pr for c in state.active()] == [2] and state.under_ci() == 3
    # The re-run passes: a flake. 1 goes back in behind 2, and both land.
    state = drive(state, world, [world.ci(built1.sha, False), *map(world.build, actions[1:])])  # type: ignore[arg-type,union-attr]
    assert [pr for pr, _ in state.landed] == [2, 1] and state.flakes == 1 and not state.ejected


def test_a_failure_is_rerun_once_then_its_car_is_ejected_and_only_what_contained_it_rebuilt() -> (
    None
):
    world = World(bad={2})
    state = drive(
        TrainState(BASE, rules(initial_window=3)), world,
        [Ready(car(1)), Ready(car(2)), Ready(car(3))],
    )  # fmt: skip
    assert [pr for pr, _ in state.landed] == [1, 3]
    assert state.ejected == ((2, "ci"),)
    # 1, 2 and 3 built; 2 re-run once; 3, built on 2, rebuilt without it: five CI runs.
    assert state.ci_runs == 5


def test_the_window_grows_by_one_per_landing_and_halves_on_an_ejection() -> None:
    state = drive(TrainState(BASE, rules(ci_budget=5)), World(), [Ready(car(1))])
    assert state.size == 5  # 4 + 1, within the budget
    state = drive(state, World(base=state.base), [Ready(car(2))])
    assert state.size == 5  # the budget caps it
    state = drive(state, World(base=state.base, bad={3}), [Ready(car(3))])
    assert state.size == 2 and state.ejected == ((3, "ci"),)
    fixed = TrainState(BASE, rules(initial_window=4, adaptive=False))
    assert drive(fixed, World(bad={1}), [Ready(car(1)), Ready(car(2))]).size == 4


def test_the_ejected_car_is_handed_back_with_its_log_and_what_it_was_tested_with() -> None:
    world = World(bad={2})
    state = TrainState(BASE, rules(initial_window=2))
    ejects: list[Eject] = []
    # 1 waits for an approval, so it is still in the train when 2 fails on top of it.
    waiting = Car(1, "head1", frozenset({"f1"}), approved=False)
    pending: list[Action | Event] = [Ready(waiting), Ready(car(2))]
    while pending:
        item = pending.pop(0)
        if isinstance(item, Build):
            built = world.build(item)
            pending += [built, world.ci(built.sha, False)]  # type: ignore[union-attr]
        elif isinstance(item, Rerun):
            pending.append(world.ci(item.sha, False))
        elif isinstance(item, Land):
            pending.append(world.land(item))
        elif isinstance(item, Eject):
            ejects.append(item)
        else:
            result = step(state, item)
            state, pending = result.state, pending + list(result.actions)
    (eject,) = ejects
    assert eject.pr == 2 and eject.kind == "ci" and eject.tested_with == (1, 2)
    assert "tested with #1" in eject.why and eject.details.startswith("FAILED on")
    assert state.landing is None and not state.landed  # 1 still waits for its approval
    state = drive(state, world, [Judged(1, True)])
    assert [pr for pr, _ in state.landed] == [1]


def test_a_conflict_with_a_car_ahead_waits_behind_it_and_lands_after_it() -> None:
    world = World(files={1: frozenset({"a.py"}), 2: frozenset({"a.py"})})
    world.conflicts.add(frozenset({1, 2}))
    events: list[Event] = [Ready(car(1, "a.py")), Ready(car(2, "a.py")), Ready(car(3, "b.py"))]
    state, actions = run(TrainState(BASE, rules(initial_window=3)), events[:2])
    built = world.build(actions[0])  # type: ignore[arg-type]
    state, actions = run(state, [built])
    conflict = world.build(actions[0])  # type: ignore[arg-type]
    assert isinstance(conflict, BuildConflict)
    state, actions = run(state, [conflict, events[2]])
    # 2 waits behind 1; 3, of another lane, moves up and is built on 1.
    assert [c.parked_behind for c in state.cars] == [0, 1, 0]
    assert actions == [Build(3, "head3", built.sha)]  # type: ignore[union-attr]
    assert lanes(state.cars) == {1: 1, 2: 1, 3: 3}


def test_a_conflict_with_the_base_goes_back_to_the_worker() -> None:
    world = World(on_base={9}, files={9: frozenset({"f1"}), 1: frozenset({"f1"})})
    world.conflicts.add(frozenset({9, 1}))
    state = drive(TrainState(BASE, rules()), world, [Ready(car(1))])
    assert state.ejected == ((1, "conflict"),) and not state.landed


def test_a_person_moving_the_base_rebuilds_the_train_on_it() -> None:
    world = World()
    state, actions = run(TrainState(BASE, rules()), [Ready(car(1))])
    built = world.build(actions[0])  # type: ignore[arg-type]
    state, _ = run(state, [built, world.ci(built.sha, False)])  # type: ignore[union-attr]
    world.person_pushes()
    landing = [a for a in step(state, Ready(car(2))).actions if isinstance(a, Land)]
    state = step(state, Ready(car(2))).state
    refused = world.land(landing[0]) if landing else LandRefused(world.base)
    assert isinstance(refused, LandRefused)
    state, actions = run(state, [refused])
    assert actions == [Build(1, "head1", world.base)]


def test_a_withdrawn_car_leaves_and_what_was_built_on_it_is_rebuilt() -> None:
    world = World()
    state, actions = run(TrainState(BASE, rules(initial_window=2)), [Ready(car(1)), Ready(car(2))])
    built = world.build(actions[0])  # type: ignore[arg-type]
    state, actions = run(state, [built])
    state, actions = run(state, [Withdrawn(1, "a new head")])
    assert actions == [Build(2, "head2", BASE)]
    assert [c.pr for c in state.cars] == [2]


def test_in_batches_ci_runs_on_one_candidate_in_k_and_a_failure_tests_the_ones_ahead() -> None:
    world = World(bad={3})
    pushed: list[str] = []
    state = TrainState(BASE, rules(batch=2))
    pending: list[Action | Event] = [Ready(car(pr)) for pr in (1, 2, 3, 4)]
    while pending:
        item = pending.pop(0)
        if isinstance(item, Build):
            built = world.build(item)
            pending.append(built)
            if item.test:
                pushed.append(built.sha)  # type: ignore[union-attr]
                pending.append(world.ci(built.sha, False))  # type: ignore[union-attr]
        elif isinstance(item, (Push, Rerun)):
            pushed.append(item.sha)
            pending.append(world.ci(item.sha, False))
        elif isinstance(item, Land):
            pending.append(world.land(item))
        elif not isinstance(item, Eject):
            result = step(state, item)
            state, pending = result.state, pending + list(result.actions)
    # 1 is tested alone (the last car when it came); 2 is merged untested and 3's run covers
    # 1..3; it fails, so 2's candidate is pushed and passes (1 and 2 land) and 3's is re-run,
    # fails again, and 3 goes back; 4, tested on 3, is rebuilt without it and lands.
    assert [pr for pr, _ in state.landed] == [1, 2, 4]
    assert state.ejected == ((3, "ci"),)
    assert state.ci_runs == len(pushed) == 6  # four candidates, 3's re-run, 4 rebuilt
    assert len(set(pushed)) == 5  # one commit ran twice: the re-run


# -- properties: any order of events ----------------------------------------------------------


@st.composite
def trains(draw: st.DrawFn) -> tuple[TrainRules, list[Car], set[int], set[frozenset[int]]]:
    budget = draw(st.integers(1, 6))
    rules = TrainRules(
        initial_window=draw(st.integers(1, budget)), ci_budget=budget,
        batch=draw(st.integers(1, 3)),
        adaptive=draw(st.booleans()), rerun_failures=draw(st.booleans()),
        wait_for_evidence=draw(st.booleans()), park_conflicts=draw(st.booleans()),
    )  # fmt: skip
    n = draw(st.integers(1, 7))
    files = st.frozensets(st.sampled_from(["a", "b", "c", "d", "e"]), min_size=1, max_size=2)
    cars = [Car(pr, f"head{pr}", draw(files)) for pr in range(1, n + 1)]
    bad = draw(st.sets(st.integers(1, n)))
    pairs = [
        frozenset((a.pr, b.pr)) for a in cars for b in cars if a.pr < b.pr and a.files & b.files
    ]
    conflicts = set(draw(st.lists(st.sampled_from(pairs), unique=True))) if pairs else set()
    return rules, cars, bad, conflicts


@settings(max_examples=600, deadline=None)
@given(trains(), st.data())
def test_any_order_of_events_lands_each_good_car_once_and_tested(
    train: tuple[TrainRules, list[Car], set[int], set[frozenset[int]]], data: st.DataObject
) -> None:
    rules, cars, bad, conflicts = train
    world = World(bad=bad, conflicts=conflicts, files={c.pr: c.files for c in cars})
    state = TrainState(BASE, rules)
    pending: list[Action | Event] = [Ready(c) for c in cars]
    pushes = data.draw(st.integers(0, 2))
    reasons: dict[int, str] = {}
    pushed: set[str] = set()
    for _ in range(2000):
        if not pending:
            break
        item = pending.pop(data.draw(st.integers(0, len(pending) - 1)))
        if pushes and data.draw(st.integers(0, 9)) == 0:
            pushes -= 1
            world.person_pushes()
        if isinstance(item, Build):
            outcome = world.build(item)
            pending.append(outcome)
            if isinstance(outcome, Built) and item.test:
                pushed.add(outcome.sha)
        elif isinstance(item, Built):
            result = step(state, item)
            state, pending = result.state, pending + list(result.actions)
            if item.sha in pushed:  # CI runs on a push, and reports after it
                pending.append(world.ci(item.sha, data.draw(st.booleans())))
        elif isinstance(item, (Rerun, Push)):
            pending.append(world.ci(item.sha, data.draw(st.booleans())))
        elif isinstance(item, Land):
            pending.append(world.land(item))
        elif isinstance(item, Eject):
            assert item.why and item.pr not in reasons
            reasons[item.pr] = item.why
        else:
            result = step(state, item)
            state, pending = result.state, pending + list(result.actions)
        assert 1 <= state.size <= rules.ci_budget
        assert state.under_ci() <= rules.ci_budget
    assert not pending, "the train never came to rest"
    landed = [pr for pr, _ in state.landed]
    assert not world.landed_twice and len(landed) == len(set(landed))
    assert not set(landed) & bad, "a broken pull request landed"
    # Every pull request ends landed or handed back with a reason, never both, never neither.
    assert set(landed) | set(reasons) == {c.pr for c in cars}
    assert not set(landed) & set(reasons)
    assert not state.cars and not state.candidates and state.landing is None
