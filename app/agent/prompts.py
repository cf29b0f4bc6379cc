"""Prompts: a role's system prompt (its template, from `app.roles`) filled with what the
repository says, and the task's first message (`templates/task.md`).

The system prompt holds only what stays fixed for a run (role, rules, the repository's
instructions, the list of skills), so it is a stable, cacheable prefix; the task goes in the first
user message and the changing budget note at the end of each request (see `loop.py`).

Files are read from the worktree on the orchestrator's side of the sandbox, so every read is
confined to the worktree (a symlinked `AGENTS.md` must not pull `~/.ssh` into a prompt) and capped.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from string import Template
from typing import Literal

Role = Literal["planner", "worker", "judge", "reconciler", "checker"]
ROLES: tuple[Role, ...] = ("planner", "worker", "judge", "reconciler", "checker")

INSTRUCTION_FILES = ("AGENTS.md", "CLAUDE.md", ".github/copilot-instructions.md")
SKILLS_DIR = ".swarm/skills"
MAX_INSTRUCTION_CHARS = 12_000  # all instruction files together
MAX_SKILLS = 40


@dataclass(frozen=True)
class Skill:
    name: str
    path: str  # relative to the worktree, for the read tool
    first_line: str


@dataclass
class RepoGuidance:
    instructions: list[tuple[str, str]] = field(default_factory=list)  # (path, text)
    skills: list[Skill] = field(default_factory=list)


def _read_confined(root: Path, relative: str, max_chars: int) -> str | None:
    """The text of a regular file inside `root` (symlinks may not lead out), or None."""
    try:
        path = (root / relative).resolve(strict=True)
        if not path.is_relative_to(root.resolve()) or not path.is_file():
            return None
        with path.open("rb") as file:
            data = file.read(max_chars * 4 + 4)  # enough bytes for max_chars characters
    except OSError:
        return None
    text = data.decode("utf-8", errors="replace")
    return text if len(text) <= max_chars else text[:max_chars] + "\n[… cut …]"


def _first_line(text: str) -> str:
    line = next((ln.strip() for ln in text.splitlines() if ln.strip()), "")
    line = line.lstrip("#").strip()
    return line if len(line) <= 160 else line[:159] + "…"


def read_repo_guidance(worktree: Path, *, max_chars: int = MAX_INSTRUCTION_CHARS) -> RepoGuidance:
    guidance = RepoGuidance()
    left = max_chars
    for relative in INSTRUCTION_FILES:
        if left <= 0:
            break
        text = _read_confined(worktree, relative, left)
        if text and text.strip():
            guidance.instructions.append((relative, text.strip()))
            left -= len(text)
    skills_dir = worktree / SKILLS_DIR
    if skills_dir.is_dir():
        for path in sorted(skills_dir.glob("*.md"))[:MAX_SKILLS]:
            relative = path.relative_to(worktree).as_posix()
            text = _read_confined(worktree, relative, 2000)
            if text is not None:
                guidance.skills.append(Skill(path.stem, relative, _first_line(text)))
    return guidance


def _template(name: str) -> Template:
    text = resources.files("app.agent").joinpath("templates", f"{name}.md").read_text("utf-8")
    return Template(text)


def _render_instructions(guidance: RepoGuidance) -> str:
    if not guidance.instructions:
        return "(The repository has no AGENTS.md, CLAUDE.md or copilot instructions.)"
    parts = ["Follow these conventions unless they conflict with the rules above."]
    parts += [f"### From `{path}`\n\n{text}" for path, text in guidance.instructions]
    return "\n\n".join(parts)


def _render_skills(guidance: RepoGuidance) -> str:
    if not guidance.skills:
        return "(No skills in `.swarm/skills/`.)"
    lines = ["Reusable workflows of this repository. When one fits, read its file and follow it."]
    lines += [f"- `{s.name}` ({s.path}): {s.first_line}" for s in guidance.skills]
    return "\n".join(lines)


def system_prompt(template: str, agent_name: str, guidance: RepoGuidance) -> str:
    """A role's template (`$agent_name`, `$repo_instructions`, `$skills`) filled in."""
    return Template(template).substitute(
        agent_name=agent_name,
        repo_instructions=_render_instructions(guidance),
        skills=_render_skills(guidance),
    )


def task_message(task: str, *, resume_summary: str | None = None) -> str:
    """The first user message: the task, and where an earlier agent left it, if one did."""
    resume = ""
    if resume_summary:
        resume = f"\nWhere an earlier attempt left this task:\n\n{resume_summary}\n"
    return _template("task").substitute(task=task.strip(), resume=resume)
