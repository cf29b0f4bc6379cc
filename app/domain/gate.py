"""The merge gate's policy: what to do next for one pull request head, from what is known of it.

Pure: no I/O and no clock. A gate is a state and a stream of events (what a step found: a
candidate built, checks seen, a verdict, people's reviews, a landing refused); `decide` names
the one action to take now and `advance` folds an event in. The gate workflow only executes the
actions; a test or a discrete-event benchmark drives the same code at full speed.

The rules, in order: a pull request whose head moved is no longer this gate's; no candidate, build
one (the base with the pull request merged in); a conflict goes back to the agent; wait for the
required checks on the candidate's exact sha; a failed check gets exactly one re-run on the same
commit (a pass then is a flake, counted apart); a real failure goes back to the agent without
asking the judge; then the judge, whose verdict binds to the head; then people (`swarm:hold`, a
review requesting changes, a required human approval); then land by compare-and-swap — a base
that moved meanwhile means a new candidate, never an untested landing. Every hand-back counts
one round of the task's; past the bound the task is blocked.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Literal

JUDGE_CHECK = "swarm/judge"  # the judge's own check run: never a check the gate waits for
PASSING = frozenset({"success", "neutral", "skipped"})

HandBackKind = Literal["ci", "judge", "conflict"]


@dataclass(frozen=True)
class GateRules:
    max_rounds: int = 3  # hand-backs per task (red CI, judge, conflict), then blocked
    max_rebuilds: int = 5  # candidates rebuilt because the base moved, then blocked
    require_human_approval: bool = False


@dataclass(frozen=True)
class Check:
    """One check's latest run (or commit status) on the candidate."""

    name: str
    id: int = 0  # the check run's id (0 for a commit status: it cannot be re-run)
    status: str = "completed"  # queued | in_progress | completed
    conclusion: str | None = None
    url: str = ""
    excerpt: str = ""  # the end of its output, for the agent

    @property
    def done(self) -> bool:
        return self.status == "completed"

    @property
    def passed(self) -> bool:
        return self.done and (self.conclusion or "") in PASSING


@dataclass(frozen=True)
class People:
    """What people say about the pull request at its head, read from GitHub."""

    head: str  # the pull request's head now
    hold: bool = False  # labelled `swarm:hold`
    changes_requested_by: tuple[str, ...] = ()
    approved_by: tuple[str, ...] = ()  # people with write access whose latest review approves
    closed: bool = False  # closed without landing, by a person


# --- events: what a step found -------------------------------------------------------------


@dataclass(frozen=True)
class CandidateBuilt:
    base: str  # the base branch's tip it was built on
    sha: str
    tree: str


@dataclass(frozen=True)
class Conflicted:
    base: str
    files: tuple[str, ...]


@dataclass(frozen=True)
class ChecksSeen:
    checks: tuple[Check, ...]
    required: tuple[str, ...] | None  # None: every check that ran is required


@dataclass(frozen=True)
class ChecksTimedOut:
    minutes: float


@dataclass(frozen=True)
class Rerequested:
    name: str
    failed_id: int  # the run that failed; its re-run has a later id


@dataclass(frozen=True)
class Judged:
    head: str
    approved: bool
    summary: str  # per-criterion evidence, for the worker when it is not approved
    candidate: str = ""  # the commit it judged (the head on the base of that moment)


@dataclass(frozen=True)
class PeopleSeen:
    people: People


@dataclass(frozen=True)
class LandRefused:
    why: str  # the base moved: not a fast-forward any more


@dataclass(frozen=True)
class Landed:
    sha: str  # where the base branch is now
    tree: str  # its tree


Event = (
    CandidateBuilt | Conflicted | ChecksSeen | ChecksTimedOut | Rerequested | Judged
    | PeopleSeen | LandRefused | Landed
)  # fmt: skip


# --- actions: what to do now ---------------------------------------------------------------


@dataclass(frozen=True)
class Build:
    """Build the candidate: the base's tip with the pull request merged in."""


@dataclass(frozen=True)
class AwaitChecks:
    candidate: str


@dataclass(frozen=True)
class Rerun:
    check: Check


@dataclass(frozen=True)
class Judge:
    candidate: str


@dataclass(frozen=True)
class AskPeople:
    """Read the pull request's head, labels and reviews."""


@dataclass(frozen=True)
class AwaitPeople:
    why: str  # what landing waits for


@dataclass(frozen=True)
class Land:
    candidate: str
    base: str  # the ref update is a fast-forward from here, or it is refused


@dataclass(frozen=True)
class HandBack:
    kind: HandBackKind
    why: str  # one line for people
    details: str  # what the agent needs: the failing output, the verdict, the conflicted files


@dataclass(frozen=True)
class Block:
    why: str


@dataclass(frozen=True)
class Finish:
    outcome: Literal["landed", "superseded", "mismatch"]
    why: str = ""


Action = (
    AwaitChecks | AwaitPeople | AskPeople | Block | Build | Finish | HandBack | Judge | Land | Rerun
)  # fmt: skip


@dataclass(frozen=True)
class GateState:
    head: str  # the pull request head this gate is for
    rules: GateRules = GateRules()
    rounds: int = 0  # hand-backs the task has had already
    verdict: Judged | None = None  # bound to `head`: a new head needs a new verdict
    base: str = ""  # the candidate's base
    candidate: str = ""
    tree: str = ""  # the candidate's tree: what the landed commit must have
    conflict: Conflicted | None = None
    checks: ChecksSeen | None = None
    timed_out: float = 0.0
    reran: dict[str, int] = field(default_factory=dict)  # check → the failed run re-run
    flakes: tuple[str, ...] = ()  # "check@candidate" that failed, then passed its re-run
    people: People | None = None  # read after the candidate's checks and verdict
    rebuilds: int = 0
    landed: Landed | None = None
    own_heads: tuple[str, ...] = ()  # heads this gate pushed itself (a squash candidate)


def advance(state: GateState, event: Event) -> GateState:
    """The state after `event`."""
    match event:
        case CandidateBuilt():
            return replace(
                state, base=event.base, candidate=event.sha, tree=event.tree, conflict=None,
                checks=None, reran={}, people=None,
            )  # fmt: skip
        case Conflicted():
            return replace(state, base=event.base, candidate="", conflict=event)
        case ChecksSeen():
            flakes = state.flakes + tuple(
                f"{name}@{state.candidate}" for name, failed in state.reran.items()
                if f"{name}@{state.candidate}" not in state.flakes
                and _rerun_passed(event, name, failed)
            )  # fmt: skip
            return replace(state, checks=event, flakes=flakes)
        case ChecksTimedOut():
            return replace(state, timed_out=event.minutes)
        case Rerequested():
            return replace(state, reran={**state.reran, event.name: event.failed_id})
        case Judged():
            return replace(state, verdict=event if event.head == state.head else state.verdict)
        case PeopleSeen():
            return replace(state, people=event.people)
        case LandRefused():
            return replace(
                state, candidate="", tree="", checks=None, reran={}, people=None,
                rebuilds=state.rebuilds + 1,
            )  # fmt: skip
        case Landed():
            return replace(state, landed=event)
    raise TypeError(f"not a gate event: {event!r}")


def _rerun_passed(seen: ChecksSeen, name: str, failed_id: int) -> bool:
    latest = next((c for c in seen.checks if c.name == name), None)
    return latest is not None and latest.id > failed_id and latest.passed


def required_checks(seen: ChecksSeen) -> tuple[list[Check], list[str]]:
    """The checks that count, and the required names not reported yet."""
    runs = {c.name: c for c in seen.checks if c.name != JUDGE_CHECK}
    if seen.required is None:
        return list(runs.values()), []
    names = [n for n in seen.required if n != JUDGE_CHECK]
    return [runs[n] for n in names if n in runs], [n for n in names if n not in runs]


def decide(state: GateState) -> Action:
    """The one thing to do next."""
    if state.landed is not None:
        if state.landed.sha != state.candidate or state.landed.tree != state.tree:
            why = (
                f"the base is at {state.landed.sha[:12]} (tree {state.landed.tree[:12]}) after "
                f"landing {state.candidate[:12]} (tree {state.tree[:12]})"
            )
            return Finish("mismatch", why)
        return Finish("landed")
    people = state.people
    if people is not None and people.head not in (state.head, *state.own_heads):
        return Finish("superseded", f"the head moved to {people.head[:12]}")
    if people is not None and people.closed:
        return Block("the pull request was closed without landing")
    if state.rebuilds > state.rules.max_rebuilds:
        return Block(f"the base moved under {state.rebuilds} candidates in a row")
    if state.conflict is not None:
        files = ", ".join(state.conflict.files) or "(unknown files)"
        return _hand_back(
            state,
            "conflict",
            f"conflicts with the base in {files}",
            "\n".join(state.conflict.files),
        )
    if not state.candidate:
        return Build()
    if state.timed_out:
        return Block(
            f"no required check finished on candidate {state.candidate[:12]} within "
            f"{state.timed_out:g} minutes: does your CI run on pushes to `swarm/gate/**`?"
        )
    seen = state.checks
    if seen is None:
        return AwaitChecks(state.candidate)
    counted, missing = required_checks(seen)
    if missing or not counted or not all(c.done for c in counted):
        return AwaitChecks(state.candidate)
    failed = [c for c in counted if not c.passed]
    for check in failed:
        if check.id and check.name not in state.reran:
            return Rerun(check)  # once, on the same commit: a pass now is a flake
        if check.id and check.id <= state.reran.get(check.name, 0):
            return AwaitChecks(state.candidate)  # its re-run has not shown up yet
    if failed:
        names = ", ".join(f"`{c.name}` ({c.conclusion})" for c in failed)
        details = "\n\n".join(check_details(c) for c in failed)
        return _hand_back(state, "ci", f"{names} failed on {state.candidate[:12]}", details)
    if state.verdict is None:
        return Judge(state.candidate)
    if not state.verdict.approved:
        return _hand_back(state, "judge", "the judge asked for changes", state.verdict.summary)
    if people is None:
        return AskPeople()
    waiting = waiting_for(people, state.rules.require_human_approval)
    if waiting:
        return AwaitPeople(waiting)
    return Land(state.candidate, state.base)


def waiting_for(people: People, require_approval: bool) -> str:
    """What people still hold a pull request back with ("" when nothing)."""
    if people.hold:
        return "the `swarm:hold` label"
    if people.changes_requested_by:
        return "changes requested by " + ", ".join(f"@{p}" for p in people.changes_requested_by)
    if require_approval and not people.approved_by:
        return "a maintainer's approval"
    return ""


def _hand_back(state: GateState, kind: HandBackKind, why: str, details: str) -> Action:
    return hand_back_within(state.rounds, state.rules, kind, why, details)


def hand_back_within(
    rounds: int, rules: GateRules, kind: HandBackKind, why: str, details: str
) -> HandBack | Block:
    """Back to the worker, unless the task had its rounds already: then blocked."""
    if rounds >= rules.max_rounds:
        return Block(f"{why}, after {rounds} rounds (the bound is {rules.max_rounds})")
    return HandBack(kind, why, details)


def check_details(check: Check) -> str:
    link = f" ({check.url})" if check.url else ""
    return f"Check `{check.name}`: {check.conclusion}{link}\n{check.excerpt}".rstrip()
