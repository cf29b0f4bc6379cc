"""Triggers against deliveries as the simulator logs them, and what a timeline reports."""

from __future__ import annotations

from typing import Any

import pytest

from app.demo.expect import check
from app.demo.scenario import Entry, Expect, Trigger
from app.demo.timeline import Timeline, event_name, matches


def delivery(id: int, event: str, action: str | None, **payload: Any) -> dict[str, Any]:
    if action is not None:
        payload["action"] = action
    return {"id": id, "event": event, "action": action, "payload": payload}


PR_OPENED = delivery(
    7,
    "pull_request",
    "opened",
    number=3,
    pull_request={"number": 3, "title": "Add slugify", "draft": False, "head": {"ref": "swarm/2"}},
)
CHECK_RUN = delivery(
    9,
    "check_run",
    "completed",
    check_run={
        "conclusion": "failure",
        "check_suite": {"head_branch": "swarm/2-add-slugify"},
        "pull_requests": [{"number": 3}],
    },
)
PUSH = delivery(8, "push", None, ref="refs/heads/main", deleted=False)


def trigger(event: str, **match: Any) -> Trigger:
    return Trigger(event=event, match=match)


def test_event_names_are_event_dot_action() -> None:
    assert event_name(PR_OPENED) == "pull_request.opened"
    assert event_name(PUSH) == "push"


@pytest.mark.parametrize(
    ("when", "seen", "fires"),
    [
        (trigger("pull_request.opened"), PR_OPENED, True),
        (trigger("pull_request"), PR_OPENED, True),  # the event alone: any action
        (trigger("pull_request.closed"), PR_OPENED, False),
        (trigger("issues.opened"), PR_OPENED, False),
        (trigger("pull_request.opened", **{"pull_request.title": "slugify"}), PR_OPENED, True),
        (trigger("pull_request.opened", **{"pull_request.title": "^slugify"}), PR_OPENED, False),
        (trigger("pull_request.opened", title="^Add slugify$"), PR_OPENED, True),  # own object
        (trigger("pull_request.opened", number=3), PR_OPENED, True),  # a number: equal
        (trigger("pull_request.opened", number=33), PR_OPENED, False),
        (trigger("pull_request.opened", draft=False), PR_OPENED, True),
        (trigger("pull_request.opened", draft="true"), PR_OPENED, False),
        (trigger("pull_request.opened", head="swarm"), PR_OPENED, False),  # not a scalar
        (trigger("pull_request.opened", missing="."), PR_OPENED, False),
        (trigger("check_run.completed", conclusion="failure"), CHECK_RUN, True),
        (
            trigger("check_run.completed", **{"check_run.check_suite.head_branch": "slugify"}),
            CHECK_RUN,
            True,
        ),
        (
            trigger("check_run.completed", **{"check_run.pull_requests.0.number": 3}),
            CHECK_RUN,
            True,
        ),
        (trigger("check_run.completed", **{"pull_requests.1.number": 3}), CHECK_RUN, False),
        (trigger("push", ref="main$", deleted=False), PUSH, True),
        (trigger("start"), PR_OPENED, False),
    ],
)
def test_a_trigger_matches_a_delivery(when: Trigger, seen: dict[str, Any], fires: bool) -> None:
    assert matches(when, seen) is fires


def entry(when: str, **match: Any) -> Entry:
    return Entry.model_validate(
        {"when": {"event": when, "match": match}, "do": {"comment": {"goal": True, "body": "x"}}}
    )


def test_each_entry_fires_once_in_order_and_its_failure_is_kept() -> None:
    acted: list[tuple[int | None, str]] = []

    def act(fired: Entry, seen: dict[str, Any] | None) -> str:
        acted.append((seen["id"] if seen else None, fired.when.event))
        if fired.when.event == "check_run.completed":
            raise RuntimeError("no such pull request")
        return "did it"

    entries = [
        entry("pull_request.opened"),
        entry("start"),
        entry("check_run.completed"),
        entry("issue_comment.created"),
        entry("pull_request"),  # the same delivery fires it too
    ]
    timeline = Timeline(entries, act)
    timeline.cursor = 5
    timeline.start()
    timeline.see([CHECK_RUN, PR_OPENED, delivery(4, "pull_request", "opened")])
    timeline.see([PR_OPENED, CHECK_RUN])  # seen already: nothing fires twice
    assert acted == [
        (None, "start"),
        (7, "pull_request.opened"),
        (7, "pull_request"),
        (9, "check_run.completed"),
    ]
    assert timeline.cursor == 9 and timeline.fired_count == 4
    report = timeline.as_json()
    assert report[0] == {
        "name": "1: comment on pull_request.opened",
        "when": "pull_request.opened",
        "action": "comment",
        "fired": True,
        "delivery": 7,
        "event": "pull_request.opened",
        "did": "did it",
        "error": None,
    }
    assert report[1]["fired"] and report[1]["delivery"] is None and report[1]["event"] == "start"
    assert report[2]["error"] == "RuntimeError: no such pull request"
    assert report[3]["fired"] is False and report[3]["delivery"] is None
    assert timeline.errors == [
        "3: comment on check_run.completed: RuntimeError: no such pull request"
    ]


def report(**overrides: Any) -> dict[str, Any]:
    pr = {"number": 4, "check_conclusion": "success", "merged": False}
    base: dict[str, Any] = {
        "goal": {"number": 1, "state": "prs_open"},
        "tasks": [{}, {}],
        "pull_requests": [pr, {**pr, "number": 5, "merged": True}],
        "timeline": [{"fired": True}, {"fired": False}],
    }
    return {**base, **overrides}


def test_expectations_say_what_was_expected_and_what_came() -> None:
    expect = Expect(goal_state="prs_open", tasks=2, pull_requests=2, merged=2, checks="success")
    outcomes = {o.what: o for o in check(expect, report())}
    assert list(outcomes) == ["goal_state", "tasks", "pull_requests", "merged", "checks"]
    assert [o.what for o in outcomes.values() if not o.ok] == ["merged"]
    assert outcomes["merged"].line() == "FAIL merged: expected 2, got 1"
    assert outcomes["tasks"].line() == "ok   tasks: 2"
    red = report(pull_requests=[{"number": 6, "check_conclusion": "failure", "merged": False}])
    assert check(Expect(checks="success"), red)[0].actual == "#6: failure"
    assert check(Expect(checks="success"), report(pull_requests=[]))[0].actual == "no pull request"
    fired = check(Expect(all_fired=True), report())[0]
    assert (fired.what, fired.ok) == ("all_fired", False)
    assert check(None, report()) == [] and check(Expect(), report()) == []
