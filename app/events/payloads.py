"""Small tolerant views of webhook payloads: only the fields our handlers read.

githubkit's typed models follow today's schema strictly and reject real deliveries that older
GitHub (and GitHub Enterprise Server) still sends; these views accept any payload that has
the few fields a handler needs and ignore everything else.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict


class _View(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class Account(_View):
    login: str
    id: int = 0
    type: str = "User"

    @property
    def is_bot(self) -> bool:
        return self.type == "Bot" or self.login.endswith("[bot]")


class RepositoryRef(_View):
    full_name: str
    id: int = 0
    default_branch: str = "main"

    @property
    def owner(self) -> str:
        return self.full_name.split("/", 1)[0]

    @property
    def name(self) -> str:
        return self.full_name.split("/", 1)[1]


class Installation(_View):
    id: int


class Label(_View):
    name: str


class IssueRef(_View):
    number: int
    id: int = 0
    title: str = ""
    body: str | None = None
    state: str = "open"
    labels: list[Label] = []
    pull_request: dict[str, Any] | None = None

    @property
    def is_pull_request(self) -> bool:
        return self.pull_request is not None


class Comment(_View):
    id: int
    body: str = ""
    user: Account


class Event(_View):
    """The common envelope: who did what, where, through which installation."""

    action: str | None = None
    sender: Account | None = None
    repository: RepositoryRef | None = None
    installation: Installation | None = None


class IssueEvent(Event):
    issue: IssueRef
    label: Label | None = None


class IssueCommentEvent(Event):
    issue: IssueRef
    comment: Comment


class InstallationEvent(Event):
    repositories: list[RepositoryRef] = []
    repositories_added: list[RepositoryRef] = []
    account: Account | None = None
