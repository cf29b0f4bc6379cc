"""The roles' system prompt templates, one Markdown file per role."""

from __future__ import annotations

from importlib import resources

from app.agent.prompts import ROLES, Role


def role_prompt(role: Role) -> str:
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}: use one of {', '.join(ROLES)}")
    return resources.files(__name__).joinpath(f"{role}.md").read_text("utf-8")
