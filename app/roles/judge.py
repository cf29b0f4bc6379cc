"""The judge: reviews one pull request's change against its task's spec and acceptance criteria,
independently of the worker that made it, and hands in a verdict (`app.roles.verdict`) through
its own tool, `submit_verdict`. Its file tools are read-only; it runs commands (the tests) in the
sandbox, in a worktree of the candidate commit that nobody commits from.

Its product is the verdict, or None with the run's outcome. Only a run that finished counts: a
verdict handed in by a judge that was then stopped, or ran out of budget, is not one.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace

from app.agent.session import Session, SessionResult, run_session
from app.agent.tools import WorkspaceTools
from app.agent.untrusted import frame, quoted, reveal, unframed
from app.roles.handing_in import HandInFirst
from app.roles.prompts import role_prompt
from app.roles.verdict import (
    CHECK_NAME,
    CriterionVerdict,
    Verdict,
    VerdictTools,
    check_conclusion,
    check_run_output,
    criteria_of,
    review_body,
    verdict_from_text,
)

__all__ = [
    "CHECK_NAME",
    "CheckSummary",
    "CriterionVerdict",
    "JudgeBrief",
    "Judged",
    "Verdict",
    "brief_message",
    "check_conclusion",
    "check_run_output",
    "judge",
    "judge_model_for",
    "review_body",
]

PROMPT = role_prompt("judge")
MAX_DIFF_CHARS = 60_000
MAX_STAT_CHARS = 10_000
MAX_EXCERPT_CHARS = 4_000

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CheckSummary:
    """One check on the pull request's head: `excerpt` is what it printed (a failing test's
    output, say) — data, like everything the repository's code writes."""

    name: str
    conclusion: str | None  # None while it runs
    url: str = ""
    excerpt: str = ""


@dataclass(frozen=True)
class JudgeBrief:
    """What the judge is asked. `spec` and each of `acceptance` are GitHub text, cleaned and
    framed by the caller (`app.agent.untrusted.quoted`); text that comes unframed is cleaned and
    framed here. The diff and the checks' output are framed here."""

    task_title: str
    spec: str
    acceptance: list[str]
    diff: str  # the change against base_ref, as `git diff` prints it
    diff_stat: str
    checks: list[CheckSummary]
    head_sha: str  # the pull request's head
    candidate_sha: str  # what would land (the head on base_ref): the judge's worktree
    base_ref: str
    test_command: str | None = None  # from `.github/swarm.yml`


@dataclass
class Judged:
    verdict: Verdict | None  # None: the judge did not hand in a valid verdict
    session: SessionResult


# -- the first message --------------------------------------------------------------------------


def _as_data(kind: str, text: str) -> str:
    """GitHub text framed once: as the caller framed it, else cleaned and framed here."""
    return text.strip() if unframed(text) is not None else quoted(kind, text)[0]


def _cut(text: str, limit: int) -> tuple[str, bool]:
    """`text` cut to `limit` characters at a line end where it can be."""
    if len(text) <= limit:
        return text, False
    head = text[:limit]
    line_end = head.rfind("\n")
    return (head[: line_end + 1] if line_end > limit // 2 else head), True


def _checks_text(checks: list[CheckSummary]) -> str:
    lines = []
    for check in checks:
        conclusion = check.conclusion or "still running"
        url = f" ({check.url})" if check.url else ""
        lines.append(f"- {' '.join(check.name.split())}: {conclusion}{url}")
        excerpt = check.excerpt.strip()
        if excerpt:
            if len(excerpt) > MAX_EXCERPT_CHARS:  # the end is where a failure shows
                excerpt = "[… the start is cut]\n" + excerpt[-MAX_EXCERPT_CHARS:]
            lines += ["", excerpt, ""]
    return "\n".join(lines).rstrip("\n")


def brief_message(brief: JudgeBrief) -> str:
    """The judge's first message: the task, its criteria, the change, CI, how to hand in."""
    title = " ".join(brief.task_title.split())
    parts = [
        f"Judge the change made for the task “{title}” before it may merge into "
        f"`{brief.base_ref}`.",
        "",
        "## The task",
        _as_data("spec", brief.spec),
        "",
        "## Acceptance criteria",
    ]
    criteria = criteria_of(brief.acceptance)
    if criteria:
        parts += [
            "Judge each of these, exactly once, naming it by its text as written here:",
            frame("criteria", "\n".join(f"- {c}" for c in criteria)),
        ]
    else:
        parts.append(
            "The task lists none: judge the change against its spec, with criteria of your "
            "own, one of them that the tests pass."
        )
    if brief.candidate_sha == brief.head_sha:
        where = f"Your working tree is the pull request's head, `{brief.head_sha}`."
    else:
        where = (
            f"Your working tree is `{brief.candidate_sha}`: the pull request's head "
            f"(`{brief.head_sha}`) on `{brief.base_ref}`, which is what would land."
        )
    stat, _ = _cut(reveal(brief.diff_stat)[0], MAX_STAT_CHARS)
    diff, hidden = reveal(brief.diff)
    shown, cut = _cut(diff, MAX_DIFF_CHARS)
    parts += [
        "",
        "## The change",
        where,
        "",
        "Files changed:",
        frame("diff-stat", stat.strip("\n")),
        "",
        f"The diff against `{brief.base_ref}`:",
        frame("diff", shown.rstrip("\n")),
    ]
    if cut:
        parts.append(
            f"[The diff is cut here: {len(shown):,} of {len(diff):,} characters shown. Read the "
            "changed files listed above for the rest.]"
        )
    if hidden:
        parts.append(
            f"[The diff holds {hidden} invisible or control character(s), shown as ⟦U+…⟧: "
            "GitHub's reviewers do not see them. Say where they are, and why they matter.]"
        )
    parts += ["", "## CI on the commit that would land"]
    if brief.checks:
        parts.append(frame("checks", _checks_text(brief.checks)))
    else:
        parts.append("No check has reported yet.")
    parts += ["", "## Tests"]
    if brief.test_command:
        parts.append(
            f"This repository's tests run with `{brief.test_command}` (from its "
            "`.github/swarm.yml`): run them yourself."
        )
    else:
        parts.append("Find how this repository runs its tests (README, CI config) and run them.")
    parts += [
        "",
        "Hand in your verdict with `submit_verdict`: each criterion with whether it is met and "
        "its evidence (a file:line you read, or a command you ran and what it printed). Then "
        "call `finish`.",
    ]
    return "\n".join(parts)


# -- the run ------------------------------------------------------------------------------------


async def judge(session: Session, brief: JudgeBrief) -> Judged:
    """Run the judge in `session` (its role, prompt, tools and finish check are set here)."""
    made: list[VerdictTools] = []

    def with_submit_verdict(workspace: WorkspaceTools) -> VerdictTools:
        made.append(VerdictTools(workspace, brief.acceptance))
        return made[0]

    judge_session = replace(
        session,
        role="judge",
        prompt=PROMPT,
        tools=with_submit_verdict,
        supervisor=HandInFirst(
            session.supervisor,
            lambda: bool(made) and made[0].verdict is not None,
            "no verdict is recorded. Hand it in with submit_verdict (each acceptance criterion "
            "with met and evidence), then call finish.",
        ),
    )
    result = await run_session(judge_session, brief_message(brief))
    if result.outcome.status != "finished":
        return Judged(None, result)
    found = made[0].verdict if made else None
    if found is None:
        found = verdict_from_text(result.outcome.summary, brief.acceptance)
    return Judged(found, result)


# -- its model ----------------------------------------------------------------------------------

# The default model of each family, for a judge of the other family than the worker's.
FAMILY_DEFAULTS: dict[str, str] = {
    "openai": "openai/gpt-5",
    "anthropic": "anthropic/claude-sonnet-4-5",
}
OTHER_FAMILY = {"openai": "anthropic", "anthropic": "openai"}


def model_family(spec: str) -> str:
    """The provider a `provider/model` spec names: "openai" or "anthropic" (or what it says)."""
    return spec.strip().partition("/")[0].lower()


def judge_model_for(worker_model: str, configured: str | None, settings_default: str) -> str:
    """The judge's model: the repository's (`models.judge` in `.github/swarm.yml`) if it names
    one; else the operator's default (`SWARM_JUDGE_MODEL`), unless that is of the worker's
    family — a judge should not share its producer's blind spots — in which case the other
    family's default."""
    if configured and configured.strip():
        return configured.strip()
    family = model_family(worker_model)
    if model_family(settings_default) != family or family not in OTHER_FAMILY:
        return settings_default
    chosen = FAMILY_DEFAULTS[OTHER_FAMILY[family]]
    log.info(
        "judge model: the default %s is of the worker's family (%s, %s); judging with %s",
        settings_default, family, worker_model, chosen,
    )  # fmt: skip
    return chosen
