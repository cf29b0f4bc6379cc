"""Typed references to a repository and to an issue of one."""

from __future__ import annotations

import pytest

from app.domain.refs import IssueRef, RepoRef


def test_repo_ref_parses_owner_and_name() -> None:
    ref = RepoRef.parse("octo/app")
    assert (ref.owner, ref.name) == ("octo", "app")
    assert ref.full_name == "octo/app"
    assert str(ref) == "octo/app"


@pytest.mark.parametrize("bad", ["", "octo", "octo/", "/app", "/", "octo/app/extra", "a//b"])
def test_repo_ref_rejects_what_is_not_owner_slash_name(bad: str) -> None:
    with pytest.raises(ValueError, match="not an owner/name repository") as raised:
        RepoRef.parse(bad)
    assert repr(bad) in str(raised.value)


def test_issue_ref_reaches_its_repository_and_siblings() -> None:
    issue = IssueRef(installation_id=5, repo="octo/app", number=12)
    assert issue.repo_ref == RepoRef("octo", "app")
    assert str(issue) == "octo/app#12"
    sibling = issue.at(13)
    assert sibling == IssueRef(5, "octo/app", 13)
    assert issue.number == 12  # unchanged: the refs are frozen values


def test_issue_ref_with_a_malformed_repository_fails_when_its_repository_is_read() -> None:
    issue = IssueRef(installation_id=5, repo="not-a-repo", number=1)
    with pytest.raises(ValueError, match="not an owner/name repository"):
        _ = issue.repo_ref


def test_refs_are_hashable_values() -> None:
    assert {IssueRef(1, "o/r", 2), IssueRef(1, "o/r", 2)} == {IssueRef(1, "o/r", 2)}
    assert RepoRef.parse("o/r") == RepoRef("o", "r")
