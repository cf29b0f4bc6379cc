"""The text the swarm writes on GitHub: task issues, pull requests, the goal's status comment.

Every piece carries a hidden marker (`app.github.ops.marker`) so that a replay finds it.
Pure functions: easy to read, easy to test.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from app.domain.records import Goal, Task
from app.domain.states import TaskState
from app.github.ops import marker
from app.roles.plan import Plan, PlanTask
from app.roles.verdict import CriterionVerdict, cell, criteria_table

STATE_ICONS: dict[TaskState, str] = {
    TaskState.PLANNED: "⏳ planned",
    TaskState.QUEUED: "🕒 queued",
    TaskState.WORKING: "🛠️ working",
    TaskState.PR_OPEN: "🔎 in the merge gate",
    TaskState.SUBGOAL: "🧩 planned as a sub-goal",
    TaskState.DONE: "✅ landed",
    TaskState.FAILED: "❌ failed",
    TaskState.STOPPED: "⏹️ stopped",
    TaskState.BUDGET_EXHAUSTED: "💸 budget spent",
    TaskState.BLOCKED: "🚧 blocked",
}
# States whose note (why) is shown beside them.
EXPLAINED = frozenset(
    {TaskState.FAILED, TaskState.BLOCKED, TaskState.BUDGET_EXHAUSTED, TaskState.STOPPED}
)
# The merge gate's own notes, shown while a task is fine: what landing waits for, what went back.
GATE_NOTES = ("waiting for ", "handed back ")
VERDICTS = {"approved": "✅ approved", "changes": "✍️ changes"}


def task_marker_key(goal_number: int, key: str) -> str:
    return f"{goal_number}:{key}"


def task_issue_body(goal_number: int, task: PlanTask, dependencies: list[int]) -> str:
    lines = [
        f"Part of #{goal_number}.",
        "",
        "## Spec",
        task.spec.strip(),
        "",
        "## Acceptance criteria",
        *[f"- [ ] {criterion}" for criterion in task.acceptance],
    ]
    if task.files:
        lines += ["", "## Likely files", *[f"- `{path}`" for path in task.files]]
    if dependencies:
        lines += ["", "## Depends on", *[f"- #{number}" for number in dependencies]]
    lines += ["", f"Size: {task.size}", "", marker("task", task_marker_key(goal_number, task.key))]
    return "\n".join(lines)


def plan_comment(plan: Plan) -> str:
    lines = ["### Swarm plan", "", plan.summary.strip() or "", ""]
    for task in plan.ordered():
        deps = f" (after {', '.join(task.depends_on)})" if task.depends_on else ""
        lines.append(f"- **{task.key}** [{task.size}] {task.title}{deps}")
    lines += ["", "Comment `/swarm go` to start, or `/swarm replan <what to change>`."]
    return "\n".join(lines)


def _money(usd: float) -> str:
    return f"${usd:,.2f}"


def inline(text: str) -> str:
    """Text from elsewhere (a title, an error, quoted issue text) shown as it is, on one line:
    no HTML (a quoted `<!-- swarm:… -->` must neither hide nor become one of our markers), no
    table cell split by `|`, no row broken by a newline."""
    one_line = " ".join(text.split("\n"))
    return one_line.replace("<", "&lt;").replace(">", "&gt;").replace("|", "\\|")


def landing_figures(tasks: list[Task]) -> str:
    """Landings and CI runs per landed pull request: a merge train lands several in one."""
    landed = [t for t in tasks if t.state == TaskState.DONE and t.landed_sha]
    if not landed:
        return ""
    landings = len({t.landed_sha for t in landed})
    per = sum(t.ci_runs for t in tasks) / len(landed)
    plural = "s" if landings != 1 else ""
    return f" · {landings} landing{plural} · {per:.2f} CI runs per landed pull request"


def train_lines(train: dict[str, Any], tasks: list[Task]) -> list[str]:
    """The repository's merge train, as it saved itself, with this goal's pull requests."""
    mine = {t.pr_number for t in tasks if t.pr_number}
    cars = train.get("cars") or []
    if not cars:
        return []
    parts = []
    for car in cars:
        sha = f" `{car['candidate'][:10]}`" if car.get("candidate") else ""
        wait = "" if car.get("approved") else ", not approved yet"
        who = f"**#{car['pr']}**" if car["pr"] in mine else f"#{car['pr']}"
        parts.append(f"{car['position']}. {who} {inline(car['state'])}{sha}{wait}")
    ejected = len(train.get("ejected") or [])
    return [
        f"**Merge train** (window {train.get('window')}): " + " · ".join(parts),
        "",
        f"Train so far: {train.get('landed', 0)} landed in {train.get('landings', 0)} landings"
        f" · {train.get('ci_runs', 0)} CI runs · {train.get('flakes', 0)} flakes"
        f" · {ejected} ejected",
        "",
    ]


def status_comment(
    goal: Goal, tasks: list[Task], notes: list[str] | None = None,
    train: dict[str, Any] | None = None,
) -> str:  # fmt: skip
    tokens = goal.tokens + sum(t.tokens for t in tasks)
    cost = goal.cost_usd + sum(t.cost_usd for t in tasks)
    lines = [
        f"### Swarm status: {goal.state.replace('_', ' ')}",
        "",
    ]
    if goal.note:
        lines += [f"> {inline(goal.note)}", ""]
    if tasks:
        lines += [
            "| Task | State | Agent | Pull request | CI | Judge | Rounds | Tokens | Cost |",
            "| --- | --- | --- | --- | --- | --- | ---: | ---: | ---: |",
        ]
        for task in tasks:
            state = STATE_ICONS.get(task.state, task.state)
            if task.state == TaskState.DONE and task.landed_sha:
                state += f" as `{task.landed_sha[:10]}`"
            elif task.note and (task.state in EXPLAINED or task.note.startswith(GATE_NOTES)):
                state += f": {inline(task.note)}"
            pr = f"#{task.pr_number}" if task.pr_number else "—"
            verdict = VERDICTS.get(task.verdict, "—")
            lines.append(
                f"| #{task.number} {inline(task.title)} | {state} | {inline(task.agent) or '—'} "
                f"| {pr} | {inline(task.ci) or '—'} | {verdict} | {task.rounds} "
                f"| {task.tokens:,} | {_money(task.cost_usd)} |"
            )
        lines.append("")
        landed = [t for t in tasks if t.state == TaskState.DONE]
        lines += [
            f"Gate: {len(landed)}/{len(tasks)} landed · {sum(t.ci_runs for t in tasks)} CI runs"
            f" · {sum(t.flakes for t in tasks)} flaky checks (passed their re-run)"
            f" · {sum(t.rounds for t in tasks)} rounds handed back"
            f" · {sum(t.conflicts for t in tasks)} conflicts{landing_figures(tasks)}",
            "",
            *train_lines(train or {}, tasks),
        ]
    if notes:
        lines += [
            "**Hidden text removed before any agent read it** (GitHub does not show it):",
            *[f"- {inline(note)}" for note in notes],
            "",
        ]
    lines.append(f"Planner: {goal.tokens:,} tokens, {_money(goal.cost_usd)}. ")
    lines.append(f"**Total: {tokens:,} tokens, {_money(cost)}.**")
    lines += ["", "Steer with `/swarm <message>`, `/swarm stop`, `/swarm retry`, `/swarm status`."]
    return "\n".join(lines)


def pr_body(
    task: Task,
    *,
    summary: str,
    commands: list[str],
    agent: str,
    model: str,
    tokens: int,
    cost_usd: float,
    outcome: str,
    left_out: list[str] | None = None,
) -> str:
    ran = "\n".join(f"- `{c}`" for c in commands) or "- (the agent ran no command)"
    kept_out = []
    if left_out:
        kept_out = [
            "## Left out of this change",
            "The agent changed these, and Swarm did not commit them:",
            *[f"- `{item}`" for item in left_out],
            "",
        ]
    return "\n".join(
        [
            f"Closes #{task.number}",
            "",
            "## What was done",
            summary.strip() or "(no summary)",
            "",
            "## What was run",
            ran,
            "",
            *kept_out,
            "## Agent",
            f"{agent} · `{model}` · {tokens:,} tokens · {_money(cost_usd)} · outcome: {outcome}",
            "",
            "_The agent's word that it is done is not trusted: CI and review decide._",
            "",
            marker("pr", f"{task.repo}#{task.number}"),
        ]
    )


HAND_BACK_HEADINGS = {
    "ci": "The merge gate's checks failed on your change merged with the base branch.",
    "judge": "The judge (an independent reviewer) asked for changes.",
    "conflict": "Your branch conflicts with the base branch.",
}
HAND_BACK_STEPS = {
    "ci": "Find the cause in the output below, fix it, and run the tests before you finish.",
    "judge": "Address each unmet criterion below, then run the tests before you finish.",
    "conflict": (
        "The base branch is merged into your working tree, with conflict markers "
        "(<<<<<<< / ======= / >>>>>>>) in the files below. Resolve each one keeping what the "
        "base now does and what your task adds, remove every marker, run the tests, and "
        "finish. Swarm commits the merge."
    ),
}


def hand_back_text(kind: str, why: str, details: str) -> str:
    """What a worker handed back by the merge gate is told (the details are data: check output,
    the judge's evidence, file names)."""
    return "\n".join(
        [
            HAND_BACK_HEADINGS.get(kind, "The merge gate handed your task back."),
            f"Why: {why}.",
            HAND_BACK_STEPS.get(kind, ""),
            "",
            "```text",
            details.strip().replace("```", "ˋˋˋ"),
            "```",
        ]
    )


def landing_notice(
    pr_number: int, title: str, base_branch: str, landed_sha: str, files: list[str]
) -> str:
    """What a running worker is told when a landing touched files it has edited or plans to."""
    shown = ", ".join(f"`{f}`" for f in files[:10]) + (" …" if len(files) > 10 else "")
    return (
        f"Landing notice: #{pr_number} “{inline(title)}” landed on `{base_branch}` as "
        f"`{landed_sha[:12]}`, touching {shown}, which your task edits or plans to. Keep going: "
        "your branch is brought up to date with it at its turn to land, and a conflict, if any, "
        "comes back to you then. Read the landed version if your change depends on it."
    )


def _duration(seconds: float) -> str:
    minutes, secs = divmod(int(max(0.0, seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min" if hours else f"{minutes} min {secs:02d} s"


@dataclass(frozen=True)
class GoalCheckSummary:
    """The goal's check that closed it: the commit checked and each criterion's evidence."""

    base_ref: str
    base_sha: str
    criteria: list[CriterionVerdict]


def goal_summary(
    goal: Goal, tasks: list[Task], wall_seconds: float, check: GoalCheckSummary | None = None
) -> str:
    """The goal's closing summary: what landed, what it took, and how the goal was checked."""
    tokens = goal.tokens + sum(t.tokens for t in tasks)
    cost = goal.cost_usd + sum(t.cost_usd for t in tasks)
    lines = [
        "### Swarm: goal done",
        "",
        "| Task | Pull request | Landed as | Tested | Judge | Rounds | Flaky | Conflicts |",
        "| --- | --- | --- | --- | --- | ---: | ---: | ---: |",
    ]
    for t in tasks:
        pr = f"#{t.pr_number}" if t.pr_number else "—"
        same = "same commit" if t.landed_sha and t.landed_sha == t.tested_sha else "—"
        lines.append(
            f"| #{t.number} {inline(t.title)} | {pr} | `{t.landed_sha[:10] or '—'}` | {same} "
            f"| {VERDICTS.get(t.verdict, '—')} | {t.rounds} | {t.flakes} | {t.conflicts} |"
        )
    lines += [
        "",
        f"{len(tasks)} tasks · {sum(t.ci_runs for t in tasks)} CI runs · "
        f"{sum(t.rounds for t in tasks)} rounds handed back · "
        f"{sum(t.flakes for t in tasks)} flaky checks · "
        f"{sum(t.conflicts for t in tasks)} conflicts resolved{landing_figures(tasks)} · "
        f"{tokens:,} tokens · {_money(cost)} · {_duration(wall_seconds)}.",
        "",
    ]
    if check is None:
        lines.append("The goal was closed unchecked (`goal_checks: 0`).")
    else:
        lines += [
            f"**The goal checked on `{cell(check.base_ref)}` at `{check.base_sha[:12]}`**: "
            f"{sum(c.met for c in check.criteria)} of {len(check.criteria)} criteria met.",
            "",
            *criteria_table(check.criteria),
        ]
    return "\n".join(lines)
