"""The judge's product: a verdict on one change, criterion by criterion, each with its evidence.

The judge hands its verdict in through the `submit_verdict` tool, which checks it against the
task's acceptance criteria and answers the model with what is wrong (a criterion left out or
judged twice, one that is not the task's, evidence missing, an approval with a criterion unmet)
so that it can fix the verdict itself. What the swarm writes on GitHub from a verdict — the
review's body and the `swarm/judge` check run's output — is rendered here too; the GitHub calls
are the flow's (`app.github.ops`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from app.agent.toolbox import Toolbox, ToolResult
from app.agent.untrusted import clean, unframed
from app.llm.types import ToolSpec
from app.roles.handing_in import json_object_in

CHECK_NAME = "swarm/judge"
# GitHub refuses a check run's output.summary or output.text above 65,535 characters, and a
# review body above 65,536.
GITHUB_TEXT_LIMIT = 65_000
CELL_LIMIT = 2_000  # characters of one evidence cell in the review's table


class CriterionVerdict(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    criterion: str = Field(min_length=1)
    met: bool
    # Where it was seen: a file:line read, or a command run and what it printed.
    evidence: str = Field(min_length=1)


class Verdict(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    decision: Literal["approve", "request_changes"]
    criteria: list[CriterionVerdict] = Field(min_length=1)
    summary: str = Field(min_length=1)

    @property
    def approved(self) -> bool:
        """An approval that every criterion backs; anything else gates the merge."""
        return self.decision == "approve" and all(c.met for c in self.criteria)

    @property
    def met_count(self) -> int:
        return sum(c.met for c in self.criteria)


class VerdictError(ValueError):
    pass


def criterion_text(criterion: str) -> str:
    """A criterion as the judge is shown it and must name it back: the text inside its frame
    (or cleaned of what GitHub hides, when the caller did not frame it), on one line."""
    inner = unframed(criterion)
    return " ".join((inner if inner is not None else clean(criterion).text).split())


def _key(text: str) -> str:
    """What names a criterion: its text, whatever the whitespace in it."""
    return "".join(text.split())


def criteria_of(acceptance: Sequence[str]) -> list[str]:
    """The criteria the judge judges: each one's text, in order, without blanks or repeats."""
    seen: dict[str, str] = {}
    for criterion in acceptance:
        text = criterion_text(criterion)
        if text:
            seen.setdefault(_key(text), text)
    return list(seen.values())


def _short(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def validate_verdict(data: Any, acceptance: Sequence[str]) -> Verdict:
    """A checked verdict, or VerdictError saying what to fix.

    Every acceptance criterion is judged exactly once, named by its text (any whitespace aside);
    the verdict comes back in the criteria's order and with their exact text. Without
    criteria, any (at least one) are taken."""
    try:
        verdict = Verdict.model_validate(data)
    except ValidationError as exc:
        problems = [
            f"{'.'.join(str(p) for p in e['loc']) or 'verdict'}: {e['msg']}" for e in exc.errors()
        ]
        raise VerdictError("; ".join(problems[:10])) from None
    expected = {_key(text): text for text in criteria_of(acceptance)}
    problems = []
    if expected:
        judged: dict[str, CriterionVerdict] = {}
        for item in verdict.criteria:
            key = _key(item.criterion)
            if key not in expected:
                problems.append(
                    f"“{_short(item.criterion)}” is not one of the task's acceptance criteria "
                    "(copy each criterion's text as the brief gives it; put other findings in "
                    "the summary)"
                )
            elif key in judged:
                problems.append(f"“{_short(item.criterion)}” is judged more than once")
            else:
                judged[key] = item
        missing = [text for key, text in expected.items() if key not in judged]
        if missing:
            problems.append("not judged: " + "; ".join(f"“{_short(t)}”" for t in missing))
        if not problems:
            verdict = verdict.model_copy(
                update={
                    "criteria": [
                        judged[key].model_copy(update={"criterion": text})
                        for key, text in expected.items()
                    ]
                }
            )
    unmet = [c.criterion for c in verdict.criteria if not c.met]
    if verdict.decision == "approve" and unmet:
        problems.append(
            "inconsistent: the decision is approve but "
            + "; ".join(f"“{_short(t)}”" for t in unmet)
            + " is not met (approve only when every criterion is met; otherwise request changes)"
        )
    if problems:
        raise VerdictError("; ".join(problems))
    return verdict


SUBMIT_VERDICT = ToolSpec(
    name="submit_verdict",
    description=(
        "Hand in your verdict on the change. criteria: one entry per acceptance criterion of "
        "the brief, each exactly once, with the criterion's text as the brief gives it, whether "
        "the change meets it, and the evidence (a file:line you read, or a command you ran and "
        "what it printed). decision: approve only when every criterion is met; otherwise "
        "request_changes. summary: your reasons, which a worker can act on. Answers with what "
        "to fix, or 'verdict recorded'; then call finish."
    ),
    parameters={
        "type": "object",
        "properties": {
            "decision": {"type": "string", "enum": ["approve", "request_changes"]},
            "criteria": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "criterion": {"type": "string"},
                        "met": {"type": "boolean"},
                        "evidence": {"type": "string"},
                    },
                    "required": ["criterion", "met", "evidence"],
                },
            },
            "summary": {"type": "string"},
        },
        "required": ["decision", "criteria", "summary"],
    },
)


class VerdictTools:
    """The judge's workspace tools plus `submit_verdict`."""

    def __init__(self, inner: Toolbox, acceptance: Sequence[str]) -> None:
        self.inner = inner
        self.acceptance = list(acceptance)
        self.verdict: Verdict | None = None

    def specs(self) -> list[ToolSpec]:
        return [*self.inner.specs(), SUBMIT_VERDICT]

    async def call(self, name: str, arguments: dict[str, Any]) -> ToolResult:
        if name != SUBMIT_VERDICT.name:
            return await self.inner.call(name, arguments)
        try:
            verdict = validate_verdict(arguments, self.acceptance)
        except VerdictError as exc:
            # A judge that corrects itself badly must not leave its earlier verdict standing.
            withdrawn = " Your earlier verdict is withdrawn." if self.verdict else ""
            self.verdict = None
            return ToolResult(
                f"The verdict was not recorded: {exc}.{withdrawn} Fix it and submit again.", True
            )
        self.verdict = verdict
        return ToolResult(
            f"verdict recorded: {verdict.decision}, {verdict.met_count} of "
            f"{len(verdict.criteria)} criteria met. Now call finish."
        )


def verdict_from_text(text: str, acceptance: Sequence[str]) -> Verdict | None:
    """A verdict written as JSON in a finish summary (a fallback for models that skip the
    tool), checked as the tool checks it."""
    data = json_object_in(text)
    if data is None:
        return None
    try:
        return validate_verdict(data, acceptance)
    except VerdictError:
        return None


# -- on GitHub ----------------------------------------------------------------------------------


def _no_html(text: str) -> str:
    """The model's text shown as it is: no HTML, so nothing it writes can hide, or pass for
    one of the swarm's own markers (`<!-- swarm:… -->`)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _cap(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    note = f"… [cut: {len(text) - limit:,} more characters]"
    return text[: max(0, limit - len(note))] + note


def cell(text: str, limit: int = CELL_LIMIT) -> str:
    """Text for one Markdown table cell: no HTML, pipes escaped (backslashes before a pipe
    folded into its one escape, which would otherwise undo it), each newline a `<br>`."""
    flat = _no_html(_cap(text.strip(), limit)).replace("\r\n", "\n").replace("\r", "\n")
    flat = re.sub(r"\\*\|", r"\\|", flat)
    return "<br>".join(flat.split("\n"))


def _decision(verdict: Verdict) -> str:
    return "✅ approved" if verdict.approved else "❌ changes requested"


def criteria_table(criteria: Sequence[CriterionVerdict]) -> list[str]:
    """Criteria with whether each is met and its evidence, as a Markdown table's lines."""
    lines = ["| Criterion | Met | Evidence |", "| --- | :---: | --- |"]
    for item in criteria:
        met = "✅" if item.met else "❌"
        lines.append(f"| {cell(item.criterion)} | {met} | {cell(item.evidence)} |")
    return lines


def review_body(verdict: Verdict, agent_name: str, model: str, candidate_sha: str) -> str:
    """The judge's review on the pull request (Markdown; `ops.post_review` adds its marker)."""
    n = len(verdict.criteria)
    lines = [
        f"### Swarm judge: {_decision(verdict)}",
        "",
        f"**{verdict.met_count} of {n} acceptance criteria met** on `{cell(candidate_sha)}`.",
        "",
        *criteria_table(verdict.criteria),
        "",
        _no_html(_cap(verdict.summary.strip(), GITHUB_TEXT_LIMIT // 2)),
        "",
        f"Judged by {cell(agent_name)} (`{cell(model)}`). The merge gate reads the "
        f"`{CHECK_NAME}` check; this review is a comment because GitHub lets nobody approve "
        "their own pull request, and the swarm's bot opened this one.",
    ]
    return _cap("\n".join(lines), GITHUB_TEXT_LIMIT)


def check_conclusion(verdict: Verdict) -> Literal["success", "failure"]:
    return "success" if verdict.approved else "failure"


def check_run_output(verdict: Verdict) -> tuple[str, str, str]:
    """(title, summary, text) of the `swarm/judge` check run."""
    n = len(verdict.criteria)
    verb = "Approved" if verdict.approved else "Changes requested"
    title = f"{verb}: {verdict.met_count} of {n} criteria met"
    summary = _cap(_no_html(verdict.summary.strip()), GITHUB_TEXT_LIMIT)
    text = _cap("\n".join(criteria_table(verdict.criteria)), GITHUB_TEXT_LIMIT)
    return title, summary, text
