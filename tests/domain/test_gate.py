"""The merge gate's policy, driven at full speed with no I/O: each rule, then properties that
must hold for any stream of events (nothing untested lands; what lands is what was tested)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from app.domain.gate import (
    AskPeople,
    AwaitChecks,
    AwaitPeople,
    Block,
    Build,
    CandidateBuilt,
    Check,
    ChecksSeen,
    ChecksTimedOut,
    Conflicted,
    Event,
    Finish,
    GateRules,
    GateState,
    HandBack,
    Judge,
    Judged,
    Land,
    Landed,
    LandRefused,
    People,
    PeopleSeen,
    Rerequested,
    Rerun,
    advance,
    decide,
)

HEAD = "h" * 40
BASE = "b" * 40
CAND = "c" * 40
TREE = "t" * 40
GREEN = ChecksSeen((Check("ci", 1, "completed", "success"),), None)


def run(state: GateState, *events: Event) -> GateState:
    for event in events:
        state = advance(state, event)
    return state


def ready_to_judge(state: GateState | None = None) -> GateState:
    return run(state or GateState(HEAD), CandidateBuilt(BASE, CAND, TREE), GREEN)


def approved(state: GateState | None = None) -> GateState:
    return run(ready_to_judge(state), Judged(HEAD, True, "all met"))


def test_the_happy_path_builds_waits_judges_asks_people_lands_and_finishes() -> None:
    state = GateState(HEAD)
    assert decide(state) == Build()
    state = advance(state, CandidateBuilt(BASE, CAND, TREE))
    assert decide(state) == AwaitChecks(CAND)
    state = advance(state, GREEN)
    assert decide(state) == Judge(CAND)
    state = advance(state, Judged(HEAD, True, "ok"))
    assert decide(state) == AskPeople()
    state = advance(state, PeopleSeen(People(HEAD)))
    assert decide(state) == Land(CAND, BASE)
    state = advance(state, Landed(CAND, TREE))
    assert decide(state) == Finish("landed")


def test_it_waits_until_every_required_check_has_finished() -> None:
    state = run(GateState(HEAD), CandidateBuilt(BASE, CAND, TREE))
    running = ChecksSeen((Check("ci", 1, "in_progress"),), None)
    assert decide(advance(state, running)) == AwaitChecks(CAND)
    assert decide(advance(state, ChecksSeen((), None))) == AwaitChecks(CAND)  # nothing ran yet
    lint_missing = ChecksSeen((Check("ci", 1, "completed", "success"),), ("ci", "lint"))
    assert decide(advance(state, lint_missing)) == AwaitChecks(CAND)
    other_failed = ChecksSeen(
        (Check("ci", 1, "completed", "success"), Check("docs", 2, "completed", "failure")),
        ("ci",),
    )  # a check nobody requires does not block
    assert decide(advance(state, other_failed)) == Judge(CAND)


def test_the_judge_s_own_check_is_never_waited_for() -> None:
    state = run(GateState(HEAD), CandidateBuilt(BASE, CAND, TREE))
    seen = ChecksSeen(
        (Check("ci", 1, "completed", "success"), Check("swarm/judge", 2, "in_progress")),
        ("ci", "swarm/judge"),
    )
    assert decide(advance(state, seen)) == Judge(CAND)


def test_a_failed_check_gets_one_rerun_and_a_pass_then_is_counted_a_flake() -> None:
    failed = Check("ci", 5, "completed", "failure", excerpt="FLAKY")
    state = run(GateState(HEAD), CandidateBuilt(BASE, CAND, TREE), ChecksSeen((failed,), None))
    assert decide(state) == Rerun(failed)
    state = advance(state, Rerequested("ci", 5))
    assert decide(advance(state, ChecksSeen((failed,), None))) == AwaitChecks(CAND)
    state = advance(state, ChecksSeen((Check("ci", 6, "completed", "success"),), None))
    assert state.flakes == (f"ci@{CAND}",)
    assert decide(state) == Judge(CAND)


def test_a_failure_that_fails_its_rerun_goes_back_with_the_log_and_without_the_judge() -> None:
    first = Check("ci", 5, "completed", "failure", url="http://ci/5", excerpt="E assert 1 == 2")
    again = Check("ci", 6, "completed", "failure", url="http://ci/6", excerpt="E assert 1 == 2")
    state = run(
        GateState(HEAD), CandidateBuilt(BASE, CAND, TREE), ChecksSeen((first,), None),
        Rerequested("ci", 5), ChecksSeen((again,), None),
    )  # fmt: skip
    action = decide(state)
    assert isinstance(action, HandBack) and action.kind == "ci"
    assert "assert 1 == 2" in action.details and "http://ci/6" in action.details
    assert state.flakes == ()


def test_a_commit_status_that_fails_cannot_be_rerun_and_goes_back_at_once() -> None:
    status = Check("legacy-ci", 0, "completed", "failure")
    state = run(GateState(HEAD), CandidateBuilt(BASE, CAND, TREE), ChecksSeen((status,), None))
    assert isinstance(decide(state), HandBack)


def test_past_the_bound_a_hand_back_is_a_block_with_the_reason() -> None:
    rules = GateRules(max_rounds=2)
    state = run(
        GateState(HEAD, rules=rules, rounds=2), CandidateBuilt(BASE, CAND, TREE), GREEN,
        Judged(HEAD, False, "criterion 1 not met"),
    )  # fmt: skip
    action = decide(state)
    assert isinstance(action, Block)
    assert "the judge asked for changes" in action.why and "2 rounds" in action.why


def test_the_judge_s_changes_go_back_with_its_evidence() -> None:
    state = run(ready_to_judge(), Judged(HEAD, False, "tests/test_x.py:3 fails"))
    action = decide(state)
    assert isinstance(action, HandBack) and action.kind == "judge"
    assert "tests/test_x.py:3" in action.details


def test_a_verdict_on_another_head_does_not_count() -> None:
    state = run(ready_to_judge(), Judged("o" * 40, True, "for an older head"))
    assert state.verdict is None
    assert decide(state) == Judge(CAND)


def test_people_hold_landing_hold_changes_requested_and_a_required_approval() -> None:
    assert isinstance(decide(run(approved(), PeopleSeen(People(HEAD, hold=True)))), AwaitPeople)
    changes = PeopleSeen(People(HEAD, changes_requested_by=("ann",)))
    waiting = decide(run(approved(), changes))
    assert isinstance(waiting, AwaitPeople) and "@ann" in waiting.why
    strict = GateState(HEAD, rules=GateRules(require_human_approval=True))
    assert isinstance(decide(run(approved(strict), PeopleSeen(People(HEAD)))), AwaitPeople)
    approving = PeopleSeen(People(HEAD, approved_by=("ann",)))
    assert decide(run(approved(strict), approving)) == Land(CAND, BASE)


def test_a_refused_landing_builds_a_new_candidate_and_gates_it_again() -> None:
    state = run(approved(), PeopleSeen(People(HEAD)), LandRefused("not a fast forward"))
    assert decide(state) == Build()
    assert state.checks is None and state.people is None  # the new candidate is gated afresh
    assert state.verdict is not None  # the verdict binds to the head, which has not moved
    new = "d" * 40
    state = advance(state, CandidateBuilt("e" * 40, new, TREE))
    assert decide(state) == AwaitChecks(new)


def test_a_base_that_keeps_moving_blocks_after_the_bound() -> None:
    state = GateState(HEAD, rules=GateRules(max_rebuilds=1))
    for _ in range(2):
        state = run(approved(state), PeopleSeen(People(HEAD)), LandRefused("moved"))
    assert isinstance(decide(state), Block)


def test_what_landed_must_be_what_was_tested() -> None:
    landed = run(approved(), PeopleSeen(People(HEAD)))
    assert decide(advance(landed, Landed(CAND, TREE))) == Finish("landed")
    other_sha = decide(advance(landed, Landed("x" * 40, TREE)))
    assert isinstance(other_sha, Finish) and other_sha.outcome == "mismatch"
    other_tree = decide(advance(landed, Landed(CAND, "y" * 40)))
    assert isinstance(other_tree, Finish) and other_tree.outcome == "mismatch"


def test_a_new_head_supersedes_the_gate_but_its_own_squash_push_does_not() -> None:
    moved = run(approved(), PeopleSeen(People("n" * 40)))
    assert decide(moved) == Finish("superseded", f"the head moved to {'n' * 12}")
    own = run(approved(GateState(HEAD, own_heads=(CAND,))), PeopleSeen(People(CAND)))
    assert decide(own) == Land(CAND, BASE)


def test_a_conflict_goes_back_to_the_agent_and_is_blocked_past_the_bound() -> None:
    state = advance(GateState(HEAD), Conflicted(BASE, ("README.md",)))
    action = decide(state)
    assert isinstance(action, HandBack) and action.kind == "conflict"
    assert "README.md" in action.why
    bounded = advance(GateState(HEAD, rules=GateRules(max_rounds=0)), Conflicted(BASE, ("a",)))
    assert isinstance(decide(bounded), Block)


def test_no_check_in_time_blocks_and_says_what_to_add_to_ci() -> None:
    state = run(GateState(HEAD), CandidateBuilt(BASE, CAND, TREE), ChecksTimedOut(30))
    action = decide(state)
    assert isinstance(action, Block) and "swarm/gate/**" in action.why


# Properties, for any stream of events.

shas = st.sampled_from([CAND, "d" * 40, "e" * 40])
checks = st.builds(
    Check,
    name=st.sampled_from(["ci", "lint"]),
    id=st.integers(0, 9),
    status=st.sampled_from(["completed", "in_progress"]),
    conclusion=st.sampled_from(["success", "failure", None]),
)
events = st.one_of(
    st.builds(CandidateBuilt, st.just(BASE), shas, st.sampled_from([TREE, "u" * 40])),
    st.builds(Conflicted, st.just(BASE), st.just(("a.py",))),
    st.builds(
        ChecksSeen,
        st.lists(checks, max_size=3).map(tuple),
        st.sampled_from([None, ("ci",), ("ci", "lint")]),
    ),
    st.builds(Rerequested, st.sampled_from(["ci", "lint"]), st.integers(0, 9)),
    st.builds(Judged, st.sampled_from([HEAD, "o" * 40]), st.booleans(), st.just("")),
    st.builds(
        lambda head, hold, changes: PeopleSeen(People(head, hold, changes)),
        st.sampled_from([HEAD, "n" * 40]),
        st.booleans(),
        st.sampled_from([(), ("ann",)]),
    ),
    st.builds(LandRefused, st.just("moved")),
    st.builds(Landed, shas, st.sampled_from([TREE, "u" * 40])),
)


@settings(max_examples=400, deadline=None)
@given(st.lists(events, max_size=14))
def test_nothing_lands_unless_its_candidate_passed_was_approved_and_is_unheld(
    stream: list[Event],
) -> None:
    state = GateState(HEAD)
    for event in stream:
        state = advance(state, event)
        action = decide(state)
        if isinstance(action, Land):
            assert action.candidate == state.candidate and action.candidate
            assert state.checks is not None
            assert all(c.passed for c in state.checks.checks if c.name in _counted(state))
            assert state.verdict is not None and state.verdict.approved
            assert state.verdict.head == HEAD
            assert state.people is not None and state.people.head == HEAD
            assert not state.people.hold and not state.people.changes_requested_by
        if isinstance(action, Finish) and action.outcome == "landed":
            assert state.landed is not None
            assert (state.landed.sha, state.landed.tree) == (state.candidate, state.tree)


def _counted(state: GateState) -> set[str]:
    assert state.checks is not None
    if state.checks.required is None:
        return {c.name for c in state.checks.checks}
    return set(state.checks.required)
