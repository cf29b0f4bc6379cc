"""The judge's run on one candidate, as a step of the gate: a fresh worktree of the candidate,
the task's spec and criteria, the diff against the base, the checks — and a verdict posted on the
pull request (a review) and on the candidate (the `swarm/judge` check run). The verdict binds
to the pull request's head: the task row keeps it with that sha, and a new head needs a new one.
"""

from __future__ import annotations

import logging
import re

from dbos import DBOS

from app.agent.names import agent_name
from app.agent.session import Session
from app.domain import gate as policy
from app.domain.refs import RepoRef
from app.flows import steps
from app.flows.gate_steps import Base, GateStart, fetched_mirror
from app.flows.work import transcript_path
from app.github import ops
from app.repo_config import RepoConfig
from app.roles import judge as judge_role
from app.roles.inbox import StoreInbox
from app.roles.limits import agent_config
from app.runtime import current
from app.workspace.git import git

log = logging.getLogger(__name__)

CRITERIA = re.compile(r"^## Acceptance criteria\s*$(.*?)(?=^## |\Z)", re.MULTILINE | re.DOTALL)
SPEC = re.compile(r"^## Spec\s*$(.*?)(?=^## |\Z)", re.MULTILINE | re.DOTALL)
CHECKBOX = re.compile(r"^\s*[-*]\s*(?:\[[ xX]\]\s*)?(.+?)\s*$")


def spec_and_criteria(body: str) -> tuple[str, list[str]]:
    """The task issue's spec and acceptance criteria, as the planner wrote them (and people
    may have edited since): the whole body is the spec when it has no such sections."""
    spec = SPEC.search(body)
    found = CRITERIA.search(body)
    criteria = []
    for line in (found.group(1) if found else "").splitlines():
        item = CHECKBOX.match(line)
        if item:
            criteria.append(item.group(1))
    return (spec.group(1).strip() if spec else body.strip()), criteria


@DBOS.step(name="agent.judge")
async def judge(
    start: GateStart, base: Base, candidate: str, merge_base: str, seen: policy.ChecksSeen | None,
    config: RepoConfig, goal_number: int, token_budget: int, run_name: str, check_on: str = "",
) -> policy.Judged:  # fmt: skip
    """`check_on`: the commit for the `swarm/judge` check run when the candidate judged is not
    on GitHub (the merge train's pull request, judged on a candidate built here only)."""
    runtime = current()
    ref = RepoRef.parse(start.repo)
    gh = runtime.github.installation(start.installation_id)
    issue = (await gh.rest.issues.async_get(ref.owner, ref.name, start.task)).parsed_data
    spec, criteria = spec_and_criteria(issue.body or "")
    source = f"#{start.task}"
    spec_text = await steps.quote_for_agents(start.repo, goal_number, source, "issue", spec)
    criteria = criteria or ["The change does what the task's spec asks, and the tests pass."]
    mirror, _ = await fetched_mirror(start, base)
    diff = await git("--git-dir", str(mirror.path), "diff", merge_base, candidate, strip=False)
    stat = await git("--git-dir", str(mirror.path), "diff", "--stat", merge_base, candidate)
    tree = await mirror.worktree(f"judge-{start.pr}", f"swarm/judge-{start.pr}", candidate)
    checks = [
        judge_role.CheckSummary(c.name, c.conclusion, c.url, c.excerpt)
        for c in (seen.checks if seen else ())
        if c.name != policy.JUDGE_CHECK  # an earlier verdict of its own is not evidence
    ]
    brief = judge_role.JudgeBrief(
        task_title=issue.title,
        spec=spec_text,
        acceptance=criteria,
        diff=diff,
        diff_stat=stat,
        checks=checks,
        head_sha=start.head,
        candidate_sha=candidate,
        base_ref=base.branch,
        test_command=config.test_command,
    )
    worker_model = config.models.worker or runtime.settings.worker_model
    model = judge_role.judge_model_for(
        worker_model, config.models.judge, runtime.settings.judge_model
    )
    name = agent_name(f"{start.repo}#{start.pr}", "judge")
    session = Session(
        agent_name=name,
        worktree=tree.path,
        model=model,
        transcript=transcript_path(runtime, start.repo, run_name),
        # Its own address: messages to the task's worker are not the judge's to take.
        inbox=StoreInbox(runtime.store, f"judge:{start.repo}#{start.pr}"),
        config=agent_config(config.agent, token_budget),
        protected=config.protected_paths,
        command_timeout_s=config.agent.command_timeout_seconds,
        sandbox_settings=runtime.settings,
    )
    judged = await judge_role.judge(session, brief)
    outcome = judged.session.outcome
    await runtime.store.add_task_usage(
        start.repo, start.task, judged.session.tokens, outcome.cost_usd
    )
    verdict = judged.verdict
    if verdict is None:
        why = outcome.reason or "the judge handed in no valid verdict"
        summary = f"The judge could not decide ({outcome.status}: {why})."
        approved = False
    else:
        approved = verdict.approved
        summary = judge_role.review_body(verdict, name, judged.session.model, candidate)
        bot = (await runtime.github.identity()).bot_login
        key = f"{start.pr}:{candidate}"
        await ops.post_review(gh, ref, start.pr, start.head, summary, key, bot)
        title, short, text = judge_role.check_run_output(verdict)
        slug = (await runtime.github.identity()).slug
        await ops.set_check_run(
            gh, ref, check_on or candidate, judge_role.CHECK_NAME,
            judge_role.check_conclusion(verdict), title, short, text, app_slug=slug,
        )  # fmt: skip
    await runtime.store.change_task(
        start.repo, start.task, verdict="approved" if approved else "changes",
        verdict_sha=start.head,
    )  # fmt: skip
    return policy.Judged(start.head, approved, summary, candidate)
