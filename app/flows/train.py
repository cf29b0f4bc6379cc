"""The merge train: one durable workflow per repository at a time, id `train:<repo>:<generation>`.

It executes what the train's policy (`app.domain.train`) decides — build speculative candidates
on one another, push them for CI, re-run a suspect one, land the deepest that passed by a
fast-forward, eject a culprit — and ends when no pull request is left in it; the next pull
request to join starts the next generation.

Who is in the train is the task rows' say (`train`: "in" once its gate put it there, "approved"
once the judge and people let it land; the gate judges while CI runs). Each look reads them
afresh, so a new head, a stopped task or a closed pull request leaves the train on its own, and a
lost message changes nothing but the timing: webhooks about a candidate's checks and a gate's
news only wake the train (a DBOS message on `TRAIN_TOPIC`); it polls too.
"""

from __future__ import annotations

import logging
from collections import deque
from typing import Any

from dbos import DBOS, SetWorkflowID

from app.context import bound
from app.domain import gate as gate_policy
from app.domain import train as policy
from app.flows import gate_steps, outcomes, steps
from app.flows import train_steps as do
from app.flows.gate_steps import Base
from app.flows.train_steps import Rider, TrainStart
from app.repo_config import RepoConfig
from app.runtime import current

log = logging.getLogger(__name__)

TRAIN_TOPIC = "train"
IN_TRAIN = ("in", "approved")


def train_workflow_id(repo: str, generation: int) -> str:
    return f"train:{repo}:{generation}"


async def join_train(start: TrainStart) -> str:
    """After a gate put a pull request in the train: wake the running train, or start the
    next one. Run from a workflow (its steps are recorded)."""
    workflow, generation = await do.record(start.repo)
    if workflow and await _alive(workflow):
        await DBOS.send_async(workflow, "joined", TRAIN_TOPIC)
        return workflow
    new = train_workflow_id(start.repo, generation + 1)
    if not await do.claim(start.repo, generation, new):
        new, _ = await do.record(start.repo)  # another gate started it a moment ago
    # Starting a workflow that exists already is joining it.
    with SetWorkflowID(new):
        await DBOS.start_workflow_async(train_workflow, start)
    return new


async def wake_train(repo: str) -> bool:
    """Something a train may wait for happened (a candidate's checks, a verdict)."""
    workflow, _ = await do.record(repo)
    if not workflow:
        return False
    await DBOS.send_async(workflow, "look", TRAIN_TOPIC)
    return True


async def _alive(workflow: str) -> bool:
    status = await DBOS.get_workflow_status_async(workflow)
    return status is not None and status.status in ("PENDING", "ENQUEUED")


@DBOS.workflow(name="train")
async def train_workflow(start: TrainStart) -> str:
    me = DBOS.workflow_id or train_workflow_id(start.repo, 0)
    with bound(train=me):
        try:
            return await _run_train(start, me)
        except Exception as exc:  # GitHub down past every retry, a bug: every rider says so
            log.exception("train %s failed", me)
            why = f"the merge train failed: {exc}. `/swarm retry` on the goal to gate it again"
            for rider in await do.riders(start.repo):
                if await do.place(start.repo, rider.task, rider.head, "", IN_TRAIN):
                    await outcomes.block(rider.gate_start(start), rider.goal_number, why)
            await do.end(start.repo, me)
            return f"failed: {exc}"


async def _run_train(start: TrainStart, me: str) -> str:
    config = await steps.load_config(start.installation_id, start.repo)
    if isinstance(config, str):
        for rider in await do.riders(start.repo):
            if await do.place(start.repo, rider.task, rider.head, "", IN_TRAIN):
                await outcomes.block(rider.gate_start(start), rider.goal_number, config)
        await do.end(start.repo, me)
        return f"blocked: {config}"
    base = await gate_steps.base_of(do.as_gate(start))
    settings = config.gate.train
    rules = policy.TrainRules(
        initial_window=settings.window, ci_budget=settings.ci_budget, batch=settings.batch
    )
    train = Train(
        start, me, base, config, policy.TrainState(await do.tip(start, base.branch), rules)
    )
    while True:
        await train.look()
        if not train.state.cars and await do.end(start.repo, me):
            return f"ended after {train.state.landings} landing(s)"
        await DBOS.recv_async(TRAIN_TOPIC, timeout_seconds=current().settings.gate_poll_seconds)


class Train:
    """One train's run: its policy state, and what executing each action needs."""

    def __init__(
        self, start: TrainStart, me: str, base: Base, config: RepoConfig, state: policy.TrainState
    ) -> None:
        self.start, self.me, self.base, self.config, self.state = start, me, base, config, state
        self.riders: dict[int, Rider] = {}
        self.reran: dict[str, dict[str, int]] = {}  # candidate → check → its failed run
        self.saved: dict[str, Any] = {}
        self.pushed: dict[str, float] = {}  # candidate → when CI was asked to run on it

    async def look(self) -> None:
        """Read who is in the train and what CI says, and act on it."""
        repo = self.start.repo
        self.riders = {r.pr: r for r in await do.riders(repo)}
        # What changed, read before any of it is folded in (a landing takes riders out).
        news: list[policy.Event] = []
        for car in self.state.cars:
            rider = self.riders.get(car.pr)
            if rider is None or rider.head != car.head:
                news.append(policy.Withdrawn(car.pr, "left the train"))
            elif rider.approved and not car.approved:
                news.append(policy.Judged(car.pr, True))
        aboard = {car.pr for car in self.state.cars}
        for rider in self.riders.values():
            if rider.pr not in aboard or rider.head != self._head(rider.pr):
                files = frozenset(await do.files(self.start, self.base, rider.head))
                car = policy.Car(rider.pr, rider.head, files, approved=rider.approved)
                news.append(policy.Ready(car))
        for event in news:
            await self.fold(event)
        state = self.state
        testing = [c.sha for c in state.candidates if c.state == "testing"]
        shas = list(dict.fromkeys((*testing, *(c.sha for c in state.suspects), *state.abandoned)))
        if shas:
            required = self.config.gate.required_checks
            for finished in await do.ci(self.start, self.base.branch, shas, self.reran, required):
                await self.fold(finished)
            await self.stalled()
        summary = train_summary(self.state)
        if summary != self.saved:
            await do.save(repo, self.me, summary)
            self.saved = summary

    async def stalled(self) -> None:
        """A candidate with no required check finished `gate.check_timeout_minutes` after it
        was pushed or re-run: CI does not run there (most often: not on `swarm/gate/**`). Its
        pull request is blocked, saying so; no worker can fix that."""
        minutes = self.config.gate.check_timeout_minutes
        now = await gate_steps.now()
        waiting = [c for c in self.state.candidates if c.state == "testing"]
        for candidate in [*waiting, *self.state.suspects]:
            since = self.pushed.get(candidate.sha)
            if since is None or now - since < minutes * 60:
                continue
            rider = self.riders[candidate.pr]
            if await do.place(self.start.repo, rider.task, rider.head, "", IN_TRAIN):
                why = (
                    f"no required check finished on the train's candidate {candidate.sha[:12]} "
                    f"within {minutes:g} minutes: does your CI run on pushes to `swarm/gate/**`?"
                )
                await outcomes.block(rider.gate_start(self.start), rider.goal_number, why)

    async def _pushed(self, sha: str) -> None:
        self.pushed[sha] = await gate_steps.now()

    def _head(self, pr: int) -> str:
        return next((car.head for car in self.state.cars if car.pr == pr), "")

    async def fold(self, event: policy.Event) -> None:
        """Fold `event` in, and do what the policy says, folding in what that finds."""
        events: deque[policy.Event] = deque([event])
        while events:
            event = events.popleft()
            before = self.state
            step = policy.step(before, event)
            self.state = step.state
            if isinstance(event, policy.CiFinished):
                tested = next((c for c in before.candidates if c.sha == event.sha), None)
                if tested is not None:
                    verdict = "success" if event.passed else "failure"
                    await do.ci_result(self.start.repo, self.riders[tested.pr].task, verdict)
                if step.state.flakes > before.flakes:  # a suspect's re-run passed
                    cleared = next(c for c in before.suspects if c.sha == event.sha)
                    await do.count(self.start.repo, self.riders[cleared.pr].task, "flakes")
            for action in step.actions:
                log.info("train %s: %s", self.me, action)
                events.extend(await self.act(action))

    async def act(self, action: policy.Action) -> list[policy.Event]:
        start, base = self.start, self.base
        match action:
            case policy.Build(pr, _, parent, test):
                built = await do.build(start, base, self.riders[pr], parent, test)
                if test and isinstance(built, policy.Built):
                    await self._pushed(built.sha)
                return [built]
            case policy.Push(sha):
                found = next(c for c in self.state.candidates if c.sha == sha)
                await do.push(start, base, self.riders[found.pr], sha)
                await self._pushed(sha)
            case policy.Rerun(sha):
                required = self.config.gate.required_checks
                self.reran[sha] = await do.rerun(start, base.branch, sha, required)
                await self._pushed(sha)
                suspect = next(c for c in self.state.suspects if c.sha == sha)
                await do.count(start.repo, self.riders[suspect.pr].task, "ci_runs")
            case policy.Land(sha, before, prs):
                return await self.land(sha, before, prs)
            case policy.Eject(pr, kind, why, details):
                await self.eject(self.riders[pr], kind, why, details)
        return []

    async def land(self, sha: str, before: str, prs: tuple[int, ...]) -> list[policy.Event]:
        landing = await do.land(self.start, self.base, sha, prs)
        if landing.outcome == "refused":
            log.info("train %s: landing refused (%s)", self.me, landing.why)
            return [policy.LandRefused(landing.sha)]
        for pr in prs:
            rider = self.riders[pr]
            await do.place(self.start.repo, rider.task, rider.head, "", IN_TRAIN)
            if landing.outcome == "mismatch":
                await outcomes.mismatch(
                    rider.gate_start(self.start), rider.goal_number, landing.why
                )
            else:
                await outcomes.landed(
                    rider.gate_start(self.start), rider.goal_number, self.base, before, sha, sha
                )  # fmt: skip
        if landing.outcome == "mismatch":
            return [policy.LandRefused(landing.sha)]
        return [policy.Landed(sha)]

    async def eject(self, rider: Rider, kind: policy.EjectKind, why: str, details: str) -> None:
        """Back to its worker (or blocked, past its rounds), unless it left meanwhile."""
        start = rider.gate_start(self.start)
        if not await do.place(self.start.repo, rider.task, rider.head, "", IN_TRAIN):
            return
        rules = gate_steps.configured_rules(self.config)
        decided = gate_policy.hand_back_within(rider.rounds, rules, kind, why, details)
        if isinstance(decided, gate_policy.Block):
            await outcomes.block(start, rider.goal_number, decided.why)
            return
        await outcomes.hand_back(
            start, rider.goal_number, self.config, kind, why, details, rider.rounds,
            merge_base=self.state.base,
        )  # fmt: skip


def train_summary(state: policy.TrainState) -> dict[str, Any]:
    """What the status comment shows of the train."""
    cars = []
    for position, car in enumerate(state.cars, start=1):
        candidate = state.candidate(car.pr)
        where: str = candidate.state if candidate else "waiting"
        if car.suspect:
            where = "re-running"
        elif car.parked_behind:
            where = f"behind #{car.parked_behind}"
        cars.append(
            {"pr": car.pr, "position": position, "state": where, "approved": car.approved,
             "candidate": candidate.sha if candidate else ""}
        )  # fmt: skip
    return {
        "window": state.size,
        "cars": cars,
        "landed": len(state.landed),
        "landings": state.landings,
        "ci_runs": state.ci_runs,
        "flakes": state.flakes,
        "ejected": [list(e) for e in state.ejected],
    }
