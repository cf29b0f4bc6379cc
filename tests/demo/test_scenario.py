"""Scenario files: what they may say, and the one-line error a mistake gets (no stack here)."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from app.demo.scenario import BUILTIN, ScenarioError, load_builtin, load_scenario, parse_scenario
from app.demo.script import demo_script

MINIMAL = """\
repository: {name: ada/greet, files: {greet.py: "x = 1\\n"}}
goal: {title: Add a farewell}
model: {agents: [{match: planner, turns: [{text: hi}]}]}
"""


def scenario(extra: str = "", base: str = MINIMAL) -> str:
    return base + textwrap.dedent(extra)


def error_of(text: str, path: Path | None = None) -> str:
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(text, path)
    return str(caught.value)


def test_the_builtin_scenario_is_the_demo() -> None:
    builtin = load_builtin()
    assert builtin.name == "textkit" and builtin.path == BUILTIN
    assert builtin.spec.repository.name == "octo/textkit"
    assert builtin.source_dir == (BUILTIN.parent.parent / "sample").resolve()
    assert builtin.spec.goal.labels == ["swarm"] and builtin.spec.maintainer == "octo"
    assert builtin.model_script() == demo_script()
    assert builtin.spec.expect is not None and builtin.spec.expect.goal_state == "done"


def test_defaults_a_minimal_scenario_gets() -> None:
    loaded = parse_scenario(MINIMAL)
    spec = loaded.spec
    assert loaded.name == "scenario" and spec.timeline == [] and spec.expect is None
    assert spec.goal.labels == ["swarm"] and spec.goal.body == ""
    assert spec.maintainer == "ada" and spec.people() == {"ada": "admin"}
    assert spec.repository.ci_command is None
    assert spec.repository.ci_branches == ["main", "swarm/gate/**"]


def test_a_full_timeline_parses(tmp_path: Path) -> None:
    (tmp_path / "project").mkdir()
    path = tmp_path / "full.yaml"
    path.write_text(
        scenario(
            """\
            timeline:
              - when: start
                do: {fault: {path_regex: "/pulls$", status: 502, method: POST}}
              - name: bea nudges
                when: {event: pull_request.opened, match: {title: "^Add", draft: false}}
                do: {comment: {trigger: true, body: "Thanks", user: bea}}
              - when: check_run.completed
                do: {review: {pull_request: farewell, state: REQUEST_CHANGES, body: "Red."}}
              - when: {event: push, match: {ref: refs/heads/main}}
                do: {push: {branch: notes, from: main, files: {a.md: "a"}, delete: [b.md]}}
              - when: {event: issues.labeled}
                do: {unlabel: {issue: "^Add", labels: [swarm]}}
            expect: {goal_state: done, pull_requests: 1, merged: 1, checks: success}
            """,
            base=MINIMAL.replace("files:", "source: project, collaborators: {bea: write}, files:"),
        )
    )
    loaded = load_scenario(path)
    spec = loaded.spec
    assert loaded.name == "full" and loaded.source_dir == tmp_path / "project"
    assert [e.do.kind for e in spec.timeline] == ["fault", "comment", "review", "push", "unlabel"]
    assert spec.timeline[0].when.event == "start"
    assert spec.timeline[1].label(1) == "bea nudges"
    assert spec.timeline[2].label(2) == "3: review on check_run.completed"
    push = spec.timeline[3].do.push
    assert push is not None and push.from_ == "main" and push.delete == ["b.md"]
    assert spec.people() == {"ada": "admin", "bea": "write"}


def test_json_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    path.write_text(
        json.dumps(
            {
                "name": "in json",
                "repository": {"name": "ada/greet"},
                "goal": {"title": "T", "maintainer": "bea"},
                "model": [{"match": "planner", "turns": []}],
            }
        )
    )
    loaded = load_scenario(path)
    assert loaded.name == "in json"
    assert loaded.model_script() == {"agents": [{"match": "planner", "turns": []}]}
    assert loaded.spec.people() == {"ada": "admin", "bea": "maintain"}


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ("expect: {mergd: 3}\n", "`expect.mergd` is not a known key"),
        ("colour: red\n", "`colour` is not a known key"),
        (
            "timeline: [{when: {event: pull_request.opened, match: {title: '(unclosed'}},"
            " do: {comment: {goal: true, body: x}}}]\n",
            "`timeline[0].when.match`: '(unclosed' is not a valid regex",
        ),
        (
            "timeline: [{when: {event: pull_request.opened, match: {'pull_request..title': x}},"
            " do: {comment: {goal: true, body: x}}}]\n",
            "`timeline[0].when.match`: 'pull_request..title' is not a dotted payload path",
        ),
        (
            "timeline: [{when: {event: pull_request.opened, match: {title: [a, b]}},"
            " do: {comment: {goal: true, body: x}}}]\n",
            "`timeline[0].when.match.title",
        ),
        (
            "timeline: [{when: {event: pull_request.opened, match: 'title'},"
            " do: {comment: {goal: true, body: x}}}]\n",
            "`timeline[0].when.match`: Input should be a valid dictionary",
        ),
        (
            "timeline: [{when: Pull Request, do: {comment: {goal: true, body: x}}}]\n",
            "`timeline[0].when.event`: 'Pull Request' is not an event name",
        ),
        (
            "timeline: [{when: {event: start, match: {a: b}},"
            " do: {comment: {goal: true, body: x}}}]\n",
            "`timeline[0].when`: `start` takes no match",
        ),
        ("timeline: [{when: start}]\n", "`timeline[0].do` is required"),
        (
            "timeline: [{when: start, do: {}}]\n",
            "`timeline[0].do`: give exactly one action (push, comment, review",
        ),
        (
            "timeline: [{when: start, do: {comment: {goal: true, body: x}, label: {goal: true,"
            " labels: [a]}}}]\n",
            "`timeline[0].do`: give exactly one action",
        ),
        (
            "timeline: [{when: start, do: {shout: {goal: true}}}]\n",
            "`timeline[0].do.shout` is not a known key",
        ),
        (
            "timeline: [{when: start, do: {comment: {body: x}}}]\n",
            "`timeline[0].do.comment`: name one target: goal, trigger, number, issue or "
            "pull_request",
        ),
        (
            "timeline: [{when: start, do: {comment: {goal: true, number: 3, body: x}}}]\n",
            "(given: goal, number)",
        ),
        (
            "timeline: [{when: start, do: {review: {goal: true, state: APPROVE}}}]\n",
            "`timeline[0].do.review`: a review is on a pull request: use pull_request, number",
        ),
        (
            "timeline: [{when: start, do: {review: {issue: x, state: APPROVE}}}]\n",
            "`timeline[0].do.review`: a review is on a pull request",
        ),
        (
            "timeline: [{when: start, do: {review: {number: 2, state: REQUEST_CHANGES}}}]\n",
            "a REQUEST_CHANGES review needs a body",
        ),
        (
            "timeline: [{when: start, do: {review: {number: 2, state: LGTM}}}]\n",
            "`timeline[0].do.review.state`: Input should be 'APPROVE', 'REQUEST_CHANGES' or "
            "'COMMENT'",
        ),
        (
            "timeline: [{when: start, do: {push: {branch: x}}}]\n",
            "`timeline[0].do.push`: a push needs files or delete",
        ),
        (
            "timeline: [{when: start, do: {push: {files: {a: b}}}}]\n",
            "`timeline[0].do.push`: name one of branch, pull_request or trigger",
        ),
        (
            "timeline: [{when: start, do: {push: {branch: x, files: {../a: b}}}}]\n",
            "`timeline[0].do.push.files`: '../a' must be a relative path inside the repository",
        ),
        (
            "timeline: [{when: start, do: {fault: {path_regex: '[', status: 500}}}]\n",
            "`timeline[0].do.fault.path_regex`: '[' is not a valid regex",
        ),
        (
            "timeline: [{when: start, do: {fault: {path_regex: x, status: 200}}}]\n",
            "`timeline[0].do.fault.status`: Input should be greater than or equal to 400",
        ),
        (
            "timeline: [{when: start, do: {comment: {goal: true, body: x, user: zed}}}]\n",
            "`timeline[0].do.comment.user`: 'zed' is not one of the scenario's people (ada)",
        ),
        ("expect: {goal_state: Done!}\n", "`expect.goal_state`: String should match pattern"),
        ("expect: {pull_requests: -1}\n", "`expect.pull_requests`: Input should be greater"),
        ("timeout: 0\n", "`timeout`: Input should be greater than 0"),
    ],
)
def test_a_mistake_names_the_key_and_why(extra: str, message: str) -> None:
    error = error_of(scenario(extra))
    assert error.startswith("scenario: ") and message in error, error
    assert "\n" not in error


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("goal: {title: T}\nmodel: []\n", "`repository` is required"),
        (
            "repository: {name: greet}\ngoal: {title: T}\nmodel: []\n",
            "`repository.name`: 'greet' is not owner/name",
        ),
        (
            "repository: {name: a/b, files: {/etc/passwd: x}}\ngoal: {title: T}\nmodel: []\n",
            "`repository.files`: '/etc/passwd' must be a relative path",
        ),
        (
            "repository: {name: a/b, collaborators: {bea: owner}}\ngoal: {title: T}\nmodel: []\n",
            "`repository.collaborators.bea`: Input should be 'admin'",
        ),
        ("repository: {name: a/b}\ngoal: {title: ''}\nmodel: []\n", "`goal.title`: String should"),
        (
            "repository: {name: a/b}\ngoal: {title: T}\nmodel: {agents: [{turns: []}]}\n",
            "`model`: agents[0].match: a regex string is required",
        ),
        ("repository: {name: a/b}\ngoal: {title: T}\nmodel: 3\n", "`model`: "),
        ("- just\n- a list\n", "a scenario is a mapping"),
        ("repository: {name: a/b\n", "not valid YAML at line"),
    ],
)
def test_a_mistake_elsewhere_names_it_too(text: str, message: str) -> None:
    error = error_of(text)
    assert message in error, error


def test_a_source_is_read_relative_to_the_file_and_must_exist(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(MINIMAL.replace("files:", "source: nowhere, files:"))
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    assert str(caught.value) == (
        f"{path}: `repository.source`: {tmp_path / 'nowhere'} is not a directory"
    )


def test_an_unreadable_file_and_bad_json_say_so(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="cannot read it"):
        load_scenario(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.json"
    bad.write_text("{\n 'single': 1}")
    with pytest.raises(ScenarioError, match=r"bad.json: not valid JSON at line 2"):
        load_scenario(bad)


def test_unknown_event_names_are_fine() -> None:
    text = scenario(
        """\
        timeline:
          - when: {event: deployment_status.created, match: {deployment_status.state: success}}
            do: {comment: {goal: true, body: deployed}}
        """
    )
    assert parse_scenario(text).spec.timeline[0].when.event == "deployment_status.created"


def test_at_start_the_trigger_is_the_goal_not_a_pull_request() -> None:
    text = scenario("timeline: [{when: start, do: {push: {trigger: true, files: {a: b}}}}]\n")
    assert "`timeline[0]`: at `start` the trigger is the goal issue" in error_of(text)
    fine = scenario("timeline: [{when: start, do: {comment: {trigger: true, body: hi}}}]\n")
    assert parse_scenario(fine).spec.timeline[0].do.comment is not None
