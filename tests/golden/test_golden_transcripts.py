"""Golden transcripts: what the planner and the worker send the model, checked in.

Each test runs one agent the way the product does (`run_session` with the real prompts, the real
`WorkspaceTools` on the machine's sandbox, `PlanningTools` for the planner) against a scripted
model on a small real git repository, then renders what the model was sent — the system prompt,
the first user message, the tool specs, and every tool call and result of the run — as Markdown
with the variable parts (temporary paths, call ids, agent names, digests, the budget's tokens and
time, test timings) replaced by placeholders. The rendering is compared with the file under
`transcripts/`, so a changed prompt, tool schema or tool output shows up as a reviewed diff.

To accept a change, re-run with SWARM_UPDATE_GOLDEN=1 and commit the rewritten files.
"""

from __future__ import annotations

import copy
import difflib
import json
import os
import re
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any, cast

import pytest

from app.agent.inbox import MemoryInbox
from app.agent.names import agent_name
from app.agent.session import Session, SessionResult
from app.agent.untrusted import quoted
from app.flows.render import task_issue_body
from app.llm.types import Message, ModelResponse, ToolCall, ToolSpec
from app.repo_config import parse_repo_config
from app.roles import planner, worker
from app.roles.limits import agent_config
from app.roles.plan import Plan, validate_plan
from app.sandbox.base import Limits
from app.sandbox.settings import SandboxSettings
from tests.agent.scripted import ScriptedModel, reply

UPDATE_ENV = "SWARM_UPDATE_GOLDEN"
GOLDEN_DIR = Path(__file__).parent / "transcripts"
REPO_NAME = "octo/textkit"
GOAL_NUMBER, TASK_NUMBER = 7, 8
TOKEN_BUDGET = 500_000

# -- the repository ------------------------------------------------------------------------------

REPO_FILES = {
    "README.md": "# textkit\n\nSmall text utilities.\n\n"
    "- `normalize_whitespace(text)`: collapse runs of whitespace.\n",
    "AGENTS.md": "# Notes for agents\n\n"
    "- Python 3.11, no dependencies. Keep functions small and typed.\n"
    "- Every function has a test in `tests/`. Run `python3 -m unittest -q` before you finish.\n",
    ".gitignore": "__pycache__/\n*.pyc\n",
    ".github/swarm.yml": "test_command: python3 -m unittest -q\nmax_agents: 3\n",
    ".swarm/skills/add-helper.md": "# Add a helper: its module, its export and its test\n\n"
    "1. Write `textkit/<name>.py` with one typed function.\n"
    "2. Export it from `textkit/__init__.py`.\n"
    "3. Add `tests/test_<name>.py` and run `python3 -m unittest -q`.\n",
    "textkit/__init__.py": '"""textkit: small text utilities."""\n\n'
    "from textkit.core import normalize_whitespace\n\n"
    '__all__ = ["normalize_whitespace"]\n',
    "textkit/core.py": "def normalize_whitespace(text: str) -> str:\n"
    '    """Collapse every run of whitespace into one space and trim the ends."""\n'
    '    return " ".join(text.split())\n',
    "tests/__init__.py": "",
    "tests/test_core.py": "import unittest\n\nfrom textkit import normalize_whitespace\n\n\n"
    "class NormalizeWhitespaceTest(unittest.TestCase):\n"
    "    def test_collapses_runs(self) -> None:\n"
    '        self.assertEqual(normalize_whitespace("  a \\n b\\t c "), "a b c")\n',
}


def git(repo: Path, *args: str) -> str:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_AUTHOR_DATE": "2025-01-01T00:00:00Z",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.com",
        "GIT_COMMITTER_DATE": "2025-01-01T00:00:00Z",
    }
    done = subprocess.run(
        ["git", "-C", str(repo), *args], check=True, capture_output=True, text=True, env=env
    )
    return done.stdout


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "worktree"
    for relative, text in REPO_FILES.items():
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_text(text)
    git(root, "init", "-q", "-b", "main")
    git(root, "add", ".")
    git(root, "commit", "-qm", "init")
    return root


# -- the scripts ---------------------------------------------------------------------------------
# Turns in the demo script's shape (`app/demo/script.py`): optional text, then tool calls.

PLAN: dict[str, Any] = {
    "summary": "Two independent modules with tests, then the README once both exist.",
    "tasks": [
        {
            "key": "words",
            "title": "Add word_count",
            "spec": "Add `textkit/words.py` with `word_count(text) -> int`, export and test it.",
            "acceptance": ["word_count('one two  three') == 3", "the tests pass"],
            "files": ["textkit/words.py", "textkit/__init__.py", "tests/test_words.py"],
            "size": "S",
        },
        {
            "key": "slug",
            "title": "Add slugify",
            "spec": "Add `textkit/slug.py` with `slugify(text) -> str` and a test.",
            "acceptance": ["slugify('Hello, World!') == 'hello-world'", "the tests pass"],
            "files": ["textkit/slug.py", "tests/test_slug.py"],
        },
        {
            "key": "docs",
            "title": "Document word_count and slugify in the README",
            "spec": "List the two new helpers in README.md with one line each.",
            "acceptance": ["README.md mentions word_count and slugify"],
            "files": ["README.md"],
            "depends_on": ["words", "slug"],
            "size": "S",
        },
    ],
}
# A first try the plan's validation refuses: it depends on a task that is not in it.
BROKEN_PLAN: dict[str, Any] = {
    "tasks": [
        {
            "key": "docs",
            "title": "Document word_count in the README",
            "spec": "List word_count in README.md.",
            "acceptance": ["README.md mentions word_count"],
            "depends_on": ["words"],
        }
    ],
}

PLANNER_TURNS: list[dict[str, Any]] = [
    {"text": "Let me see the project.", "tool_calls": [("list_files", {})]},
    {"tool_calls": [("read_file", {"path": "textkit/core.py"})]},
    {"tool_calls": [("search", {"pattern": "normalize_whitespace", "glob": "*.py"})]},
    {"tool_calls": [("submit_plan", BROKEN_PLAN)]},
    {"text": "The plan needs the helpers first.", "tool_calls": [("submit_plan", PLAN)]},
    {"tool_calls": [("finish", {"summary": "Planned three tasks."})]},
]

WORDS_PY = '''\
def word_count(text: str) -> int:
    """The number of whitespace-separated words in `text`."""
    return len(text.split())
'''
WORDS_TEST = """\
import unittest

from textkit import word_count


class WordCountTest(unittest.TestCase):
    def test_counts_words(self) -> None:
        self.assertEqual(word_count("one two  three"), 3)
        self.assertEqual(word_count(""), 0)
"""
OLD_INIT = 'from textkit.core import normalize_whitespace\n\n__all__ = ["normalize_whitespace"]'
NEW_INIT = (
    "from textkit.core import normalize_whitespace\nfrom textkit.words import word_count\n\n"
    '__all__ = ["normalize_whitespace", "word_count"]'
)

WORKER_TURNS: list[dict[str, Any]] = [
    {"text": "Reading the code first.", "tool_calls": [("list_files", {"path": "."})]},
    {"tool_calls": [
        ("read_file", {"path": "textkit/__init__.py"}),
        ("read_file", {"path": "textkit/core.py", "start_line": 2, "end_line": 3}),
    ]},
    {"tool_calls": [
        ("write_file", {"path": "textkit/words.py", "content": WORDS_PY}),
        ("write_file", {"path": "tests/test_words.py", "content": WORDS_TEST}),
    ]},
    {"tool_calls": [("replace", {
        "path": "textkit/__init__.py", "old": " " + OLD_INIT.split("\n")[0], "new": "x",
    })]},
    {"tool_calls": [
        ("replace", {"path": "textkit/__init__.py", "old": OLD_INIT, "new": NEW_INIT}),
    ]},
    {"tool_calls": [("search", {"pattern": "word_count", "path": "textkit"})]},
    {"tool_calls": [("run", {"command": "python3 -m unittest -q 2>&1"})]},
    {"tool_calls": [("finish", {
        "summary": "Added textkit/words.py with word_count, exported it and tested it; "
                   "python3 -m unittest -q passes.",
    })]},
]  # fmt: skip


def responses(turns: Sequence[dict[str, Any]]) -> list[ModelResponse]:
    made: list[ModelResponse] = []
    count = 0
    for turn in turns:
        calls = []
        for name, arguments in turn["tool_calls"]:
            count += 1
            raw = json.dumps(arguments)
            calls.append(ToolCall(f"call_{count}", name, raw, json.loads(raw)))
        made.append(reply(*calls, text=turn.get("text", "")))
    return made


class RecordingModel(ScriptedModel):
    """The scripted model, also keeping the tool specs of every request and every answer."""

    def __init__(self, turns: Sequence[dict[str, Any]]) -> None:
        super().__init__(responses(turns))
        self.tool_specs: list[list[ToolSpec]] = []
        self.answers: list[ModelResponse] = []

    async def query(
        self, messages: list[Message], tools: list[ToolSpec], *, max_tokens: int
    ) -> ModelResponse:
        if tools:
            self.tool_specs.append(copy.deepcopy(tools))
        answer = await super().query(messages, tools, max_tokens=max_tokens)
        if tools:
            self.answers.append(copy.deepcopy(answer))
        return answer


# -- running a role as the product does ----------------------------------------------------------


@pytest.fixture(autouse=True)
def ripgrep_on_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """The search tool's description depends on whether `rg` is on this machine's PATH; pin it
    to the deployed image's (which has ripgrep). Without rg in the sandbox, the tool falls back
    to its Python search, whose output for these searches is the same."""
    which = shutil.which

    def with_rg(command: str, *args: Any, **kwargs: Any) -> str | None:
        return "/usr/bin/rg" if command == "rg" else which(command, *args, **kwargs)

    monkeypatch.setattr(shutil, "which", with_rg)


def sandbox_settings() -> SandboxSettings:
    """The default limits, whatever SWARM_SANDBOX_* say here (the `run` tool describes them);
    SWARM_ALLOW_UNSANDBOXED still comes from the environment, as in the product."""
    limits = Limits()
    return SandboxSettings(
        sandbox_processes=limits.processes,
        sandbox_memory_mb=limits.memory_mb,
        sandbox_file_size_mb=limits.file_size_mb,
        sandbox_tmp_mb=limits.tmp_mb,
        sandbox_worktree_mb=limits.worktree_mb,
    )


def goal_text() -> str:
    """As `app.flows.goal.goal_text` frames the goal's issue."""
    body = (
        "Add text statistics helpers\n\n"
        "textkit needs two more helpers, each with tests, and the README should document them:\n\n"
        "- `word_count(text)`: the number of words in a text;\n"
        "- `slugify(text)`: a lower-case, dash-separated slug for a title.\n"
    )
    return f"Goal #{GOAL_NUMBER}, as its issue says:\n\n" + quoted("issue", body)[0]


def task_text() -> str:
    """As `app.flows.task.task_text` frames the task's issue, written from the plan's task."""
    task = validate_plan(PLAN).tasks[0]
    body = f"{task.title} (#{TASK_NUMBER})\n\n{task_issue_body(GOAL_NUMBER, task, [])}"
    return quoted("issue", body)[0]


async def run_role(
    role: str, repo: Path, tmp_path: Path, task: str, turns: Sequence[dict[str, Any]]
) -> tuple[RecordingModel, SessionResult, Plan | None]:
    """The role run in its session as `app.flows.work` wires it (minus the worker's
    checkpointing supervisor, which needs a pushable worktree), with the repository's config."""
    config = parse_repo_config(REPO_FILES[".github/swarm.yml"])
    model = RecordingModel(turns)
    number = GOAL_NUMBER if role == "planner" else TASK_NUMBER
    session = Session(
        agent_name=agent_name(f"{REPO_NAME}#{number}", role),
        worktree=repo,
        model=cast(Any, model),
        transcript=tmp_path / "transcripts" / f"{role}.jsonl",
        inbox=MemoryInbox(),
        config=agent_config(config.agent, TOKEN_BUDGET),
        protected=config.protected_paths,
        command_timeout_s=config.agent.command_timeout_seconds,
        sandbox_settings=sandbox_settings(),
    )
    plan: Plan | None = None
    if role == "planner":
        planned = await planner.plan(session, task)
        result, plan = planned.session, planned.plan
    else:
        result = await worker.work(session, task, test_command=config.test_command)
    assert not model.turns, "the run ended before the script did"
    return model, result, plan


# -- normalising and rendering -------------------------------------------------------------------

_BUDGET = re.compile(
    r"\[Budget left: (\d+) turns including this one, [\d,]+ tokens, (?:\d+ min )?\d+ s\."
)
_FRAME_ID = re.compile(r'(</?github-[a-z-]+ id=")[0-9a-f]{16}(")')
_SHA = re.compile(r"\b[0-9a-f]{40}\b")
_TEST_TIME = re.compile(r"(Ran \d+ tests? in )\d+\.\d+s")


class Normaliser:
    """Replaces what changes from run to run, or machine to machine, with placeholders."""

    def __init__(self, paths: dict[str, Path], names: Sequence[str]) -> None:
        self.literals: list[tuple[str, str]] = []
        for placeholder, path in paths.items():
            for form in {str(path), str(path.resolve())}:
                self.literals.append((form, placeholder))
        self.literals += [(name, "<agent-name>") for name in names]
        self.literals.sort(key=lambda pair: -len(pair[0]))  # the worktree before its tmp dir
        self.call_ids: dict[str, str] = {}

    def text(self, value: str) -> str:
        for literal, placeholder in self.literals:
            value = value.replace(literal, placeholder)
        value = _BUDGET.sub(r"[Budget left: \1 turns including this one, <tokens> tokens, <time>.",
                            value)  # fmt: skip
        value = _FRAME_ID.sub(r"\1<digest>\2", value)
        value = _SHA.sub("<sha>", value)
        return _TEST_TIME.sub(r"\1<seconds>s", value)

    def call_id(self, value: str | None) -> str:
        if value is None:
            return "<none>"
        return self.call_ids.setdefault(value, f"<call-{len(self.call_ids) + 1}>")

    def data(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, list):
            return [self.data(item) for item in value]
        if isinstance(value, dict):
            return {key: self.data(item) for key, item in value.items()}
        return value


def block(text: str, language: str = "text") -> str:
    """A fenced block that the text itself cannot close."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{language}\n{text}\n{fence}"


def as_json(value: Any) -> str:
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False)


def render(
    role: str, model: RecordingModel, result: SessionResult, norm: Normaliser, extra: list[str]
) -> str:
    requests = model.requests
    first = requests[0]
    assert [m.role for m in first] == ["system", "user"], [m.role for m in first]
    specs = model.tool_specs[0]
    assert all(s == specs for s in model.tool_specs), "the tools changed between requests"
    out = [
        f"# Golden transcript: the {role}",
        "",
        "Written by `tests/golden/test_golden_transcripts.py`; do not edit by hand. When the test",
        f"fails on an intended change, re-run it with `{UPDATE_ENV}=1` and commit this file.",
        "Placeholders: `<worktree>`, `<tmp>`, `<agent-name>`, `<call-N>`, `<digest>`, `<sha>`,",
        "`<tokens>` and `<time>` (of the budget note), `<seconds>` (of a test run).",
        "",
        "## System prompt",
        "",
        block(norm.text(first[0].content)),
        "",
        "## First user message",
        "",
        block(norm.text(first[1].content)),
        "",
        f"## Tools ({len(specs)}, the same in every request)",
    ]
    for spec in specs:
        out += [
            "",
            f"### `{spec.name}`",
            "",
            block(norm.text(spec.description)),
            "",
            block(as_json(norm.data(spec.parameters)), "json"),
        ]
    out += ["", f"## Conversation ({len(requests)} model requests)"]
    sent: list[Message] = first
    for number, (request, answer) in enumerate(zip(requests, model.answers, strict=True), 1):
        if number > 1:
            if request[: len(sent)] == sent:
                out += _messages(request[len(sent) :], norm)
            else:  # compaction rewrote the history: show the whole request
                out += ["", "(the history was rewritten; the whole request follows)"]
                out += _messages(request[1:], norm)
        out += ["", f"### Request {number} sent ({len(request)} messages); the model answers"]
        out += _messages([answer.message], norm, stop=answer.stop_reason)
        sent = [*request, answer.message]
    outcome = result.outcome
    out += [
        "",
        "## Outcome",
        "",
        block(as_json(norm.data({"status": outcome.status, "turns": outcome.turns,
                                 "reason": outcome.reason, "summary": outcome.summary})), "json"),
    ]  # fmt: skip
    return "\n".join([*out, *extra]) + "\n"


def _messages(messages: Sequence[Message], norm: Normaliser, stop: str = "") -> list[str]:
    out: list[str] = []
    for message in messages:
        if message.role == "tool":
            error = ", error" if message.is_error else ""
            out += ["", f"#### tool result for {norm.call_id(message.tool_call_id)}{error}"]
        elif message.role == "assistant":
            out += ["", f"#### assistant (stop: {stop})" if stop else "#### assistant"]
        else:
            out += ["", f"#### {message.role}"]
        if message.content or message.role != "assistant":
            out += ["", block(norm.text(message.content))]
        for call in message.tool_calls:
            arguments = norm.data(call.arguments) if call.arguments is not None else None
            shown = as_json(arguments) if arguments is not None else norm.text(call.raw_arguments)
            out += ["", f"call {norm.call_id(call.id)}: `{call.name}`", "", block(shown, "json")]
    return out


# -- comparing -----------------------------------------------------------------------------------


def check_golden(name: str, actual: str, directory: Path = GOLDEN_DIR) -> None:
    """Compare with the checked-in golden; with SWARM_UPDATE_GOLDEN=1, (re)write it instead."""
    path = directory / name
    shown = path.relative_to(GOLDEN_DIR.parents[2]) if path.is_relative_to(GOLDEN_DIR) else path
    if os.environ.get(UPDATE_ENV, "") not in ("", "0"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual, encoding="utf-8", newline="\n")
        return
    if not path.exists():
        pytest.fail(f"{shown} is missing: run the test with {UPDATE_ENV}=1 to record it.",
                    pytrace=False)  # fmt: skip
    expected = path.read_text(encoding="utf-8")
    if expected == actual:
        return
    diff = "".join(
        difflib.unified_diff(
            expected.splitlines(keepends=True),
            actual.splitlines(keepends=True),
            fromfile=f"{shown} (checked in)",
            tofile=f"{shown} (this run)",
        )
    )
    pytest.fail(
        f"What the agent sends the model changed; {shown} differs:\n\n{diff}\n"
        f"If the change is intended, re-run with {UPDATE_ENV}=1 to rewrite the golden, e.g.\n"
        f"    {UPDATE_ENV}=1 .venv/bin/pytest -q -p no:cacheprovider tests/golden\n"
        "and commit it, so the change is reviewed in the pull request.",
        pytrace=False,
    )


# -- the tests -----------------------------------------------------------------------------------


def normaliser(role: str, repo: Path, tmp_path: Path) -> Normaliser:
    number = GOAL_NUMBER if role == "planner" else TASK_NUMBER
    name = agent_name(f"{REPO_NAME}#{number}", role)
    return Normaliser({"<worktree>": repo, "<tmp>": tmp_path}, [name])


async def test_the_planner_sends_what_its_golden_says(repo: Path, tmp_path: Path) -> None:
    model, result, plan = await run_role("planner", repo, tmp_path, goal_text(), PLANNER_TURNS)

    assert result.outcome.status == "finished", result.outcome.reason
    assert plan is not None and [t.key for t in plan.tasks] == ["words", "slug", "docs"]
    norm = normaliser("planner", repo, tmp_path)
    recorded = [
        "",
        "## Plan recorded by `submit_plan`",
        "",
        block(as_json(plan.model_dump()), "json"),
    ]
    check_golden("planner.md", render("planner", model, result, norm, recorded))


async def test_the_worker_sends_what_its_golden_says(repo: Path, tmp_path: Path) -> None:
    model, result, _ = await run_role("worker", repo, tmp_path, task_text(), WORKER_TURNS)

    assert result.outcome.status == "finished", result.outcome.reason
    norm = normaliser("worker", repo, tmp_path)
    status = git(repo, "status", "--porcelain", "--untracked-files=all").rstrip("\n")
    changed = ["", "## The worktree afterwards (`git status --porcelain`)", "", block(status)]
    check_golden("worker.md", render("worker", model, result, norm, changed))


def test_a_changed_golden_fails_with_a_diff_and_how_to_accept_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(UPDATE_ENV, raising=False)
    (tmp_path / "x.md").write_text("You are a worker.\nRun the tests.\n")

    with pytest.raises(pytest.fail.Exception) as failed:
        check_golden("x.md", "You are a worker.\nRun all the tests.\n", tmp_path)

    message = str(failed.value)
    assert "-Run the tests.\n+Run all the tests.\n" in message
    assert f"{UPDATE_ENV}=1" in message
    check_golden("x.md", "You are a worker.\nRun the tests.\n", tmp_path)  # equal: passes

    monkeypatch.setenv(UPDATE_ENV, "1")
    check_golden("x.md", "rewritten\n", tmp_path)
    assert (tmp_path / "x.md").read_text() == "rewritten\n"
