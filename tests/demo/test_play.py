"""A scenario played end to end on the real stack: the simulator, the scripted model server and
the swarm, with people acting on the webhooks the simulator sends."""

from __future__ import annotations

import base64
from pathlib import Path

from app.demo.run import Player
from app.demo.scenario import parse_scenario
from app.demo.stack import LocalStack

SCENARIO = r"""
name: farewell
repository:
  name: ada/greet
  files:
    greet.py: |
      def greet(name: str) -> str:
          return f"Hello, {name}!"
    test_greet.py: |
      from greet import greet


      def test_greet() -> None:
          assert greet("Ada") == "Hello, Ada!"
  collaborators: {bea: write}
goal:
  title: Say goodbye too
  body: greet says hello; it should say goodbye as well.
model:
  agents:
    - name: planner
      match: the planner in Swarm
      turns:
        - tool_calls:
            - name: submit_plan
              arguments:
                summary: One helper.
                tasks:
                  - {key: bye, title: Add bye, spec: "Add bye.py with bye(name).",
                     acceptance: [tests pass], files: [bye.py], size: S}
        - tool_calls: [{name: finish, arguments: {summary: Planned one task.}}]
    - name: judge # for the merge gate, where it runs: approves what CI found green
      match: the judge in Swarm
      turns:
        - tool_calls:
            - name: submit_verdict
              arguments:
                decision: approve
                criteria: [{criterion: tests pass, met: true, evidence: "pytest: 1 passed"}]
                summary: bye.py is there and the tests pass.
        - tool_calls: [{name: finish, arguments: {summary: Approved.}}]
    - name: worker
      match: 'Add bye \(#'
      turns:
        - tool_calls:
            - name: write_file
              arguments: {path: bye.py, content: "def bye(name: str) -> str:\n    return name\n"}
        - tool_calls: [{name: finish, arguments: {summary: Added bye.}}]
timeline:
  - name: bea cheers once the pull request opens
    when: {event: pull_request.opened, match: {title: "^Add bye$", user.login: 'swarm\[bot\]'}}
    do: {comment: {goal: true, user: bea, body: "A pull request is open: thanks!"}}
  - name: bea pushes her notes
    when: {event: issue_comment.created, match: {comment.user.login: ^bea$}}
    do: {push: {branch: notes, user: bea, files: {NOTES.md: "say bye\n"}, message: Notes}}
  - name: a fault armed at the start
    when: start
    do: {fault: {path_regex: /never-called$, status: 503}}
  - name: never
    when: {event: issue_comment.created, match: {comment.body: "^nobody says this$"}}
    do: {comment: {goal: true, body: unreachable}}
expect:
  pull_requests: 1
  tasks: 2 # there is one: this expectation fails
"""


def test_a_scenario_fires_its_timeline_on_webhooks_and_reports_a_missed_expectation(
    tmp_path: Path,
) -> None:
    scenario = parse_scenario(SCENARIO)
    with LocalStack(root=tmp_path, script=scenario.model_script()) as stack:
        player = Player(stack, scenario)
        goal = player.seed()
        player.play(timeout=300, every=0.05)
        result = player.collect()

        # The comment was made by bea, on the goal, once the pull request had opened.
        octo = player.client()
        comments = octo.rest.issues.list_comments("ada", "greet", goal).parsed_data
        cheers = [c for c in comments if c.body == "A pull request is open: thanks!"]
        assert len(cheers) == 1 and cheers[0].user and cheers[0].user.login == "bea"
        timeline = {entry["name"]: entry for entry in result.timeline}
        cheered = timeline["bea cheers once the pull request opens"]
        assert cheered["fired"] and cheered["event"] == "pull_request.opened"
        assert cheered["did"] == f"bea commented on #{goal}" and cheered["error"] is None
        seen = stack.control.deliveries(since=cheered["delivery"] - 1)
        assert seen[0]["event"] == "pull_request" and seen[0]["payload"]["action"] == "opened"
        pr = seen[0]["payload"]["pull_request"]
        assert [p["number"] for p in result.pull_requests] == [pr["number"]]
        # ... and its own webhook fired the next entry: bea's push, over git, with her token.
        pushed = timeline["bea pushes her notes"]
        assert pushed["fired"] and pushed["event"] == "issue_comment.created"
        assert pushed["delivery"] > cheered["delivery"]
        notes = octo.rest.repos.get_content("ada", "greet", "NOTES.md", ref="notes").json()
        assert base64.b64decode(notes["content"]).decode() == "say bye\n"
        commit = octo.rest.repos.get_commit("ada", "greet", "notes").parsed_data
        assert commit.commit.author and commit.commit.author.name == "bea"
        receive = [r for r in stack.control.requests() if r["path"].endswith("git-receive-pack")]
        assert [r["actor"] for r in receive if r["actor"] != "swarm[bot]"] == ["bea"]
        assert timeline["a fault armed at the start"]["event"] == "start"
        assert [f["path_regex"] for f in stack.control.faults()] == ["/never-called$"]
        assert timeline["never"]["fired"] is False

    assert result.scenario == "farewell"
    assert [(o.what, o.ok) for o in result.expectations] == [
        ("tasks", False),
        ("pull_requests", True),
    ]
    assert result.ok is False
    assert result.failures() == ["expected tasks: 2, got 1"]
    report = result.as_json()
    assert report["ok"] is False and report["scenario"] == "farewell"
    assert len(report["timeline"]) == 4
