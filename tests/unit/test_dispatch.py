"""What the delivery workflow reads of a payload before its handlers run
(`app.events.dispatch`): githubkit's verdict on the schema, and the `owner/repo#n` it is about."""

from __future__ import annotations

import copy

import pytest
from githubkit.webhooks import parse_obj

from app.events.dispatch import _target, check_schema
from tests.unit.webhook_deliveries import ALL_DELIVERIES, case_id, deliveries, load

# githubkit builds its model of an event the first time it parses one: seconds for `issues`
# and `pull_request`. These events' models build fast, so the whole folder stays quick.
SCHEMA_EVENTS = (
    "issue_comment",
    "installation",
    "installation_repositories",
    "ping",
    "create",
    "delete",
    "label",
)
# Deliveries githubkit's models accept as they are.
ACCEPTED = [
    "issue_comment/created.payload.json",
    "issue_comment/edited.with-organization.payload.json",
    "installation/suspend.payload.json",
    "ping/payload.json",
    "create/payload.json",
]
ABOUT_AN_ISSUE_OR_PR = (
    "issues",
    "issue_comment",
    "pull_request",
    "pull_request_review",
    "pull_request_review_comment",
    "pull_request_review_thread",
)


def githubkit_accepts(event: str, payload: dict) -> bool:  # type: ignore[type-arg]
    try:
        parse_obj(event, payload)  # type: ignore[call-overload]
    except Exception:
        return False
    return True


def without(name: str, *path: str) -> dict:  # type: ignore[type-arg]
    """The delivery with the field at `path` removed."""
    payload = load(name)
    parent = payload
    for key in path[:-1]:
        parent = parent[key]
    del parent[path[-1]]
    return payload


def test_every_event_folder_is_there() -> None:
    assert len(ALL_DELIVERIES) >= 130
    assert {p.parent.name for p in ALL_DELIVERIES} >= {*ABOUT_AN_ISSUE_OR_PR, *SCHEMA_EVENTS}


@pytest.mark.parametrize("name", ACCEPTED)
def test_a_delivery_githubkit_accepts_has_no_mismatch(name: str) -> None:
    assert check_schema(name.split("/")[0], load(name)) is None


def test_the_verdict_on_a_real_delivery_is_githubkits_and_leaves_it_as_it_was() -> None:
    verdicts = {}
    for path in deliveries(*SCHEMA_EVENTS):
        payload = load(path)
        before = copy.deepcopy(payload)
        verdict = verdicts[case_id(path)] = check_schema(path.parent.name, payload)
        assert payload == before, path
        if githubkit_accepts(path.parent.name, load(path)):
            assert verdict is None, path
        else:
            assert isinstance(verdict, str) and "field(s), first:" in verdict, path
    assert len(verdicts) >= 30
    assert None in verdicts.values()
    assert any(verdicts.values())


def test_some_real_deliveries_do_not_match_githubkits_schema() -> None:
    """Why the handlers read tolerant views: GitHub sends what githubkit's models refuse."""
    reason = check_schema("installation", load("installation/created.payload.json"))
    assert reason == "1 field(s), first: ('created', 'installation', 'app_slug')"


@pytest.mark.parametrize(
    ("name", "path", "where"),
    [
        (
            "issue_comment/created.payload.json",
            ("comment", "author_association"),
            "('created', 'comment', 'author_association')",
        ),
        (
            "issue_comment/created.payload.json",
            ("repository", "full_name"),
            "('created', 'repository', 'full_name')",
        ),
        (
            "issue_comment/created.payload.json",
            ("comment", "user"),
            "('created', 'comment', 'user')",
        ),
        (
            "installation/suspend.payload.json",
            ("installation", "id"),
            "('suspend', 'installation', 'id')",
        ),
        ("delete/payload.json", ("ref",), "('ref',)"),
        ("create/payload.json", ("ref_type",), "('ref_type',)"),
    ],
)
def test_a_delivery_missing_a_required_field_gets_a_reason_that_says_where(
    name: str, path: tuple[str, ...], where: str
) -> None:
    assert check_schema(name.split("/")[0], load(name)) is None
    assert check_schema(name.split("/")[0], without(name, *path)) == f"1 field(s), first: {where}"


def test_a_reason_counts_every_missing_field() -> None:
    payload = without("issue_comment/created.payload.json", "comment", "node_id")
    del payload["comment"]["author_association"]
    reason = check_schema("issue_comment", payload)
    assert reason is not None and reason.startswith("2 field(s), first:")


@pytest.mark.parametrize("event", ["no_such_event", "issues_but_not_really"])
def test_an_event_githubkit_does_not_know_gets_a_reason(event: str) -> None:
    reason = check_schema(event, load("ping/payload.json"))
    assert reason == f"WebhookTypeNotFound: {event}"


def test_a_payload_of_another_event_gets_a_reason() -> None:
    assert check_schema("create", load("ping/payload.json")) is not None


@pytest.mark.parametrize(
    ("name", "target"),
    [
        ("issues/opened.payload.json", "Codertocat/Hello-World#1"),
        ("issues/demilestoned.payload.json", "Codertocat/Hello-World#2"),
        ("issues/transferred.payload.json", "octo-org/octo-repo#1"),
        ("issue_comment/created.payload.json", "Codertocat/Hello-World#1"),
        ("pull_request/opened.payload.json", "Codertocat/Hello-World#2"),
        ("pull_request_review/submitted.payload.json", "Codertocat/Hello-World#2"),
        ("pull_request_review_comment/created.payload.json", "Codertocat/Hello-World#2"),
    ],
)
def test_the_target_of_an_issue_or_pull_request_delivery(name: str, target: str) -> None:
    assert _target(load(name)) == target


def test_every_issue_and_pull_request_delivery_has_its_target_and_no_other_does() -> None:
    about = 0
    for path in ALL_DELIVERIES:
        payload = load(path)
        if path.parent.name in ABOUT_AN_ISSUE_OR_PR:
            about += 1
            item = payload.get("issue") or payload["pull_request"]
            expected = f"{payload['repository']['full_name']}#{item['number']}"
            assert _target(payload) == expected, path
        else:
            assert _target(payload) == "", path
    assert about >= 60


@pytest.mark.parametrize(
    "payload",
    [
        {},
        {"issue": {"number": 3}},  # no repository
        {"repository": None, "issue": {"number": 3}},
        {"repository": {"full_name": "octo/demo"}},  # no issue
        {"repository": {"full_name": "octo/demo"}, "issue": {"title": "no number"}},
        {"repository": {"full_name": "octo/demo"}, "issue": "not an object"},
        {"repository": {}, "pull_request": {"number": 3}},
    ],
)
def test_a_payload_without_repository_and_number_has_no_target(payload: dict) -> None:  # type: ignore[type-arg]
    assert _target(payload) == ""


def test_a_pull_request_target_from_a_bare_payload() -> None:
    payload = {"repository": {"full_name": "octo/demo"}, "pull_request": {"number": 12}}
    assert _target(payload) == "octo/demo#12"
