"""Each timeline action against the real simulator (no swarm runs here: nothing reacts)."""

from __future__ import annotations

import base64
import inspect
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.demo.actions import ActionError, perform
from app.demo.run import Player
from app.demo.scenario import Entry, parse_scenario
from app.demo.stack import LocalStack
from app.simulator.github.control import SimulatorControl

SCENARIO = """\
repository:
  name: ada/greet
  files: {greet.py: "def greet(name):\\n    return f'Hello, {name}!'\\n"}
  config: "max_agents: 1\\n"
  collaborators: {bea: write}
  ci_branches: [main]
goal: {title: Say goodbye too, body: "A farewell helper.", labels: [swarm, enhancement]}
model: {agents: []}
"""


@pytest.fixture
def player(tmp_path: Path) -> Iterator[Player]:
    loaded = parse_scenario(SCENARIO)
    with LocalStack(root=tmp_path, script=loaded.model_script()).start(start_swarm=False) as st:
        player = Player(st, loaded)
        player.seed()
        yield player


def do(player: Player, action: dict[str, object], delivery: dict[str, object] | None = None) -> str:
    entry = Entry.model_validate({"when": "start", "do": action})
    return perform(player.stage, entry, delivery)  # type: ignore[arg-type]


def text_at(player: Player, ref: str, path: str) -> str:
    content = player.client().rest.repos.get_content("ada", "greet", path, ref=ref).json()
    return base64.b64decode(content["content"]).decode()


def test_the_repository_is_seeded_with_its_files_config_and_people(player: Player) -> None:
    octo = player.client()
    assert text_at(player, "main", ".github/swarm.yml") == "max_agents: 1\n"
    assert "Hello" in text_at(player, "main", "greet.py")
    goal = octo.rest.issues.get("ada", "greet", player.stage.goal).parsed_data
    assert goal.title == "Say goodbye too" and goal.user and goal.user.login == "ada"
    assert sorted(label.name for label in goal.labels) == ["enhancement", "swarm"]  # type: ignore[union-attr]
    permission = octo.rest.repos.get_collaborator_permission_level("ada", "greet", "bea")
    assert permission.parsed_data.permission == "write"
    # ci_branches goes to the simulator where its control client takes it; else a warning.
    if "ci_branches" in inspect.signature(SimulatorControl.create_repo).parameters:
        assert player.warnings == []
    else:
        assert player.warnings[0].startswith("repository.ci_branches is ignored")

    # And an action that cannot be done says why.
    with pytest.raises(ActionError, match=r"no pull request has a title matching /nothing/"):
        do(player, {"comment": {"pull_request": "nothing", "body": "x"}})
    with pytest.raises(ActionError, match=r"GitHub answered 404"):
        do(player, {"comment": {"number": 99, "body": "x"}})
    with pytest.raises(ActionError, match=r"names no issue"):
        do(player, {"comment": {"trigger": True, "body": "x"}}, {"id": 3, "event": "push"})


def test_people_push_comment_review_label_and_inject_faults(player: Player) -> None:
    pushed = do(
        player,
        {
            "push": {
                "branch": "bye",
                "user": "bea",
                "files": {"bye.py": "x = 1\n"},
                "message": "Add bye",
            }
        },
    )
    assert pushed.startswith("bea pushed ") and pushed.endswith(" to bye")
    bea = player.client("bea")
    pr = bea.rest.pulls.create("ada", "greet", title="Add bye", head="bye", base="main").parsed_data
    head = bea.rest.repos.get_commit("ada", "greet", "bye").parsed_data
    assert head.commit.author and head.commit.author.name == "bea"
    assert head.commit.message == "Add bye"

    # A push to a pull request named by its title moves its head, and can delete files.
    moved = do(
        player,
        {"push": {"pull_request": "^Add bye$", "files": {"b.txt": "b\n"}, "delete": ["bye.py"]}},
    )
    assert moved.startswith("ada pushed ") and moved.endswith(" to bye")
    after = player.client().rest.pulls.get("ada", "greet", pr.number).parsed_data
    assert after.head.sha != pr.head.sha and moved.split()[2] == after.head.sha[:10]
    files = player.client().rest.pulls.list_files("ada", "greet", pr.number).parsed_data
    assert sorted(f.filename for f in files) == ["b.txt"]

    # Issues and pull requests by title, by number, the goal, and the trigger's.
    assert do(player, {"comment": {"pull_request": "bye", "body": "Nice"}}) == (
        f"ada commented on #{pr.number}"
    )
    trigger = {
        "id": 12,
        "event": "pull_request",
        "payload": {"pull_request": {"number": pr.number}},
    }
    assert do(player, {"comment": {"trigger": True, "body": "Seen", "user": "bea"}}, trigger) == (
        f"bea commented on #{pr.number}"
    )
    assert do(player, {"comment": {"issue": "goodbye", "body": "Any news?"}}) == (
        f"ada commented on #{player.stage.goal}"
    )
    bodies = [
        c.body
        for c in player.client().rest.issues.list_comments("ada", "greet", pr.number).parsed_data
    ]
    assert bodies == ["Nice", "Seen"]
    assert do(
        player, {"review": {"number": pr.number, "state": "REQUEST_CHANGES", "body": "Keep bye.py"}}
    ) == (f"ada reviewed #{pr.number}: REQUEST_CHANGES")
    reviews = player.client().rest.pulls.list_reviews("ada", "greet", pr.number).parsed_data
    assert [(r.user.login, r.state, r.body) for r in reviews if r.user] == [
        ("ada", "CHANGES_REQUESTED", "Keep bye.py")
    ]
    do(player, {"label": {"goal": True, "labels": ["bug", "question"]}})
    do(player, {"unlabel": {"goal": True, "labels": ["bug", "enhancement"]}})
    goal = player.client().rest.issues.get("ada", "greet", player.stage.goal).parsed_data
    assert sorted(label.name for label in goal.labels) == ["question", "swarm"]  # type: ignore[union-attr]

    assert do(player, {"fault": {"path_regex": "/never$", "status": 503, "count": 2}}).startswith(
        "fault 1: the next 2 /never$ answer 503"
    )
    assert player.stack.control.faults()[0]["remaining"] == 2
