"""Run one worker agent on a local repository: `swarm agent run --repo PATH --task TEXT`.

`run_local_worker` runs the worker role in the same session as the swarm's own workers (model,
sandbox, tools, prompts, transcript); `agent_cli` is the typer app mounted as `swarm agent`. The
agent works in the repository's working tree in place; committing is left to the user.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

from app.agent.inbox import Inbox, MemoryInbox
from app.agent.loop import AgentConfig, AgentOutcome
from app.agent.names import agent_name
from app.agent.session import Session
from app.agent.transcript import Record
from app.llm import make_model
from app.roles import worker
from app.sandbox import (
    SandboxSettings,
    SandboxUnavailable,
    UnsafeEnvironmentError,
    require_sandbox,
)
from app.workspace.git import GitError, git
from app.workspace.snapshot import diff_of_worktree

MODEL_ENV = "SWARM_WORKER_MODEL"
# The design's defaults: the agent never writes git internals or CI workflows.
PROTECTED_PATHS = (".git/**", ".github/workflows/**")
DATA_DIR_ENV = "SWARM_DATA_DIR"


class ModelNotConfigured(ValueError):
    """No model was named; the message says how to name one."""


def resolve_model_spec(explicit: str | None, environ: Mapping[str, str] = os.environ) -> str:
    spec = explicit or environ.get(MODEL_ENV, "").strip()
    if not spec:
        raise ModelNotConfigured(
            f"no worker model: pass --model provider/model or set {MODEL_ENV} "
            f"(e.g. {MODEL_ENV}=openai/gpt-5 with OPENAI_API_KEY, or "
            "anthropic/claude-sonnet-4-5 with ANTHROPIC_API_KEY)"
        )
    return spec


def default_data_dir(environ: Mapping[str, str] = os.environ) -> Path:
    # Not a directory under the current one: run from the repository root, that would put
    # transcripts into the very worktree the agent edits.
    if environ.get(DATA_DIR_ENV):
        return Path(environ[DATA_DIR_ENV])
    xdg = environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(xdg) / "swarm"


def transcript_path_for(data_dir: Path, name: str) -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    return data_dir / "transcripts" / f"{stamp}-{name}.jsonl"


async def run_local_worker(
    repo: Path,
    task: str,
    model_spec: str,
    *,
    config: AgentConfig | None = None,
    inbox: Inbox | None = None,
    transcript_path: Path | None = None,
    listener: Callable[[Record], None] | None = None,
    name: str | None = None,
    resume_summary: str | None = None,
    protected: Sequence[str] = PROTECTED_PATHS,
    api_key: str | None = None,
    base_url: str | None = None,
    sandbox: SandboxSettings | None = None,
) -> AgentOutcome:
    """Run a worker agent on `repo`'s working tree until it finishes or a limit stops it.

    The checkout's `.git` is hidden from the agent (its config and hooks would otherwise be the
    agent's to write, and git on the host would run them)."""
    repo = repo.resolve()
    name = name or agent_name(f"{repo}\0{task}", "worker")
    model = make_model(model_spec, api_key=api_key, base_url=base_url)
    session = Session(
        agent_name=name,
        worktree=repo,
        model=model,
        transcript=transcript_path or transcript_path_for(default_data_dir(), name),
        inbox=inbox or MemoryInbox(),
        config=config or AgentConfig(),
        protected=protected,
        sandbox_settings=sandbox,
        listener=listener,
    )
    try:
        result = await worker.work(session, task, resume_summary=resume_summary)
    finally:
        await model.aclose()
    return result.outcome


async def diff_stat(repo: Path) -> str:
    """What changed against HEAD, untracked files included, read the way the swarm builds a
    commit: git never runs the checkout's filters or looks into repositories nested in it."""
    try:
        git_dir = Path(await git("rev-parse", "--absolute-git-dir", cwd=repo))
        stat = await diff_of_worktree(git_dir, repo, "HEAD", "--stat")
    except GitError as exc:
        return f"(no git diff: {exc})"
    return stat.rstrip() or "(no changes)"


def _describe_call(call: Mapping[str, Any]) -> str:
    args = call.get("arguments")
    if not isinstance(args, dict):
        return f"{call['name']} (malformed: {call.get('error') or 'not an object'})"
    shown = []
    for key, value in args.items():
        text = str(value)
        shown.append(f"{key}={text}" if len(text) <= 60 else f"{key}=…({len(text)} chars)")
    return f"{call['name']} " + " ".join(shown).replace("\n", "⏎")


def _printer(console: Console) -> Callable[[Record], None]:
    """One line per tool call as the run goes, and one per failed call."""

    def show(record: Record) -> None:
        if record["kind"] == "response":
            for call in record["message"]["tool_calls"]:
                console.print(f"[dim]turn {record['turn']:>3}[/] {escape(_describe_call(call))}")
        elif record["kind"] == "message" and record["message"].get("is_error"):
            first = record["message"]["content"].strip().splitlines()[0][:160]
            console.print(f"[dim]         ↳[/] [yellow]{escape(first)}[/]")
        elif record["kind"] == "compaction":
            console.print(f"[dim]         (history compacted: {record['stage']})[/]")

    return show


agent_cli = typer.Typer(
    help="Run one agent by hand, outside the GitHub flow.", no_args_is_help=True
)


@agent_cli.callback()
def agent_group() -> None:
    """Run one agent by hand, outside the GitHub flow."""
    # A callback keeps `run` a subcommand even while it is the only one.


@agent_cli.command("run")
def run_command(
    repo: Annotated[Path, typer.Option("--repo", help="The repository to work in, in place.")],
    task: Annotated[str, typer.Option("--task", help="What the agent should do.")],
    model: Annotated[
        str | None, typer.Option("--model", help=f"provider/model (default: ${MODEL_ENV})")
    ] = None,
    max_turns: Annotated[int, typer.Option(help="Stop after this many model calls.")] = 80,
    max_minutes: Annotated[float, typer.Option(help="Stop after this much time.")] = 60.0,
) -> None:
    """Run a worker agent on a local repository and show what it did."""
    console = Console(highlight=False, soft_wrap=True)
    if not (repo / ".git").exists():
        console.print(f"[red]{escape(str(repo))} is not a git repository[/]")
        raise typer.Exit(2)
    sandbox = SandboxSettings()
    try:
        isolation = require_sandbox(sandbox)
    except (SandboxUnavailable, UnsafeEnvironmentError) as exc:
        typer.secho(f"swarm: {exc}", fg=typer.colors.RED, err=True)
        raise typer.Exit(2) from None
    try:
        spec = resolve_model_spec(model)
    except ModelNotConfigured as exc:
        console.print(f"[red]{escape(str(exc))}[/]")
        raise typer.Exit(2) from exc
    name = agent_name(f"{repo.resolve()}\0{task}", "worker")
    path = transcript_path_for(default_data_dir(), name)
    console.print(f"[bold]{name}[/] on {escape(str(repo))} with {escape(spec)} ({isolation})")
    config = AgentConfig(max_turns=max_turns, max_seconds=max_minutes * 60)
    try:
        outcome = asyncio.run(
            run_local_worker(
                repo,
                task,
                spec,
                config=config,
                transcript_path=path,
                listener=_printer(console),
                sandbox=sandbox,
            )
        )
    except ValueError as exc:  # a malformed model name, a missing API key
        console.print(f"[red]{escape(str(exc))}[/]")
        raise typer.Exit(2) from exc
    usage = outcome.usage
    colour = "green" if outcome.status == "finished" else "red"
    console.print(
        f"\n[{colour}]{outcome.status}[/] after {outcome.turns} turns ({escape(outcome.reason)}): "
        f"{usage.input_tokens:,} input tokens ({usage.cached_input_tokens:,} cached), "
        f"{usage.output_tokens:,} output tokens, ${outcome.cost_usd:.4f}"
    )
    console.print(f"[bold]Summary:[/] {escape(outcome.summary)}")
    console.print(escape(asyncio.run(diff_stat(repo.resolve()))))
    console.print(f"[dim]transcript: {escape(str(path))}[/]")
    if outcome.status != "finished":
        raise typer.Exit(1)
