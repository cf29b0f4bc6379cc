"""The tolerant views of webhook payloads (`app.events.payloads`): every real delivery of their
kind is accepted, and so is one that lacks fields githubkit requires but no handler reads."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from app.events.dispatch import check_schema
from app.events.payloads import (
    Account,
    Event,
    InstallationEvent,
    IssueCommentEvent,
    IssueEvent,
    RepositoryRef,
)
from tests.unit.webhook_deliveries import ALL_DELIVERIES, case_id, deliveries, load


def test_every_delivery_has_the_common_envelope() -> None:
    for path in ALL_DELIVERIES:
        payload = load(path)
        event = Event.model_validate(payload)
        assert event.action == payload.get("action"), path
        if "sender" in payload:
            assert event.sender is not None, path
            assert event.sender.login == payload["sender"]["login"], path
        if "repository" in payload:
            assert event.repository is not None, path
            assert event.repository.full_name == payload["repository"]["full_name"], path
        if "installation" in payload:
            assert event.installation is not None, path
            assert event.installation.id == payload["installation"]["id"], path


@pytest.mark.parametrize("path", deliveries("issues"), ids=case_id)
def test_every_issues_delivery_is_an_issue_event(path: Path) -> None:
    payload = load(path)
    event = IssueEvent.model_validate(payload)
    assert event.issue.number == payload["issue"]["number"]
    assert event.issue.title == payload["issue"]["title"]
    assert event.issue.body == payload["issue"]["body"]
    assert [label.name for label in event.issue.labels] == [
        label["name"] for label in payload["issue"].get("labels") or []
    ]
    assert event.issue.is_pull_request == ("pull_request" in payload["issue"])


@pytest.mark.parametrize("path", deliveries("issue_comment"), ids=case_id)
def test_every_issue_comment_delivery_is_an_issue_comment_event(path: Path) -> None:
    payload = load(path)
    event = IssueCommentEvent.model_validate(payload)
    assert event.issue.number == payload["issue"]["number"]
    assert event.comment.id == payload["comment"]["id"]
    assert event.comment.body == payload["comment"]["body"]
    assert event.comment.user.login == payload["comment"]["user"]["login"]


@pytest.mark.parametrize(
    "path", deliveries("installation", "installation_repositories"), ids=case_id
)
def test_every_installation_delivery_is_an_installation_event(path: Path) -> None:
    payload = load(path)
    event = InstallationEvent.model_validate(payload)
    assert event.installation is not None
    assert event.installation.id == payload["installation"]["id"]
    assert [r.full_name for r in event.repositories] == [
        r["full_name"] for r in payload.get("repositories") or []
    ]
    assert [r.full_name for r in event.repositories_added] == [
        r["full_name"] for r in payload.get("repositories_added") or []
    ]


def test_the_label_that_was_added_is_read() -> None:
    event = IssueEvent.model_validate(load("issues/labeled.payload.json"))
    assert event.action == "labeled"
    assert event.label is not None and event.label.name == "bug"
    assert event.repository is not None and event.repository.default_branch == "master"


def test_an_issue_comment_githubkit_refuses_for_missing_fields_is_still_read() -> None:
    payload = load("issue_comment/created.payload.json")
    for item in ("issue", "comment"):
        del payload[item]["node_id"]
        del payload[item]["user"]["node_id"]
        del payload[item]["author_association"]
    del payload["repository"]["node_id"]
    assert check_schema("issue_comment", payload) is not None
    event = IssueCommentEvent.model_validate(payload)
    assert (event.issue.number, event.comment.id) == (1, 492700400)
    assert event.comment.user.login == "Codertocat"


def test_an_installation_githubkit_refuses_is_still_read() -> None:
    payload = load("installation/created.payload.json")
    assert check_schema("installation", payload) is not None  # no app_slug in the delivery
    event = InstallationEvent.model_validate(payload)
    assert event.installation is not None and event.installation.id == 957387
    assert [r.full_name for r in event.repositories] == ["Codertocat/Hello-World"]


def test_an_issue_event_needs_only_what_a_handler_reads() -> None:
    event = IssueEvent.model_validate(
        {
            "action": "labeled",
            "issue": {"number": 5},
            "label": {"name": "swarm"},
            "repository": {"full_name": "octo/demo"},
            "installation": {"id": 9},
            "sender": {"login": "alice"},
        }
    )
    assert event.issue.number == 5
    assert event.issue.title == "" and event.issue.body is None and event.issue.labels == []
    assert event.issue.state == "open"
    assert event.label is not None and event.label.name == "swarm"
    assert event.repository is not None and event.repository.default_branch == "main"
    assert event.sender is not None and event.sender.type == "User"


@pytest.mark.parametrize(
    ("view", "payload"),
    [
        (IssueEvent, {"action": "opened"}),  # no issue
        (IssueEvent, {"issue": {"title": "no number"}}),
        (IssueCommentEvent, {"issue": {"number": 1}}),  # no comment
        (IssueCommentEvent, {"issue": {"number": 1}, "comment": {"id": 2}}),  # no author
        (Event, {"repository": {"name": "no full name"}}),
        (Event, {"installation": {}}),
    ],
)
def test_a_payload_without_what_a_handler_reads_is_refused(view: Any, payload: Any) -> None:
    with pytest.raises(ValidationError):
        view.model_validate(payload)


def test_an_issue_comment_on_a_pull_request_is_recognised() -> None:
    payload = load("issue_comment/created.payload.json")
    payload["issue"]["pull_request"] = {"url": "https://api.github.com/repos/o/r/pulls/1"}
    assert IssueCommentEvent.model_validate(payload).issue.is_pull_request


def test_views_are_frozen() -> None:
    event = IssueEvent.model_validate(load("issues/opened.payload.json"))
    with pytest.raises(ValidationError):
        event.issue.number = 2  # type: ignore[misc]


def test_a_repository_is_owner_and_name() -> None:
    repo = RepositoryRef(full_name="octo-org/octo.repo")
    assert (repo.owner, repo.name) == ("octo-org", "octo.repo")


@pytest.mark.parametrize(
    ("login", "kind", "bot"),
    [
        ("swarm-dev[bot]", "Bot", True),
        ("dependabot[bot]", "User", True),  # the login alone says so
        ("github-actions", "Bot", True),  # the type alone says so
        ("alice", "User", False),
        ("robot", "User", False),
        ("bot", "User", False),
        ("botanist", "Organization", False),
        ("alice[bot]-fan", "User", False),
    ],
)
def test_bots_are_known_by_their_login_or_type(login: str, kind: str, bot: bool) -> None:
    assert Account(login=login, type=kind).is_bot is bot


def test_a_bot_comment_in_a_real_delivery_is_seen_as_a_bot() -> None:
    payload = load("issue_comment/created.payload.json")
    payload["comment"]["user"].update(login="swarm-dev[bot]", type="Bot")
    payload["sender"].update(login="swarm-dev[bot]", type="Bot")
    event = IssueCommentEvent.model_validate(payload)
    assert event.comment.user.is_bot
    assert event.sender is not None and event.sender.is_bot


def test_a_person_in_a_real_delivery_is_not_a_bot() -> None:
    event = IssueCommentEvent.model_validate(load("issue_comment/created.payload.json"))
    assert not event.comment.user.is_bot
    assert event.sender is not None and not event.sender.is_bot
