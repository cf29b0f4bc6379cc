"""The merge gate's steps: each does one thing on GitHub or git and returns what it found, as an
event of the gate's policy (`app.domain.gate`). DBOS records each result, so a gate replayed
after a crash takes the same decisions and repeats no write it finished.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from dbos import DBOS

from app.domain import gate as policy
from app.domain.addresses import task_inbox
from app.domain.refs import RepoRef
from app.domain.states import GoalState, TaskState
from app.flows.render import landing_notice
from app.flows.steps import github_step
from app.github import gate as gh_gate
from app.github import ops
from app.repo_config import RepoConfig
from app.runtime import current
from app.store import Task
from app.workspace.candidate import (
    Candidate,
    PullRequestHead,
    branch_edits,
    build_candidate,
    changed_files,
    gate_branch,
    push_candidate,
)
from app.workspace.git import auth_env, git
from app.workspace.worktree import Identity, Mirror


@dataclass(frozen=True)
class GateStart:
    """Which pull request head a gate is for."""

    installation_id: int
    repo: str
    task: int  # the task's sub-issue
    pr: int
    head: str
    title: str = ""
    head_ref: str = ""  # the pull request's branch
    in_turn: bool = False  # a gate that lost a landing race, taking its turn to land
    own_heads: tuple[str, ...] = ()  # heads the gate put on the branch itself (squash)


@dataclass(frozen=True)
class Base:
    branch: str
    clone_url: str


@github_step("github.gate_base")
async def base_of(start: GateStart) -> Base:
    info = await ops.repo_info(_gh(start), RepoRef.parse(start.repo))
    return Base(info.default_branch, info.clone_url)


def _gh(start: GateStart):  # type: ignore[no-untyped-def]
    return current().github.installation(start.installation_id)


async def fetched_mirror(start: GateStart, base: Base) -> tuple[Mirror, str]:
    runtime = current()
    ref = RepoRef.parse(start.repo)
    token = await runtime.github.repository_token(start.installation_id, ref.name)
    mirror = Mirror(runtime.data_dir, start.repo)
    await mirror.fetch(base.clone_url, token)
    return mirror, token


async def bot_identity() -> Identity:
    runtime = current()
    identity = await runtime.github.identity()
    return Identity.bot(identity.slug, runtime.settings.github_app_id)


@DBOS.step(name="gate.build_candidate", retries_allowed=True, max_attempts=3)
async def build(
    start: GateStart, base: Base, method: str
) -> policy.CandidateBuilt | policy.Conflicted:
    """The candidate on the base's tip now, pushed to the gate's branch (CI runs there)."""
    mirror, token = await fetched_mirror(start, base)
    pr = PullRequestHead(start.pr, start.title, start.head, start.head_ref)
    made = await build_candidate(mirror, base.branch, pr, method, await bot_identity())  # type: ignore[arg-type]
    if not isinstance(made, Candidate):
        return policy.Conflicted(made.base, made.files)
    await push_candidate(mirror, base.clone_url, token, made.sha, gate_branch(start.pr))
    store = current().store
    await store.change_task(start.repo, start.task, candidate_sha=made.sha, note="")
    await store.count_task(start.repo, start.task, "ci_runs")
    return policy.CandidateBuilt(made.base, made.sha, made.tree)


@DBOS.step(name="gate.judge_candidate", retries_allowed=True, max_attempts=3)
async def judge_candidate(start: GateStart, base: Base) -> tuple[str, str]:
    """For a pull request in the merge train, whose candidates are the train's: the commit the
    judge reads (its head merged into the base's tip, here only) and the commit it is compared
    with. On a conflict, the head against where it left the base (the train hands it back)."""
    mirror, _ = await fetched_mirror(start, base)
    pr = PullRequestHead(start.pr, start.title, start.head, start.head_ref)
    made = await build_candidate(mirror, base.branch, pr, "merge", await bot_identity())
    if isinstance(made, Candidate):
        return made.sha, made.base
    tip = f"refs/remotes/origin/{base.branch}"
    return start.head, await git("--git-dir", str(mirror.path), "merge-base", tip, start.head)


@DBOS.step(name="gate.checks", retries_allowed=True, max_attempts=3)
async def checks(
    start: GateStart, candidate: str, base: Base, configured: list[str] | None
) -> policy.ChecksSeen:
    gh, ref = _gh(start), RepoRef.parse(start.repo)
    required = await gh_gate.required_check_names(gh, ref, base.branch, configured)
    seen = await gh_gate.checks_on(gh, ref, candidate)
    counted, _ = policy.required_checks(policy.ChecksSeen(seen, required))
    if counted and all(c.done for c in counted):
        verdict = "success" if all(c.passed for c in counted) else "failure"
        await current().store.change_task(start.repo, start.task, ci=verdict)
    return policy.ChecksSeen(seen, required)


@github_step("gate.rerun")
async def rerun(start: GateStart, check: policy.Check) -> policy.Rerequested:
    await gh_gate.rerun_check(_gh(start), RepoRef.parse(start.repo), check.id)
    await current().store.count_task(start.repo, start.task, "ci_runs")
    return policy.Rerequested(check.name, check.id)


@DBOS.step(name="gate.people", retries_allowed=True, max_attempts=3)
async def people(start: GateStart, goal_number: int) -> policy.PeopleSeen:
    """What people said, and the pull request's head; a paused goal holds every landing."""
    bot = (await current().github.identity()).bot_login
    seen = await gh_gate.people_on(_gh(start), RepoRef.parse(start.repo), start.pr, bot)
    goal = await current().store.goal(start.repo, goal_number)
    if goal is not None and goal.state == GoalState.PAUSED:
        seen = replace(seen, hold=True)
    return policy.PeopleSeen(seen)


@DBOS.step(name="gate.land", retries_allowed=True, max_attempts=3)
async def land(
    start: GateStart, base: Base, candidate: str, method: str, pr_head: str
) -> policy.Landed | policy.LandRefused:
    """Fast-forward the base to the candidate, or learn that the base moved.

    A squashed candidate does not contain the pull request's commits, so GitHub would not see
    the pull request as merged: its branch is first moved to the candidate, with a lease on the
    head the gate read, and the landing then makes it reachable from the base."""
    gh, ref = _gh(start), RepoRef.parse(start.repo)
    if method != "merge" and pr_head != candidate:
        mirror, token = await fetched_mirror(start, base)
        await git(
            "--git-dir", str(mirror.path), "push", "--quiet", "--no-recurse-submodules",
            f"--force-with-lease=refs/heads/{start.head_ref}:{pr_head}", base.clone_url,
            f"{candidate}:refs/heads/{start.head_ref}", env=auth_env(token),
        )  # fmt: skip
    landing = await gh_gate.land(gh, ref, base.branch, candidate)
    if not landing.landed:
        return policy.LandRefused(landing.why)
    return policy.Landed(landing.sha, landing.tree)


@github_step("gate.carry_verdict")
async def carry_verdict(start: GateStart, candidate: str, judged: str) -> None:
    """The judge's approval of this head, on a candidate rebuilt on a newer base (whose own
    checks passed): the `swarm/judge` check run there says which commit was judged."""
    runtime = current()
    slug = (await runtime.github.identity()).slug
    judged_on = f"`{judged[:12]}`" if judged else "an earlier candidate"
    summary = (
        f"The judge approved head `{start.head[:12]}` on {judged_on}. This candidate is the "
        "same head on a newer base; its own checks passed."
    )
    await ops.set_check_run(
        _gh(start), RepoRef.parse(start.repo), candidate, "swarm/judge", "success",
        "Approved (verdict on the same head)", summary, "", app_slug=slug,
    )  # fmt: skip


@github_step("gate.after_landing")
async def after_landing(start: GateStart) -> None:
    """The sub-issue closed (once), the gate's branch removed."""
    gh, ref = _gh(start), RepoRef.parse(start.repo)
    await gh_gate.close_issue(gh, ref, start.task)
    await gh_gate.delete_branch(gh, ref, gate_branch(start.pr))


@DBOS.step(name="gate.landing_notices", retries_allowed=True, max_attempts=3)
async def landing_notices(start: GateStart, base: Base, before: str, landed: str) -> list[int]:
    """Tell each running worker whose files this landing touched (files its branch changed as
    of the mirror's last fetch, or its plan names) what landed; returns the tasks told. Agents
    never talk to each other: the note takes the path of a maintainer's redirect."""
    store = current().store
    running = [
        t for t in await store.tasks_of(start.repo)
        if t.state == TaskState.WORKING and t.number != start.task
    ]  # fmt: skip
    if not running:
        return []
    # No fetch (it would queue behind every worker's on the mirror's lock): the landed commit
    # was built here, and the workers' branches are as the mirror last saw them.
    mirror = Mirror(current().data_dir, start.repo)
    touched = set(await changed_files(mirror, before, landed))
    told = []
    for task in running:
        edited = set(task.files) | set(await branch_edits(mirror, landed, task.branch))
        overlap = sorted(touched & edited)
        if overlap:
            text = landing_notice(start.pr, start.title, base.branch, landed, overlap)
            await store.post_message(task_inbox(start.repo, task.number), "swarm", text)
            told.append(task.number)
    return told


@github_step("gate.blocked_label")
async def label_blocked(start: GateStart) -> None:
    gh, ref = _gh(start), RepoRef.parse(start.repo)
    for number in (start.task, start.pr):
        await gh_gate.add_label(gh, ref, number, gh_gate.BLOCKED_LABEL)


@DBOS.step(name="gate.count")
async def count(repo: str, task: int, field: str) -> None:
    await current().store.count_task(repo, task, field)


@DBOS.step(name="gate.claim")
async def claim(start: GateStart, gate_id: str) -> bool:
    """Make this gate the task's, unless the task's head moved on (a newer gate has it)."""
    store = current().store
    task = await store.task(start.repo, start.task)
    if task is None or task.head_sha != start.head:
        return False
    await store.change_task(start.repo, start.task, gate=gate_id)
    return True


@DBOS.step(name="gate.goal_workflow")
async def goal_workflow_of(repo: str, goal_number: int) -> str:
    goal = await current().store.goal(repo, goal_number)
    return goal.workflow_id if goal else ""


@DBOS.step(name="store.gates_testing")
async def gates_testing(repo: str, sha: str) -> list[str]:
    return [t.gate for t in await current().store.tasks_by_candidate(repo, sha) if t.gate]


@DBOS.step(name="store.task_of_pr")
async def task_of_pr(repo: str, pr_number: int) -> Task | None:
    return await current().store.task_by_pr(repo, pr_number)


@DBOS.step(name="store.new_head")
async def record_new_head(repo: str, number: int, head: str) -> None:
    await current().store.change_task(repo, number, head_sha=head, ci="")


@DBOS.step(name="clock.now")
async def now() -> float:
    return current().store.clock.now()


def configured_rules(config: RepoConfig) -> policy.GateRules:
    return policy.GateRules(
        max_rounds=config.gate.max_rounds,
        max_rebuilds=config.gate.max_rebuilds,
        require_human_approval=config.require_human_approval,
    )
