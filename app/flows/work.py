"""What one agent run does on disk: a fresh worktree, the agent, checkpoints, the commit, the push.

Each function here is the body of one DBOS step. A worktree lives on one machine's disk, so a
step that is run again after a crash — here or on another machine — never trusts a tree it did
not make: it starts a fresh worktree from the branch head (the last checkpoint pushed) and gives
the fresh agent a summary of where the earlier one was.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from app.agent.external import run_external_agent
from app.agent.loop import Agent
from app.agent.names import agent_name
from app.agent.prompts import task_message
from app.agent.session import Session, SessionResult
from app.agent.transcript import load_transcript
from app.credentials import SecretScanner, own_secrets, pem_lines
from app.domain.addresses import goal_inbox, task_inbox
from app.domain.refs import RepoRef
from app.github import ops
from app.github.client import GitHubApp
from app.repo_config import RepoConfig
from app.roles import checker, planner, worker
from app.roles.checker import GoalCheck, LandedTask
from app.roles.inbox import StoreInbox
from app.roles.limits import agent_config
from app.roles.plan import Plan
from app.roles.worker import with_test_command
from app.runtime import Runtime
from app.sandbox.factory import make_sandbox
from app.store import Store
from app.workspace.candidate import landed_since, merged_tree
from app.workspace.git import GitError
from app.workspace.snapshot import Snapshot
from app.workspace.worktree import Identity, Mirror, Worktree

log = logging.getLogger(__name__)

CHECKPOINT_PREFIX = "swarm checkpoint"


@dataclass
class Workspace:
    """A fresh worktree of the repository, and how to push from it."""

    tree: Worktree
    start_sha: str  # where this run began: the squash base of its final commit
    remote_sha: str | None  # the branch on GitHub when the run began (None: new branch)
    clone_url: str
    default_branch: str
    token: str
    merged: str = ""  # a merge in progress: the commit merged into the branch


async def open_workspace(
    runtime: Runtime, installation_id: int, repo: str, name: str, branch: str
) -> Workspace:
    """Fetch the mirror and check out `branch` (from its remote head, else the default branch)."""
    github: GitHubApp = runtime.github
    ref = RepoRef.parse(repo)
    info = await ops.repo_info(github.installation(installation_id), ref)
    token = await github.repository_token(installation_id, ref.name)
    mirror = Mirror(runtime.data_dir, repo)
    await mirror.fetch(info.clone_url, token)
    remote = await mirror.remote_sha(branch)
    start = f"refs/remotes/origin/{branch if remote else info.default_branch}"
    tree = await mirror.worktree(name, branch, start)
    return Workspace(tree, await tree.head(), remote, info.clone_url, info.default_branch, token)


@dataclass
class RunReport:
    """What a worker run produced; recorded as the step's output."""

    status: str
    summary: str
    reason: str
    agent: str
    model: str
    tokens: int
    cost_usd: float
    commands: list[str] = field(default_factory=list)
    head_sha: str = ""
    pushed: bool = False
    left_out: list[str] = field(default_factory=list)  # paths kept out of the commit, and why
    refused: list[str] = field(default_factory=list)  # why nothing was pushed (credentials)

    def note(self) -> str:
        """What the status comment should say about this run, if anything."""
        notes = []
        if self.refused:
            notes.append(f"push refused: {'; '.join(self.refused)}")
        if self.status != "finished":
            notes.append(f"{self.status}: {self.reason}")
        if not self.pushed and not self.refused:
            notes.append("no change was pushed")
        if self.left_out:
            notes.append(f"left out of the commit: {'; '.join(self.left_out)}")
        return "; ".join(notes)


@dataclass
class PlanResult:
    plan: Plan | None
    report: RunReport


@dataclass
class CheckResult:
    """A finished goal checked against its base branch: the check (None: none was handed in),
    the commit checked, and the run."""

    check: GoalCheck | None
    base_ref: str
    base_sha: str
    report: RunReport


def transcript_path(runtime: Runtime, repo: str, name: str) -> Path:
    return runtime.data_dir / "transcripts" / repo / f"{name}.jsonl"


async def resume_summary(ws: Workspace, transcript: Path) -> str | None:
    """Where an earlier, interrupted attempt left the task, if one did."""
    if ws.remote_sha:
        message = await ws.tree.git("log", "-1", "--format=%B", ws.remote_sha)
        if message.startswith(CHECKPOINT_PREFIX):
            return message.partition("\n")[2].strip() or None
    if transcript.exists():
        earlier = load_transcript(transcript)
        # No outcome (killed), or cancelled by a shutdown: the run was interrupted.
        if earlier.outcome is None or earlier.outcome.get("status") == "cancelled":
            return earlier.summary_for_resume()
    return None


def scanner_for(runtime: Runtime, token: str) -> SecretScanner:
    """Credential formats, plus this process's own secrets and the run's token, verbatim."""
    settings = runtime.settings
    known = [*own_secrets(), *pem_lines(settings.private_key_pem), settings.webhook_secret, token]
    return SecretScanner(known)


class Spend:
    """A run's tokens and dollars, written to the task's row as they are spent (after every
    step), so a running worker's spend is live and a crash loses none of it."""

    def __init__(self, store: Store, repo: str, number: int) -> None:
        self.store, self.repo, self.number = store, repo, number
        self.tokens, self.cost_usd = 0, 0.0  # written so far

    async def up_to(self, tokens: int, cost_usd: float) -> None:
        """Record what was spent since the last call, given the run's totals."""
        more_tokens, more_cost = tokens - self.tokens, cost_usd - self.cost_usd
        if more_tokens <= 0 and more_cost <= 0:
            return
        await self.store.add_task_usage(self.repo, self.number, more_tokens, more_cost)
        self.tokens, self.cost_usd = tokens, cost_usd


class Saver:
    """The worker's supervisor: a checkpoint commit between steps when one is due, and a look
    at the work before the agent may finish. Both refuse credentials and say what is left out;
    neither pushes anything the final commit would not."""

    def __init__(
        self, ws: Workspace, author: Identity, protected: list[str], scanner: SecretScanner,
        every_s: float, clock: Callable[[], float] = time.monotonic,
        spend: Spend | None = None, conflicted: tuple[str, ...] = (),
    ) -> None:  # fmt: skip
        self.ws, self.author, self.protected, self.scanner = ws, author, protected, scanner
        self.conflicted = conflicted  # files a merge left markers in: resolved before finishing
        self.every_s, self.clock, self.spend = every_s, clock, spend
        self.pushed = ws.remote_sha  # the branch on GitHub now
        self.saved_tree = ""  # the tree of the last checkpoint pushed
        self.last = clock()
        self.told: set[str] = set()  # what the agent has been told about already

    async def snapshot(self) -> Snapshot:
        return await self.ws.tree.snapshot(self.ws.start_sha, self.protected, self.scanner)

    async def after_step(self, agent: Agent) -> str | None:
        if self.spend is not None:
            await self.spend.up_to(
                agent.usage.input_tokens + agent.usage.output_tokens, agent.cost_usd
            )
        if self.clock() - self.last < self.every_s:
            return None
        self.last = self.clock()
        try:
            return await self._checkpoint(agent)
        except GitError:  # a failed checkpoint must not stop the agent; the next one retries
            log.warning("checkpoint of %s failed", agent.name, exc_info=True)
            return None

    async def _checkpoint(self, agent: Agent) -> str | None:
        snap = await self.snapshot()
        if snap.findings:
            return self._once(_credentials_note(snap, "This checkpoint was not saved"))
        if snap.tree not in (snap.base_tree, self.saved_tree):
            message = f"{CHECKPOINT_PREFIX}: turn {agent.turns}\n\n{agent.work.render()}"
            parent = self.pushed or self.ws.start_sha
            sha = await self.ws.tree.commit(snap.tree, parent, message, self.author)
            await self.ws.tree.push(self.ws.clone_url, self.ws.token, sha, self.pushed)
            self.pushed, self.saved_tree = sha, snap.tree
        return self._left_out_note(snap)

    def _once(self, note: str) -> str | None:
        """`note`, unless the agent was told exactly this already."""
        if note in self.told:
            return None
        self.told.add(note)
        return note

    async def review_finish(self, agent: Agent) -> str | None:
        snap = await self.snapshot()
        if snap.findings:
            return _credentials_note(snap, "Nothing can be pushed")
        marked = [path for path in self.conflicted if _has_markers(self.ws.tree.path / path)]
        if marked:
            return (
                "conflict markers (<<<<<<< / >>>>>>>) are still in: "
                f"{', '.join(marked)}. Resolve them before you finish."
            )
        return None

    def _left_out_note(self, snap: Snapshot) -> str | None:
        new = [item for item in snap.left_out if item.path not in self.told]
        self.told.update(item.path for item in new)
        if not new:
            return None
        listed = "; ".join(str(item) for item in new)
        return f"[Swarm] Not part of your change, and will not be: {listed}."


def _has_markers(path: Path) -> bool:
    """Whether a file still holds a conflict's markers (a file the agent removed holds none)."""
    try:
        text = path.read_bytes()
    except OSError:
        return False
    return any(
        line.startswith((b"<<<<<<< ", b">>>>>>> ")) or line == b"======="
        for line in text.splitlines()
    )


async def start_merge(ws: Workspace, mirror: Mirror) -> tuple[tuple[str, ...], str]:
    """Put the base (`ws.merged`) merged into the branch in the work tree, conflicts marked;
    return the conflicted files and what the agent needs to know about them."""
    tree, conflicted = await merged_tree(mirror, ws.start_sha, ws.merged)
    await ws.tree.check_out_tree(tree)
    landed = await landed_since(mirror, ws.start_sha, ws.merged)
    lines = [
        "",
        "",
        f"## Merging `{ws.default_branch}` into your branch",
        f"Your branch is {ws.start_sha[:12]}; `{ws.default_branch}` is now {ws.merged[:12]}.",
        "Conflicted files (markers in them): " + (", ".join(conflicted) or "none"),
        f"Landed on `{ws.default_branch}` since your branch left it (newest first):",
        *[f"- {subject}" for subject in landed],
    ]
    return conflicted, "\n".join(lines)


def _credentials_note(snap: Snapshot, what: str) -> str:
    found = "; ".join(str(f) for f in snap.findings[:10])
    return (
        f"{what}: your change contains what looks like a credential ({found}). Remove it: "
        "credentials never go into the repository (tests use obvious fakes, e.g. 'test-token')."
    )


async def work_on_task(
    runtime: Runtime,
    *,
    installation_id: int,
    repo: str,
    number: int,
    branch: str,
    task_text: str,
    title: str,
    config: RepoConfig,
    token_budget: int,
    author: Identity,
    run_name: str,
    merge_from: str = "",
) -> RunReport:
    """Run a worker on the task's branch and push what it made as one commit; with
    `merge_from`, the worker first resolves that commit (the base) merged into its branch, and
    the commit is a merge of both."""
    ws = await open_workspace(runtime, installation_id, repo, f"{number}", branch)
    conflicted: tuple[str, ...] = ()
    if merge_from:
        ws.merged = merge_from
        conflicted, context = await start_merge(ws, Mirror(runtime.data_dir, repo))
        task_text += context
    name = worker.worker_name(repo, number)
    transcript = transcript_path(runtime, repo, run_name)
    resume = await resume_summary(ws, transcript)
    protected = config.protected_paths
    spend = Spend(runtime.store, repo, number)
    saver = Saver(
        ws, author, protected, scanner_for(runtime, ws.token),
        runtime.settings.checkpoint_seconds, spend=spend, conflicted=conflicted,
    )  # fmt: skip
    if config.worker_command:
        report = await _run_external(runtime, ws, name, task_text, config, resume)
    else:
        session = Session(
            agent_name=name,
            worktree=ws.tree.path,
            model=config.models.worker or runtime.settings.worker_model,
            transcript=transcript,
            inbox=StoreInbox(runtime.store, task_inbox(repo, number)),
            config=agent_config(config.agent, token_budget),
            protected=protected,
            command_timeout_s=config.agent.command_timeout_seconds,
            sandbox_settings=runtime.settings,
            supervisor=saver,
        )
        result = await worker.work(
            session, task_text, test_command=config.test_command, resume_summary=resume
        )
        report = _report(result)
    await spend.up_to(report.tokens, report.cost_usd)
    return await _commit_and_push(ws, saver, report, title, name)


async def _commit_and_push(
    ws: Workspace, saver: Saver, report: RunReport, title: str, name: str
) -> RunReport:
    """One commit on the run's start (checkpoints folded in), pushed with a lease; nothing is
    pushed when the work holds a credential."""
    snap = await saver.snapshot()
    report.left_out = [str(item) for item in snap.left_out]
    if snap.findings:
        report.refused = [str(f) for f in snap.findings[:10]]
        log.warning("%s: push refused, credentials found: %s", name, report.refused)
        return report
    branch = saver.pushed  # the branch on GitHub, as this run leaves it
    # A merge is committed even when its resolution keeps the branch's tree as it was: the
    # commit records that the base is merged in.
    if snap.tree != snap.base_tree or ws.merged:
        message = f"{title[:72]}\n\n{report.summary.strip()}\n\nAgent: {name} ({report.model})"
        branch = await ws.tree.commit(snap.tree, ws.start_sha, message, saver.author, ws.merged)
        await ws.tree.push(ws.clone_url, ws.token, branch, saver.pushed)
    elif saver.pushed != ws.remote_sha:
        # The checkpoints added nothing in the end: put the branch back where it was.
        await ws.tree.push(ws.clone_url, ws.token, ws.start_sha, saver.pushed)
        branch = ws.start_sha
    # What the branch holds decides the pull request, not whether this run pushed: a run
    # repeated after a crash that came after its push finds its work already there.
    if branch and await ws.tree.has_work(branch, f"refs/remotes/origin/{ws.default_branch}"):
        report.head_sha, report.pushed = branch, True
    return report


async def _run_external(
    runtime: Runtime, ws: Workspace, name: str, task_text: str, config: RepoConfig,
    resume: str | None,
) -> RunReport:  # fmt: skip
    """The repository's own agent CLI instead of the built-in loop, in the same sandbox.

    Network and the variables it may see are the operator's grant (process settings), never
    the repository's: a repository must not be able to read the operator's keys."""
    assert config.worker_command is not None
    settings = runtime.settings
    sandbox = make_sandbox(
        ws.tree.path, settings, default_timeout_s=config.agent.command_timeout_seconds
    )
    run = await run_external_agent(
        config.worker_command,
        task_message(with_test_command(task_text, config.test_command), resume_summary=resume),
        sandbox,
        ws.tree.path,
        timeout_s=config.agent.max_minutes * 60,
        git_dir=ws.tree.git_dir,
        network=settings.external_agent_network,
        pass_env=[v for v in settings.external_agent_env.split(",") if v.strip()],
    )
    ok = run.exit_code == 0 and not run.timed_out
    why = "timed out" if run.timed_out else f"exit code {run.exit_code}"
    return RunReport(
        status="finished" if ok else "error",
        summary=run.output[-2000:].strip(),
        reason="" if ok else why,
        agent=name,
        model=f"external: {run.command[:60]}",
        tokens=0,  # an external CLI reports its own usage, if at all
        cost_usd=0.0,
        commands=[run.command],
    )


def _report(result: SessionResult) -> RunReport:
    outcome = result.outcome
    return RunReport(
        status=outcome.status,
        summary=outcome.summary,
        reason=outcome.reason,
        agent=result.agent,
        model=result.model,
        tokens=result.tokens,
        cost_usd=outcome.cost_usd,
        commands=result.commands,
    )


async def _goal_session(
    runtime: Runtime, installation_id: int, repo: str, number: int, role: str,
    config: RepoConfig, token_budget: int, run_name: str,
) -> tuple[Workspace, Session]:  # fmt: skip
    """A fresh worktree of the default branch, and a session on it for the goal's own agent
    (the planner, or the goal's checker): the planner's model, the goal's inbox."""
    place = {"planner": "plan", "checker": "check"}[role]
    ws = await open_workspace(
        runtime, installation_id, repo, f"{place}-{number}", f"swarm/{place}-{number}"
    )
    session = Session(
        agent_name=agent_name(f"{repo}#{number}", role),
        worktree=ws.tree.path,
        model=config.models.planner or runtime.settings.planner_model,
        transcript=transcript_path(runtime, repo, run_name),
        inbox=StoreInbox(runtime.store, goal_inbox(repo, number)),
        config=agent_config(config.agent, token_budget),
        protected=config.protected_paths,
        command_timeout_s=config.agent.command_timeout_seconds,
        sandbox_settings=runtime.settings,
    )
    return ws, session


async def plan_goal(
    runtime: Runtime,
    *,
    installation_id: int,
    repo: str,
    number: int,
    goal_text: str,
    config: RepoConfig,
    token_budget: int,
    run_name: str,
) -> PlanResult:
    """Plan the goal on a fresh read-only worktree of the default branch."""
    _, session = await _goal_session(
        runtime, installation_id, repo, number, "planner", config, token_budget, run_name
    )
    planned = await planner.plan(session, goal_text)
    return PlanResult(plan=planned.plan, report=_report(planned.session))


async def check_goal(
    runtime: Runtime,
    *,
    installation_id: int,
    repo: str,
    number: int,
    goal_text: str,
    landed: list[LandedTask],
    config: RepoConfig,
    token_budget: int,
    run_name: str,
) -> CheckResult:
    """Check a goal whose tasks all landed, on a fresh worktree of the default branch as it is
    now; the planner's model, its file tools read-only, its commands in the sandbox."""
    ws, session = await _goal_session(
        runtime, installation_id, repo, number, "checker", config, token_budget, run_name
    )
    brief = checker.brief_message(goal_text, ws.default_branch, ws.start_sha, landed)
    checked = await checker.check(session, brief, [t.key for t in landed])
    return CheckResult(checked.check, ws.default_branch, ws.start_sha, _report(checked.session))
