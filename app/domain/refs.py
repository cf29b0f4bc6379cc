"""Typed references: a repository, and an issue (or pull request) of one through an installation.

`(installation_id, repo, number)` used to travel loose and be re-parsed in every step; these carry
it whole, and are plain frozen dataclasses, so DBOS records them as they are.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RepoRef:
    owner: str
    name: str

    @classmethod
    def parse(cls, full_name: str) -> RepoRef:
        owner, _, name = full_name.partition("/")
        if not owner or not name or "/" in name:
            raise ValueError(f"not an owner/name repository: {full_name!r}")
        return cls(owner, name)

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.name}"

    def __str__(self) -> str:
        return self.full_name


@dataclass(frozen=True)
class IssueRef:
    """Issue `number` of `repo` ("owner/name"), reached through installation `installation_id`."""

    installation_id: int
    repo: str
    number: int

    @property
    def repo_ref(self) -> RepoRef:
        return RepoRef.parse(self.repo)

    def at(self, number: int) -> IssueRef:
        """Another issue of the same repository."""
        return IssueRef(self.installation_id, self.repo, number)

    def __str__(self) -> str:
        return f"{self.repo}#{self.number}"
