"""Signed webhook deliveries to a real HTTP receiver, checked with githubkit's own `verify` and
`parse` (its strict webhook models) for every event the simulator emits."""

from __future__ import annotations

from pathlib import Path

import githubkit.webhooks
import pytest

from app.simulator.github.control import SimulatorControl
from app.simulator.github.server import SimulatorConfig, start_simulator
from tests.simulator.conftest import World
from tests.simulator.support import WEBHOOK_SECRET, Receiver, Worktree, user_client, with_token

EXPECTED = {
    ("installation", "created"),
    ("installation_repositories", "added"),
    ("issues", "opened"),
    ("issues", "labeled"),
    ("issues", "unlabeled"),
    ("issues", "edited"),
    ("issues", "assigned"),
    ("issues", "unassigned"),
    ("issues", "closed"),
    ("issues", "reopened"),
    ("issue_comment", "created"),
    ("issue_comment", "edited"),
    ("issue_comment", "deleted"),
    ("sub_issues", "sub_issue_added"),
    ("pull_request", "opened"),
    ("pull_request", "labeled"),
    ("pull_request", "unlabeled"),
    ("pull_request", "edited"),
    ("pull_request", "synchronize"),
    ("pull_request", "closed"),
    ("pull_request", "reopened"),
    ("pull_request_review", "submitted"),
    ("check_run", "created"),
    ("check_run", "completed"),
    ("check_suite", "completed"),
    ("status", None),
    ("push", None),
}


def _exercise_everything(world: World) -> None:
    """Cause every kind of event the simulator knows how to send."""
    world.control.create_repo("octo", "second", ci_command="true")
    gh = world.owner_gh
    issue = gh.rest.issues.create("octo", "demo", title="goal", labels=["swarm"]).parsed_data
    gh.rest.issues.update("octo", "demo", issue.number, body="edited", assignees=["octo"])
    gh.rest.issues.remove_label("octo", "demo", issue.number, "swarm")
    gh.rest.issues.remove_assignees("octo", "demo", issue.number, assignees=["octo"])
    comment = gh.rest.issues.create_comment("octo", "demo", issue.number, body="hi").parsed_data
    gh.rest.issues.update_comment("octo", "demo", comment.id, body="hello")
    gh.rest.issues.delete_comment("octo", "demo", comment.id)
    task = gh.rest.issues.create("octo", "demo", title="task").parsed_data
    gh.rest.issues.add_sub_issue("octo", "demo", issue.number, sub_issue_id=task.id)
    gh.rest.issues.update("octo", "demo", issue.number, state="closed")
    gh.rest.issues.update("octo", "demo", issue.number, state="open")

    url = with_token(f"{world.sim.url}/octo/second.git", world.owner.token)
    work = Worktree.clone(url, world.tmp / "second")
    work.branch("feature")
    work.commit({"f.txt": "f\n"}, "feature")
    work.push("feature")
    pr = gh.rest.pulls.create("octo", "second", title="PR", head="feature", base="main").parsed_data
    gh.rest.issues.add_labels("octo", "second", pr.number, labels=["swarm:task"])
    gh.rest.issues.remove_label("octo", "second", pr.number, "swarm:task")
    gh.rest.pulls.update("octo", "second", pr.number, title="PR!")
    gh.rest.pulls.update("octo", "second", pr.number, state="closed")
    gh.rest.pulls.update("octo", "second", pr.number, state="open")
    head = work.commit({"f.txt": "f2\n"}, "more")
    work.push("feature")
    bot = world.bot_gh()
    bot.rest.pulls.create_review("octo", "second", pr.number, event="APPROVE")
    gh.rest.repos.create_commit_status("octo", "second", head, state="success", context="x")
    gh.rest.pulls.merge("octo", "second", pr.number, sha=head)


def test_every_event_is_signed_and_parses(world: World, receiver: Receiver) -> None:
    _exercise_everything(world)
    assert world.control.settle(30)
    received = receiver.events()
    seen = {(r.event, r.action) for r in received}
    assert seen >= EXPECTED, EXPECTED - seen
    guids = set()
    for delivery in received:
        headers = delivery.headers
        assert githubkit.webhooks.verify(
            WEBHOOK_SECRET, delivery.body, headers["x-hub-signature-256"]
        ), delivery.event
        parsed = githubkit.webhooks.parse(delivery.event, delivery.body)
        assert parsed is not None
        assert headers["user-agent"].startswith("GitHub-Hookshot/")
        assert headers["x-github-hook-installation-target-type"] == "integration"
        assert headers["x-github-hook-installation-target-id"] == "1"
        assert headers["content-type"] == "application/json"
        assert delivery.payload["sender"]["login"]
        assert delivery.payload["installation"]["id"] == world.repo.installation_id
        guids.add(headers["x-github-delivery"])
    assert len(guids) == len(received)  # a fresh delivery id each time

    log = world.control.deliveries()
    assert [d["guid"] for d in log] == [r.headers["x-github-delivery"] for r in received]
    assert {d["status_code"] for d in log} == {200}


def test_payload_details_the_swarm_relies_on(world: World, receiver: Receiver) -> None:
    gh = world.owner_gh
    issue = gh.rest.issues.create("octo", "demo", title="goal", labels=["swarm"]).parsed_data
    gh.rest.issues.create_comment("octo", "demo", issue.number, body="/swarm go")
    assert world.control.settle(10)
    labeled = receiver.events("issues", "labeled")[0].payload
    assert labeled["label"]["name"] == "swarm" and labeled["sender"]["login"] == "octo"
    assert labeled["repository"]["full_name"] == "octo/demo"
    comment = receiver.events("issue_comment", "created")[0].payload
    assert comment["comment"]["body"] == "/swarm go"
    assert comment["issue"]["number"] == issue.number
    first_event = receiver.events()[0]
    assert (first_event.event, first_event.action) == ("installation", "created")


def test_redeliver_keeps_the_delivery_id(world: World, receiver: Receiver) -> None:
    world.owner_gh.rest.issues.create("octo", "demo", title="once")
    assert world.control.settle(10)
    original = world.control.deliveries(event="issues")[0]
    world.control.redeliver(original["id"])
    assert world.control.settle(10)
    copies = [
        r for r in receiver.events("issues") if r.headers["x-github-delivery"] == original["guid"]
    ]
    assert len(copies) == 2 and copies[0].body == copies[1].body
    assert world.control.deliveries()[-1]["redelivery"] is True


def test_failed_deliveries_are_logged_not_retried(world: World, receiver: Receiver) -> None:
    receiver.answer_status = 500
    world.owner_gh.rest.issues.create("octo", "demo", title="lost")
    assert world.control.settle(10)
    failed = world.control.deliveries(event="issues")
    assert [d["status_code"] for d in failed] == [500]
    assert len(receiver.events("issues")) == 1

    world.control.set_webhook("http://127.0.0.1:9/nowhere", WEBHOOK_SECRET)
    world.owner_gh.rest.issues.create("octo", "demo", title="unreachable")
    assert world.control.settle(15)
    unreachable = world.control.deliveries(event="issues")[-1]
    assert unreachable["status_code"] is None and unreachable["error"]


@pytest.fixture
def quiet_sim(tmp_path: Path, app_keys: tuple[str, str]):  # type: ignore[no-untyped-def]
    config = SimulatorConfig(data_dir=tmp_path / "quiet", app_public_key_pem=app_keys[1])
    with start_simulator(config) as running:
        yield running


def test_nothing_is_sent_before_a_webhook_url_is_set(quiet_sim, receiver: Receiver) -> None:  # type: ignore[no-untyped-def]
    with SimulatorControl(quiet_sim.url) as control:
        owner = control.create_user("octo")
        control.create_repo("octo", "demo")
        gh = user_client(quiet_sim.url, owner.token)
        gh.rest.issues.create("octo", "demo", title="before")
        assert control.settle(10) and control.deliveries() == []
        control.set_webhook(receiver.url, WEBHOOK_SECRET)
        gh.rest.issues.create("octo", "demo", title="after")
        assert control.settle(10)
    titles = [r.payload["issue"]["title"] for r in receiver.events("issues")]
    assert titles == ["after"]
