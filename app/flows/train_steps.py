"""The merge train's steps: each does one thing on GitHub, git or the store and returns what it
found, as an event of the train's policy (`app.domain.train`). DBOS records each result, so a
train replayed after a crash takes the same decisions and repeats no write it finished.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from dbos import DBOS

from app.domain import gate as gate_policy
from app.domain import train as policy
from app.domain.refs import RepoRef
from app.domain.states import TaskState
from app.flows.gate_steps import Base, GateStart, bot_identity, fetched_mirror
from app.flows.steps import github_step
from app.github import gate as gh_gate
from app.github import ops
from app.runtime import current
from app.workspace.candidate import (
    Candidate,
    PullRequestHead,
    footprint,
    gate_branch,
    merge_onto,
    push_candidate,
)
from app.workspace.git import git


@dataclass(frozen=True)
class TrainStart:
    installation_id: int
    repo: str


@dataclass(frozen=True)
class Rider:
    """A pull request in the train, as its task's row says now."""

    task: int
    goal_number: int
    pr: int
    head: str
    title: str
    branch: str
    approved: bool  # judged and cleared by people: it may land
    rounds: int

    def gate_start(self, start: TrainStart) -> GateStart:
        return GateStart(
            start.installation_id, start.repo, self.task, self.pr, self.head, self.title,
            self.branch,
        )  # fmt: skip


@dataclass(frozen=True)
class TrainLanding:
    outcome: Literal["landed", "refused", "mismatch"]
    sha: str  # where the base is now
    why: str = ""  # the base moved; or what did not match


def _gh(start: TrainStart):  # type: ignore[no-untyped-def]
    return current().github.installation(start.installation_id)


def as_gate(start: TrainStart) -> GateStart:
    return GateStart(start.installation_id, start.repo, 0, 0, "")


@DBOS.step(name="train.record")
async def record(repo: str) -> tuple[str, int]:
    workflow, generation, _ = await current().store.train(repo)
    return workflow, generation


@DBOS.step(name="train.claim")
async def claim(repo: str, generation: int, workflow: str) -> bool:
    return await current().store.claim_train(repo, generation, workflow)


@DBOS.step(name="train.end")
async def end(repo: str, workflow: str) -> bool:
    return await current().store.end_train(repo, workflow)


@DBOS.step(name="train.save")
async def save(repo: str, workflow: str, summary: dict[str, Any]) -> None:
    await current().store.save_train(repo, workflow, summary)


@DBOS.step(name="train.place")
async def place(repo: str, task: int, head: str, value: str, was: tuple[str, ...]) -> bool:
    """Move the task's pull request in or out of the train while its head is `head`."""
    return await current().store.set_train(repo, task, head, value, was)


@DBOS.step(name="train.riders")
async def riders(repo: str) -> list[Rider]:
    """The pull requests in the train now; a task that left its open pull request without the
    train knowing (stopped, closed) is taken out."""
    store = current().store
    found = []
    for task in await store.tasks_in_train(repo):
        if task.state != TaskState.PR_OPEN or task.pr_number is None:
            await store.set_train(repo, task.number, task.head_sha, "")
            continue
        found.append(
            Rider(
                task.number,
                task.goal_number,
                task.pr_number,
                task.head_sha,
                task.title,
                task.branch,
                task.train == "approved",
                task.rounds,
            )
        )
    return found


@DBOS.step(name="train.tip", retries_allowed=True, max_attempts=3)
async def tip(start: TrainStart, branch: str) -> str:
    return await gh_gate.tip(_gh(start), RepoRef.parse(start.repo), branch)


@DBOS.step(name="train.files", retries_allowed=True, max_attempts=3)
async def files(start: TrainStart, base: Base, head: str) -> list[str]:
    """The files a pull request changed: its footprint, for lanes."""
    mirror, _ = await fetched_mirror(as_gate(start), base)
    return await footprint(mirror, f"refs/remotes/origin/{base.branch}", head)


@DBOS.step(name="train.build", retries_allowed=True, max_attempts=3)
async def build(
    start: TrainStart, base: Base, rider: Rider, parent: str, test: bool
) -> policy.Built | policy.BuildConflict:
    """The rider's pull request merged into `parent`; pushed to its gate branch when `test`
    (CI runs there), else kept on the mirror until it is."""
    mirror, token = await fetched_mirror(as_gate(start), base)
    pr = PullRequestHead(rider.pr, rider.title, rider.head, rider.branch)
    made = await merge_onto(mirror, parent, pr, "merge", await bot_identity())
    if not isinstance(made, Candidate):
        return policy.BuildConflict(rider.pr, rider.head, parent, made.files)
    if test:
        await _push(start, base, rider, made.sha, mirror, token)
    return policy.Built(rider.pr, rider.head, parent, made.sha)


@DBOS.step(name="train.push", retries_allowed=True, max_attempts=3)
async def push(start: TrainStart, base: Base, rider: Rider, sha: str) -> None:
    mirror, token = await fetched_mirror(as_gate(start), base)
    await _push(start, base, rider, sha, mirror, token)


async def _push(
    start: TrainStart, base: Base, rider: Rider, sha: str, mirror: Any, token: str
) -> None:
    await push_candidate(mirror, base.clone_url, token, sha, gate_branch(rider.pr))
    store = current().store
    # Webhooks about this commit's checks find the task (and so wake the train) by it.
    await store.change_task(start.repo, rider.task, candidate_sha=sha, ci="")
    await store.count_task(start.repo, rider.task, "ci_runs")


@DBOS.step(name="train.ci", retries_allowed=True, max_attempts=3)
async def ci(
    start: TrainStart, branch: str, shas: list[str], reran: dict[str, dict[str, int]],
    configured: list[str] | None,
) -> list[policy.CiFinished]:  # fmt: skip
    """The candidates among `shas` whose required checks all finished, passed or not. A check
    re-run on a candidate counts from its new run only."""
    gh, ref = _gh(start), RepoRef.parse(start.repo)
    required = await gh_gate.required_check_names(gh, ref, branch, configured)
    finished = []
    for sha in shas:
        counted, missing = await _counted(gh, ref, sha, required)
        if missing or not counted or not all(c.done for c in counted):
            continue
        again = reran.get(sha, {})
        if any(c.id and c.id <= again.get(c.name, 0) for c in counted):
            continue  # a re-run has not shown up yet
        failed = [c for c in counted if not c.passed]
        log = "\n\n".join(gate_policy.check_details(c) for c in failed)
        finished.append(policy.CiFinished(sha, not failed, log))
    return finished


@github_step("train.rerun")
async def rerun(
    start: TrainStart, branch: str, sha: str, configured: list[str] | None
) -> dict[str, int]:
    """Re-run the failed checks on a candidate (once: a pass then is a flake); returns each
    re-run check's failed run, whose successor is the one that counts."""
    gh, ref = _gh(start), RepoRef.parse(start.repo)
    required = await gh_gate.required_check_names(gh, ref, branch, configured)
    counted, _ = await _counted(gh, ref, sha, required)
    reran = {}
    for check in counted:
        if check.id and not check.passed:
            await gh_gate.rerun_check(gh, ref, check.id)
            reran[check.name] = check.id
    return reran


async def _counted(
    gh: Any, ref: RepoRef, sha: str, required: tuple[str, ...] | None
) -> tuple[list[gate_policy.Check], list[str]]:
    """The checks on `sha` that count, and the required ones not reported yet."""
    seen = gate_policy.ChecksSeen(await gh_gate.checks_on(gh, ref, sha), required)
    return gate_policy.required_checks(seen)


@DBOS.step(name="train.ci_result")
async def ci_result(repo: str, task: int, verdict: str) -> None:
    await current().store.change_task(repo, task, ci=verdict)


@DBOS.step(name="train.count")
async def count(repo: str, task: int, field: str) -> None:
    await current().store.count_task(repo, task, field)


@DBOS.step(name="train.land", retries_allowed=True, max_attempts=3)
async def land(start: TrainStart, base: Base, sha: str, prs: tuple[int, ...]) -> TrainLanding:
    """Fast-forward the base to the candidate `sha`, or learn that the base moved; landed, the
    base must be at that very commit with the tree built here.

    The judge's verdicts are on each pull request's head: the candidate carries them as its
    `swarm/judge` check run first, for a branch protection that requires it."""
    runtime = current()
    gh, ref = _gh(start), RepoRef.parse(start.repo)
    slug = (await runtime.github.identity()).slug
    listed = ", ".join(f"#{p}" for p in prs)
    await ops.set_check_run(
        gh, ref, sha, gate_policy.JUDGE_CHECK, "success", "Approved (the merge train's verdicts)",
        f"The judge approved {listed}, each on its own head; this candidate merges them.", "",
        app_slug=slug,
    )  # fmt: skip
    landing = await gh_gate.land(gh, ref, base.branch, sha)
    if not landing.landed:
        return TrainLanding("refused", await gh_gate.tip(gh, ref, base.branch), landing.why)
    mirror, _ = await fetched_mirror(as_gate(start), base)
    built = await git("--git-dir", str(mirror.path), "rev-parse", f"{sha}^{{tree}}")
    if landing.sha != sha or landing.tree != built:
        why = (
            f"the base is at {landing.sha[:12]} (tree {landing.tree[:12]}) after landing "
            f"{sha[:12]} (tree {built[:12]})"
        )
        return TrainLanding("mismatch", landing.sha, why)
    return TrainLanding("landed", sha)
